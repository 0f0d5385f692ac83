"""cattrs at the edges: outside data (TOML, JSON, CSV rows) shaped into the frozen models.

The models' own converters and validators normalise and check leaf values and name the field on
failure (:mod:`consentkit._fields`); cattrs only shapes the nesting and refuses unknown keys.
:func:`problems` flattens a cattrs error tree into ``(dotted path, reason)`` pairs and
:func:`input_error` turns them into one :class:`~consentkit.errors.InputError`, so every loader
reports ``clients.csv row 14, emergency_contact.phone: not a valid phone number`` alike.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from .errors import FieldValueError, InputError, Problem

__all__ = ["STRUCTURE_ERRORS", "field_problems", "input_error", "leaf_converter", "passthrough", "problems"]

#: What :meth:`cattrs.Converter.structure` raises for bad data.
STRUCTURE_ERRORS = (ClassValidationError, ForbiddenExtraKeysError, FieldValueError, ValueError, TypeError)

#: The reason given for a table where a value was expected, or the other way round.
WRONG_SHAPE = "has the wrong shape (expected a table/object or a list)"


def passthrough(value: Any, _type: Any) -> Any:
    """A structure hook that hands the value on as it is (to the model's converter)."""
    return value


def leaf_converter(
    leaves: Iterable[Any] = (), *, predicates: Iterable[Callable[[Any], bool]] = ()
) -> cattrs.Converter:
    """A strict converter (unknown keys refused, every problem collected) that passes the values
    of the ``leaves`` types, and of types matching ``predicates``, to the models unchanged."""
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    for leaf in leaves:
        converter.register_structure_hook(leaf, passthrough)
    for predicate in predicates:
        converter.register_structure_hook_func(predicate, passthrough)
    return converter


def _never_quoted(exc: BaseException) -> str:
    # The text of any other error may quote the value (int(), attrs' own validators): never show it.
    return "has an invalid value"


def problems(
    exc: BaseException,
    path: tuple[str, ...] = (),
    *,
    wrong_shape: str = WRONG_SHAPE,
    other: Callable[[BaseException], str] = _never_quoted,
) -> Iterator[tuple[str, str]]:
    """Flatten a cattrs error tree into ``(dotted path, reason)`` pairs (list items count from 1).

    Args:
        exc: what the converter raised.
        path: the path of the value that was structured.
        wrong_shape: the reason for a value of the wrong shape.
        other: the reason for any other error (by default a fixed text: it may quote the value).
    """
    if isinstance(exc, ForbiddenExtraKeysError):
        for key in sorted(exc.extra_fields):
            yield ".".join((*path, key)), "unknown field"
    elif isinstance(exc, ClassValidationError):
        with_notes, without_notes = exc.group_exceptions()
        for sub, note in with_notes:
            yield from problems(sub, (*path, note.name), wrong_shape=wrong_shape, other=other)
        for sub in without_notes:
            yield from problems(sub, path, wrong_shape=wrong_shape, other=other)
    elif isinstance(exc, IterableValidationError):
        with_index, without_index = exc.group_exceptions()
        for sub, index_note in with_index:
            index = index_note.index
            label = str(index + 1) if isinstance(index, int) else str(index)
            yield from problems(sub, (*path, label), wrong_shape=wrong_shape, other=other)
        for sub in without_index:
            yield from problems(sub, path, wrong_shape=wrong_shape, other=other)
    elif isinstance(exc, ExceptionGroup):
        for sub in exc.exceptions:
            yield from problems(sub, path, wrong_shape=wrong_shape, other=other)
    elif isinstance(exc, FieldValueError):
        # Raised from a model's __init__: its field is relative to the class at ``path``; when the
        # error surfaced while cattrs structured that very attribute, do not repeat the name.
        if path and path[-1] == exc.field:
            yield ".".join(path), exc.reason
        else:
            yield ".".join((*path, exc.field)), exc.reason
    elif isinstance(exc, KeyError):
        yield ".".join(path), "required field is missing"
    elif isinstance(exc, TypeError) and "missing" in str(exc) and "required" in str(exc):
        missing = str(exc).split("'")
        name = missing[1] if len(missing) > 1 else "?"
        yield ".".join((*path, name)), "required field is missing"
    elif isinstance(exc, TypeError | AttributeError):
        yield ".".join(path), wrong_shape
    else:
        yield ".".join(path), other(exc)


def _models_in(hint: object, leaves: frozenset[type]) -> list[type]:
    """The attrs classes a type hint names (``Address``, ``tuple[Guardian, ...]``), leaves aside."""
    if isinstance(hint, type) and attrs.has(hint):
        return [] if hint in leaves else [hint]
    return [model for arg in typing.get_args(hint) for model in _models_in(arg, leaves)]


def field_problems(
    cls: type, data: object, path: tuple[str, ...] = (), *, leaves: frozenset[type] = frozenset()
) -> Iterator[tuple[str, str]]:
    """Check every plain field of ``data`` against the converter and validator of its field in the
    attrs class ``cls``, descending into nested models and lists of them.

    A model's ``__init__`` stops at its first bad field, and cattrs never calls it when a nested
    model failed; this scan finds the others, so a web form can show every problem at once.
    Checks between fields (``__attrs_post_init__``) are not run: they report on their own.
    ``leaves`` are attrs classes read from plain values by the field's converter (``Phone``).
    """
    if not (isinstance(cls, type) and attrs.has(cls)) or not isinstance(data, dict):
        return
    hints = typing.get_type_hints(cls)
    for attribute in attrs.fields(cls):
        if attribute.name not in data:
            continue
        value = data[attribute.name]
        hint = hints.get(attribute.name)
        where = (*path, attribute.name)
        models = _models_in(hint, leaves)
        if models:
            if isinstance(value, dict) and len(models) == 1:
                yield from field_problems(models[0], value, where, leaves=leaves)
            elif isinstance(value, list) and len(models) == 1:
                for index, item in enumerate(value, start=1):
                    yield from field_problems(models[0], item, (*where, str(index)), leaves=leaves)
            continue
        try:
            converted = attribute.converter(value) if callable(attribute.converter) else value
            if attribute.validator is not None:
                attribute.validator(None, attribute, converted)
        except FieldValueError as exc:
            yield ".".join(where), exc.reason
        except (TypeError, ValueError, AttributeError):
            yield ".".join(where), "has an invalid value"


def input_error(
    exc: BaseException,
    *,
    source: str,
    row: int | None = None,
    cls: type | None = None,
    data: object = None,
    leaves: Iterable[type] = (),
) -> InputError:
    """The :class:`~consentkit.errors.InputError` for a structuring failure, with every problem.

    Given the class and the data that failed, the fields cattrs did not get to (a model stops at
    its first bad field) are checked one by one too (:func:`field_problems`).
    """
    found = list(problems(exc))
    if cls is not None:
        scanned = list(field_problems(cls, data, leaves=frozenset(leaves)))
        seen = {field for field, _ in scanned}
        found = scanned + [item for item in found if item[0] not in seen]
    if not found:
        found = [("", "has an invalid value")]
    return InputError.from_problems(
        [Problem(reason, source, row, field or None) for field, reason in dict.fromkeys(found)]
    )
