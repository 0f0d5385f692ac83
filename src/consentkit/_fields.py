"""The field toolkit of the frozen models: attrs converters that normalise and validators that check.

Every model of the library (practice and client in :mod:`consentkit.models`, state rules in
:mod:`consentkit.rules`, signatures in :mod:`consentkit.signing`, session checks in
:mod:`consentkit.lifecycle`) builds its fields from these. A converter never fails: a value it
cannot read is passed on unchanged for the validator to report. A validator raises
:class:`~consentkit.errors.FieldValueError` naming the field, never the value, so the loaders can
say ``clients.csv row 14, emergency_contact.phone: not a valid phone number``.

No I/O, no clock, no locale.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import attrs

from .errors import FieldValueError

__all__ = [
    "Validator",
    "a_date",
    "any_text",
    "at_least",
    "aware_time",
    "blank_to_none",
    "each_one_of",
    "enum_value",
    "filled_text",
    "flag",
    "instance_of",
    "items_of",
    "member_of",
    "no_delimiters",
    "non_negative",
    "one_of",
    "redacted_repr",
    "strip",
    "strip_all",
    "strip_upper",
    "text",
    "texts",
    "to_aware_utc",
    "to_bool",
    "to_date",
    "to_int",
    "to_known_date",
    "to_optional_date",
    "to_optional_int",
    "to_tuple",
    "to_tuple_or_empty",
    "valid_date",
]

Validator = Callable[[object, "attrs.Attribute[Any]", object], None]

# --- converters ---------------------------------------------------------------------------------


def strip(value: object) -> object:
    """Text without surrounding white space."""
    return value.strip() if isinstance(value, str) else value


def blank_to_none(value: object) -> object:
    """Stripped text; empty text is ``None`` (an empty CSV cell is an absent value)."""
    value = strip(value)
    return None if value == "" else value


def strip_upper(value: object) -> object:
    """Stripped text in upper case (state and currency codes)."""
    return value.strip().upper() if isinstance(value, str) else value


def to_tuple(value: object) -> object:
    """A list as a tuple."""
    return tuple(value) if isinstance(value, list | tuple) else value


def to_tuple_or_empty(value: object) -> object:
    """A list as a tuple; ``None`` is the empty tuple."""
    return () if value is None else to_tuple(value)


def strip_all(value: object) -> object:
    """A list of texts as a tuple of stripped texts."""
    value = to_tuple(value)
    return tuple(strip(item) for item in value) if isinstance(value, tuple) else value


def to_date(value: object) -> object:
    """An ISO date (``2026-11-27``) as a :class:`~datetime.date`."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return value
    return value


def to_optional_date(value: object) -> object:
    """:func:`to_date`; ``None`` and empty text are ``None``."""
    return None if value in (None, "") else to_date(value)


def to_known_date(value: object) -> object:
    """:func:`to_date`; the text ``unknown`` (any case) is ``None``."""
    if isinstance(value, str) and value.strip().lower() == "unknown":
        return None
    return to_date(value)


def to_aware_utc(value: object) -> object:
    """An ISO 8601 time (``Z`` allowed) as a :class:`~datetime.datetime` in UTC when it carries a
    time zone (one without stays as it is, for the validator to refuse)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def to_bool(value: object) -> object:
    """``true``/``yes``/``y``/``1`` and ``false``/``no``/``n``/``0`` (any case) as booleans."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "yes", "y", "1"}:
            return True
        if lowered in {"false", "no", "n", "0"}:
            return False
    return value


_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


def to_int(value: object) -> object:
    """Text of ASCII digits as an int (``str.isdigit`` would accept ``²``, which ``int`` refuses)."""
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        return int(value.strip())
    return value


def to_optional_int(value: object) -> object:
    """:func:`to_int`; ``None`` and empty text are ``None``."""
    return None if value in (None, "") else to_int(value)


def enum_value(enum_type: type[enum.Enum], value: object) -> object:
    """The member of ``enum_type`` whose value ``value`` names, in any case, with ``-``, ``_`` or
    spaces between words."""
    if isinstance(value, str):
        key = value.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return enum_type(key)
        except ValueError:
            return value
    return value


# --- validators ---------------------------------------------------------------------------------

_DELIMITERS = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")


def no_delimiters(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Text must not hold template delimiters.

    Text is filled into templates as data and never evaluated, but a value holding ``{{`` or
    ``{%`` would be indistinguishable from a tag the template failed to fill.
    """
    if isinstance(value, str) and _DELIMITERS.search(value):
        raise FieldValueError(attribute.name, "must not contain template delimiters such as {{ or {%")


def text(*, optional: bool = False, template_safe: bool = False) -> Validator:
    """Non-empty text (``must be text``, ``must not be empty``); ``optional`` allows ``None``;
    ``template_safe`` also refuses template delimiters (see :func:`no_delimiters`)."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str):
            raise FieldValueError(attribute.name, "must be text")
        if not value:
            raise FieldValueError(attribute.name, "must not be empty")
        if template_safe:
            no_delimiters(instance, attribute, value)

    return validate


def filled_text(*, optional: bool = False) -> Validator:
    """Text that is not empty, in one message (``must be non-empty text``); ``optional`` allows
    ``None``."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str) or not value:
            raise FieldValueError(attribute.name, "must be non-empty text")

    return validate


def any_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Text, possibly empty."""
    if not isinstance(value, str):
        raise FieldValueError(attribute.name, "must be text")


def texts(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A list of non-empty texts; a bad item is named by its 1-based position."""
    if not isinstance(value, tuple):
        raise FieldValueError(attribute.name, "must be a list")
    for index, item in enumerate(value, start=1):
        if not isinstance(item, str) or not item:
            raise FieldValueError(f"{attribute.name}.{index}", "must be non-empty text")


def flag(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """``True`` or ``False``."""
    if not isinstance(value, bool):
        raise FieldValueError(attribute.name, "must be true or false")


def _is_whole(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def at_least(minimum: int, *, optional: bool = False) -> Validator:
    """A whole number of ``minimum`` or more; ``optional`` allows ``None``."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not _is_whole(value, minimum):
            raise FieldValueError(attribute.name, f"must be a whole number of {minimum} or more")

    return validate


def non_negative(*, optional: bool = False) -> Validator:
    """A whole number, 0 or more (``must be a whole number, 0 or more``); ``optional`` allows
    ``None``."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not _is_whole(value, 0):
            raise FieldValueError(attribute.name, "must be a whole number, 0 or more")

    return validate


def one_of(choices: tuple[str, ...], *, optional: bool = False) -> Validator:
    """One of ``choices``; ``optional`` allows ``None``."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if value not in choices:
            raise FieldValueError(attribute.name, "must be one of: " + ", ".join(choices))

    return validate


def each_one_of(choices: tuple[str, ...], *, unique: bool = False) -> Validator:
    """A list whose every item is one of ``choices`` (``unique``: no repeats)."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple):
            raise FieldValueError(attribute.name, "must be a list")
        for index, item in enumerate(value, start=1):
            if item not in choices:
                raise FieldValueError(f"{attribute.name}.{index}", "must be one of: " + ", ".join(choices))
        if unique and len(set(value)) != len(value):
            raise FieldValueError(attribute.name, "lists an item twice")

    return validate


def member_of(enum_type: type[enum.Enum], *, optional: bool = False) -> Validator:
    """A member of ``enum_type``; ``optional`` allows ``None``."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, enum_type):
            raise FieldValueError(attribute.name, "must be one of: " + ", ".join(m.value for m in enum_type))

    return validate


def items_of(cls: type) -> Validator:
    """A tuple of ``cls`` instances."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple) or not all(isinstance(item, cls) for item in value):
            raise FieldValueError(attribute.name, f"must be a list of {cls.__name__} entries")

    return validate


def valid_date(*, optional: bool = False) -> Validator:
    """A date (``not a valid date (use YYYY-MM-DD)``); ``optional`` allows ``None``."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, date):
            raise FieldValueError(attribute.name, "not a valid date (use YYYY-MM-DD)")

    return validate


def a_date(*, unknown_allowed: bool) -> Validator:
    """A date, not a date and time (``must be a date (YYYY-MM-DD)``); with ``unknown_allowed``,
    ``None`` too (read from ``"unknown"``, see :func:`to_known_date`)."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and unknown_allowed:
            return
        if not isinstance(value, date) or isinstance(value, datetime):
            allowed = 'a date (YYYY-MM-DD) or "unknown"' if unknown_allowed else "a date (YYYY-MM-DD)"
            raise FieldValueError(attribute.name, f"must be {allowed}")

    return validate


def aware_time(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A date and time with a time zone."""
    if not isinstance(value, datetime):
        raise FieldValueError(attribute.name, "not a date and time (ISO 8601, e.g. 2026-11-27T15:00:00Z)")
    if value.tzinfo is None:
        raise FieldValueError(attribute.name, "must include a time zone (e.g. Z or -06:00)")


def instance_of(cls: type, reason: str) -> Validator:
    """An instance of ``cls``; otherwise ``reason``."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            raise FieldValueError(attribute.name, reason)

    return validate


def redacted_repr(*shown: str) -> Callable[[object], str]:
    """A ``__repr__`` that shows only the named fields, for records that hold personal data.

    ``repr(client)`` ends up in log lines, tracebacks and debugger output of the practice software
    that imports the library; it shows ``Client(id='C-1001', ...)`` and never a name, date of
    birth, phone number or address.
    """

    def __repr__(self: object) -> str:
        parts = [f"{name}={getattr(self, name)!r}" for name in shown]
        return f"{type(self).__name__}({', '.join([*parts, '...'])})"

    return __repr__
