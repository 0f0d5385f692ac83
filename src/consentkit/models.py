"""Frozen value models of a practice, its clinicians and a client.

Models hold validated, normalised data and nothing else: no files, no clock, no locale. Build them
from files with :mod:`consentkit.loaders`, or directly in Python; change them with
:func:`attrs.evolve`.

Field-level problems raise :class:`FieldValueError` (a ``ValueError``) naming the field, so the
loaders can report ``clients.csv row 14, emergency_contact.phone: not a valid phone number``.
"""

from __future__ import annotations

import enum
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import phonenumbers
from attrs import field, frozen

from . import _fields as ft
from .errors import FieldValueError

__all__ = [
    "US_STATES",
    "Address",
    "Client",
    "Clinician",
    "Compact",
    "CompactPrivilege",
    "Connection",
    "Coverage",
    "Device",
    "EmergencyContact",
    "FailurePlan",
    "Fees",
    "FieldValueError",
    "Guardian",
    "License",
    "LocalResources",
    "Money",
    "Participant",
    "Phone",
    "Platform",
    "Population",
    "Practice",
    "PracticeText",
    "Profession",
    "RuleOverride",
    "RulePolicy",
    "ServiceType",
    "Supervisor",
]

#: The 50 states and the District of Columbia, by USPS code.
US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$")


def _valid_state(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in US_STATES:
        raise FieldValueError(attribute.name, "not a US state or DC postal code (e.g. MS)")


def _valid_email(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not _EMAIL.match(value)):
        raise FieldValueError(attribute.name, "not a valid email address")


# --- value types ------------------------------------------------------------------------------


@frozen
class Phone:
    """A telephone number normalised to E.164 (``+16015550100``).

    Build one with :meth:`parse`; numbers without a country code are read as US numbers.
    """

    __repr__ = ft.redacted_repr()

    e164: str

    @classmethod
    def parse(cls, text: str | Phone, region: str = "US") -> Phone:
        """Parse ``text`` as a phone number.

        Raises:
            ValueError: the text is not a valid phone number.
        """
        if isinstance(text, Phone):
            return text
        if not isinstance(text, str):
            raise ValueError("not a valid phone number")
        try:
            parsed = phonenumbers.parse(text.strip(), region)
        except phonenumbers.NumberParseException as exc:
            raise ValueError("not a valid phone number") from exc
        if not phonenumbers.is_valid_number(parsed):
            raise ValueError("not a valid phone number")
        return cls(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))

    def __str__(self) -> str:
        return self.e164


def _to_phone(value: object) -> object:
    """Parse a phone number; an invalid one is kept for the validator to report with its field."""
    try:
        return Phone.parse(value)  # type: ignore[arg-type]
    except ValueError:
        return value


def _to_optional_phone(value: object) -> object:
    value = ft.blank_to_none(value)
    return None if value is None else _to_phone(value)


def _is_phone(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Phone):
        raise FieldValueError(attribute.name, "not a valid phone number")


def _is_optional_phone(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _is_phone(instance, attribute, value)


@frozen(kw_only=True)
class Money:
    """An exact amount of money in one currency (ISO 4217 code)."""

    amount: Decimal = field()
    currency: str = field(
        default="USD", converter=ft.strip_upper, validator=attrs.validators.matches_re(_CURRENCY)
    )

    @amount.validator
    def _check_amount(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise FieldValueError("amount", "must be an amount of 0 or more, like 150.00")

    @classmethod
    def parse(cls, value: object, currency: str = "USD") -> Money:
        """Read ``150``, ``Decimal("150.00")``, ``"150.00"``, ``"$150"`` or
        ``{"amount": "150", "currency": "USD"}``.

        Floats are refused: money is exact.

        Raises:
            ValueError: the value is not an amount of money.
        """
        if isinstance(value, Money):
            return value
        if isinstance(value, dict):
            return cls.parse(value.get("amount"), str(value.get("currency", currency)))
        if isinstance(value, bool | float):
            raise ValueError('write money as text or a whole number, e.g. "150.00"')
        if isinstance(value, Decimal):
            return cls(amount=value, currency=currency)
        if isinstance(value, int):
            return cls(amount=Decimal(value), currency=currency)
        if isinstance(value, str):
            text = value.strip().replace(",", "")
            if text.startswith("$"):
                text = text[1:]
            try:
                amount = Decimal(text)
            except InvalidOperation as exc:
                raise ValueError("not an amount of money, like 150.00") from exc
            return cls(amount=amount, currency=currency)
        raise ValueError("not an amount of money, like 150.00")


def _to_money(value: object) -> object:
    """Parse money; an invalid amount is kept for the validator to report with its field."""
    try:
        return Money.parse(value)
    except ValueError:
        return value


def _to_optional_money(value: object) -> object:
    value = ft.blank_to_none(value)
    return None if value is None else _to_money(value)


def _is_money(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, Money):
        return
    if isinstance(value, float):
        raise FieldValueError(attribute.name, 'write money as text or a whole number, e.g. "150.00"')
    raise FieldValueError(attribute.name, "not an amount of money, like 150.00")


def _is_optional_money(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _is_money(instance, attribute, value)


@frozen(kw_only=True)
class Address:
    """A US street address (where a client is during sessions, or a practice's office)."""

    __repr__ = ft.redacted_repr("state")

    line1: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    line2: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.no_delimiters)
    city: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    state: str = field(converter=ft.strip_upper, validator=_valid_state)
    postal_code: str = field(converter=ft.strip)
    country: str = field(default="US", converter=ft.strip_upper)

    @postal_code.validator
    def _check_zip(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or not _ZIP.match(value):
            raise FieldValueError("postal_code", "not a valid ZIP code (12345 or 12345-6789)")

    @country.validator
    def _check_country(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value != "US":
            raise FieldValueError("country", "only US addresses are supported")

    def one_line(self) -> str:
        """The address on one line: ``123 Main St, Suite 4, Jackson, MS 39201``."""
        parts = [self.line1, self.line2, self.city]
        return ", ".join(p for p in parts if p) + f", {self.state} {self.postal_code}"


# --- practice ---------------------------------------------------------------------------------


class Compact(enum.Enum):
    """Interstate licensure compacts."""

    COUNSELING = "counseling"
    PSYPACT = "psypact"
    SOCIAL_WORK = "social_work"


def _to_compact(value: object) -> object:
    return ft.enum_value(Compact, value)


class Profession(enum.Enum):
    """The licensed professions whose boards and rules the state rule data distinguishes."""

    COUNSELOR = "counselor"
    MFT = "mft"
    SOCIAL_WORKER = "social_worker"
    PSYCHOLOGIST = "psychologist"


def _to_optional_profession(value: object) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return ft.enum_value(Profession, value)


@frozen(kw_only=True)
class License:
    """A state license held by a clinician.

    ``profession`` says which profession the license is for; when it is left out, consentkit
    tells it from ``license_type`` (``LPC``, ``LMFT``, ``LCSW``, ``Psychologist`` ...) where it
    can, to choose the licensing board named in the packet.
    """

    state: str = field(converter=ft.strip_upper, validator=_valid_state)
    license_type: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    number: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    expires: date = field(converter=ft.to_date, validator=ft.valid_date())
    profession: Profession | None = field(
        default=None, converter=_to_optional_profession, validator=ft.member_of(Profession, optional=True)
    )


@frozen(kw_only=True)
class CompactPrivilege:
    """A privilege to practise in a remote state under an interstate compact."""

    compact: Compact = field(converter=_to_compact, validator=ft.member_of(Compact))
    state: str = field(converter=ft.strip_upper, validator=_valid_state)
    number: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.no_delimiters)
    expires: date | None = field(
        default=None, converter=ft.to_optional_date, validator=ft.valid_date(optional=True)
    )


@frozen(kw_only=True)
class Supervisor:
    """The supervisor of a clinician under supervision (e.g. a provisional licensee)."""

    name: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    credentials: str = field(default="", converter=ft.strip, validator=ft.no_delimiters)
    phone: Phone | None = field(default=None, converter=_to_optional_phone, validator=_is_optional_phone)
    email: str | None = field(default=None, converter=ft.blank_to_none, validator=_valid_email)


@frozen(kw_only=True)
class Clinician:
    """A clinician of the practice."""

    id: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    name: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    credentials: str = field(default="", converter=ft.strip, validator=ft.no_delimiters)
    email: str | None = field(default=None, converter=ft.blank_to_none, validator=_valid_email)
    phone: Phone | None = field(default=None, converter=_to_optional_phone, validator=_is_optional_phone)
    licenses: tuple[License, ...] = field(default=(), converter=ft.to_tuple_or_empty)
    compact_privileges: tuple[CompactPrivilege, ...] = field(default=(), converter=ft.to_tuple_or_empty)
    supervisor: Supervisor | None = None
    telehealth_training_hours: int | None = field(
        default=None, converter=ft.to_optional_int, validator=ft.non_negative(optional=True)
    )
    """Telehealth training hours the practice attests this clinician completed (some states require
    them, e.g. Mississippi LPCs); checked by ``consentkit practice check``."""

    @property
    def display_name(self) -> str:
        """Name and credentials: ``Dana Whitfield, PhD, LPC``."""
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


@frozen(kw_only=True)
class Platform:
    """The video platform used for sessions."""

    name: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    hipaa_compliant: bool = field(converter=ft.to_bool, validator=ft.flag)
    baa_in_place: bool = field(converter=ft.to_bool, validator=ft.flag)


class Coverage(enum.Enum):
    """How a client's care is paid for, as far as the fee policy needs to know."""

    MEDICAID = "medicaid"
    CHIP = "chip"
    MEDICARE = "medicare"
    TRICARE = "tricare"
    WORKERS_COMP = "workers_comp"
    COMMERCIAL = "commercial"
    SELF_PAY = "self_pay"


def _coverages(value: object) -> object:
    items = ft.to_tuple_or_empty(value)
    if isinstance(items, tuple):
        return tuple(ft.enum_value(Coverage, item) for item in items)
    return items


def _are_coverages(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(item, Coverage) for item in value):
        allowed = ", ".join(c.value for c in Coverage)
        raise FieldValueError(attribute.name, f"must be a list of: {allowed}")


@frozen(kw_only=True)
class Fees:
    """Fees and the cancellation policy."""

    session: Money = field(converter=_to_money, validator=_is_money)
    intake: Money | None = field(default=None, converter=_to_optional_money, validator=_is_optional_money)
    late_cancellation: Money = field(converter=_to_money, validator=_is_money)
    no_show: Money = field(converter=_to_money, validator=_is_money)
    cancellation_notice_hours: int = field(converter=ft.to_int, validator=ft.non_negative())
    accepts_insurance: bool = field(default=False, converter=ft.to_bool, validator=ft.flag)
    exempt_coverage: tuple[Coverage, ...] = field(
        default=(Coverage.MEDICAID, Coverage.CHIP, Coverage.TRICARE, Coverage.WORKERS_COMP),
        converter=_coverages,
        validator=_are_coverages,
    )
    """Clients with any of these coverages are never charged the late-cancellation or no-show
    fee: Medicaid forbids it (42 C.F.R. § 447.15, payment in full; state Medicaid rules such as
    Ohio Adm. Code 5160-1-13.1), and for the others the library takes the conservative choice.
    Medicare allows the charge only when everyone pays the same amount (see docs/file-formats.md)."""

    def __attrs_post_init__(self) -> None:
        currencies = {
            m.currency for m in (self.session, self.intake, self.late_cancellation, self.no_show) if m
        }
        if len(currencies) > 1:
            raise FieldValueError("session", "all fees must use one currency")


@frozen(kw_only=True)
class FailurePlan:
    """What happens when the video connection fails."""

    reconnect_by: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.filled_text(optional=True)
    )
    """Who reconnects (default: the template set's words for "your clinician")."""
    wait_minutes: int = field(default=5, converter=ft.to_int, validator=ft.non_negative())
    phone_fallback: Phone = field(converter=_to_phone, validator=_is_phone)
    lost_time: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.filled_text(optional=True)
    )
    """How time lost to technology failures is handled (default: the template set's sentence)."""


@frozen(kw_only=True)
class RecordsSystem:
    """What the practice attests about where client records are kept. Packets say only what is
    attested here (an encrypted system, a business associate agreement)."""

    name: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.no_delimiters)
    encrypted: bool = field(default=False, converter=ft.to_bool, validator=ft.flag)
    baa_in_place: bool = field(default=False, converter=ft.to_bool, validator=ft.flag)


class Population(enum.Enum):
    """Populations a practice serves."""

    INDIVIDUAL_ADULTS = "individual_adults"
    COUPLES = "couples"
    FAMILIES = "families"
    CHILDREN_ADOLESCENTS = "children_adolescents"


def _time_zone(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise FieldValueError(attribute.name, "not an IANA time zone (e.g. America/Chicago)") from exc


def _language(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _LANGUAGE.match(value):
        raise FieldValueError(attribute.name, "not a language tag (e.g. en-US, es-US)")


def _populations(value: object) -> object:
    items = ft.to_tuple_or_empty(value)
    if isinstance(items, tuple):
        return tuple(ft.enum_value(Population, item) for item in items)
    return items


@frozen(kw_only=True)
class PracticeText:
    """The practice's own sentences in one more language (its TOML file writes them in its default
    language). Any field left out falls back to the practice's default text."""

    response_time: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.filled_text(optional=True)
    )
    recording_policy: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.filled_text(optional=True)
    )
    emergency_procedures: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.filled_text(optional=True)
    )
    records_location: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.filled_text(optional=True)
    )
    reconnect_by: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.filled_text(optional=True)
    )
    lost_time: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.filled_text(optional=True)
    )


_RULE_ID = re.compile(r"^US(-[A-Z]{2})?\.[a-z_]+(\.[a-z0-9_]+)?$")


@frozen(kw_only=True)
class RuleOverride:
    """A practice's decision to replace one state rule's value, with who approved it and why.

    ``value`` has the shape of the rule's value in the rule data (see ``docs/state-rules.md``);
    it is checked against the rule's topic when rules are resolved. Overrides are recorded in the
    manifest and the audit record.
    """

    rule_id: str = field(converter=ft.strip)
    value: dict[str, Any] = field()
    reason: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    approved_by: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    approved_on: date = field(converter=ft.to_date, validator=ft.valid_date())
    attorney_reviewed: bool = field(default=False, converter=ft.to_bool, validator=ft.flag)

    @rule_id.validator
    def _check_id(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or not _RULE_ID.match(value):
            raise FieldValueError("rule_id", "not a rule id like US-MS.minor_consent")

    @value.validator
    def _check_value(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, dict):
            raise FieldValueError("value", "must be a table of the rule's value fields")


@frozen(kw_only=True)
class RulePolicy:
    """How strictly a practice treats old or unverified state rules.

    By default both produce warnings (in the CLI and the manifest); a practice can make them errors.
    """

    max_age_days: int = field(default=365, converter=ft.to_int, validator=ft.non_negative())
    stale_is_error: bool = field(default=False, converter=ft.to_bool, validator=ft.flag)
    unverified_is_error: bool = field(default=False, converter=ft.to_bool, validator=ft.flag)
    incomplete_notice_is_error: bool = field(default=False, converter=ft.to_bool, validator=ft.flag)
    """A required licensing-board notice missing an element the law asks for (the board's phone, a
    prescribed statement) is an error instead of a warning."""


@frozen(kw_only=True)
class Practice:
    """A counseling or therapy practice that sees clients by video."""

    name: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    address: Address
    phone: Phone = field(converter=_to_phone, validator=_is_phone)
    email: str = field(converter=ft.strip, validator=_valid_email)
    website: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.no_delimiters)
    time_zone: str = field(default="America/New_York", converter=ft.strip, validator=_time_zone)
    default_language: str = field(default="en-US", converter=ft.strip, validator=_language)
    clinicians: tuple[Clinician, ...] = field(converter=ft.to_tuple_or_empty)
    platform: Platform
    malpractice_covers_telehealth: bool = field(converter=ft.to_bool, validator=ft.flag)
    fees: Fees
    populations: tuple[Population, ...] = field(converter=_populations)
    failure_plan: FailurePlan
    response_time: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.filled_text(optional=True)
    )
    """When the practice usually replies ("within one business day"); default: the template set's."""
    recording_policy: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.filled_text(optional=True)
    )
    """The practice's recording policy; default: the template set's (nobody records without everyone's
    written permission)."""
    emergency_procedures: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.filled_text(optional=True)
    )
    """Extra emergency steps of the practice's own, printed after the stock emergency plan."""
    records_location: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.filled_text(optional=True)
    )
    """Where records are kept, in the practice's words; default: built from ``records_system``."""
    records_system: RecordsSystem = field(factory=RecordsSystem)
    federal_financial_assistance: bool = field(default=False, converter=ft.to_bool, validator=ft.flag)
    """The practice receives federal financial assistance (e.g. it bills Medicaid): language help is
    then free of charge (45 C.F.R. § 92.201(b)) and the packet says so."""
    translation_fallback: str = field(default="error", converter=ft.strip)
    """What to do when a packet's language lacks one of the practice's own sentences: ``error``
    (the default) or ``default_language`` (print the practice's default-language sentence and warn)."""
    rule_overrides: tuple[RuleOverride, ...] = field(default=(), converter=ft.to_tuple_or_empty)
    rule_policy: RulePolicy = field(factory=RulePolicy)
    consent_renewal_days: int = field(default=365, converter=ft.to_int, validator=ft.non_negative())
    texts: dict[str, PracticeText] = field(factory=dict)
    """The practice's sentences in other languages, by language tag (``es-US``)."""
    """Clients re-consent after this many days (0: never by age of the consent alone)."""

    @translation_fallback.validator
    def _check_fallback(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in ("error", "default_language"):
            raise FieldValueError(attribute.name, "must be error or default_language")

    @clinicians.validator
    def _check_clinicians(self, attribute: attrs.Attribute[Any], value: tuple[Clinician, ...]) -> None:
        if not value:
            raise FieldValueError("clinicians", "a practice needs at least one clinician")
        ids = [c.id for c in value]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise FieldValueError("clinicians", f"duplicate clinician id {duplicates[0]!r}")

    @populations.validator
    def _check_populations(self, attribute: attrs.Attribute[Any], value: tuple[object, ...]) -> None:
        if not value:
            raise FieldValueError("populations", "list at least one population served")
        for item in value:
            if not isinstance(item, Population):
                allowed = ", ".join(p.value for p in Population)
                raise FieldValueError("populations", f"must be among: {allowed}")

    @texts.validator
    def _check_texts(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, dict):
            raise FieldValueError("texts", "must be a table of languages")
        for language, text in value.items():
            if not isinstance(text, PracticeText) or not _LANGUAGE.match(str(language)):
                raise FieldValueError("texts", f"{language!r}: expected a language tag with a table of texts")

    def own_text(self, name: str) -> str | None:
        """The practice sentence ``name`` (e.g. ``response_time``) as its file writes it, in its
        ``default_language``; ``None`` when the file leaves it out."""
        source: object = self.failure_plan if name in ("reconnect_by", "lost_time") else self
        value = getattr(source, name)
        return str(value) if value else None

    def text(self, name: str, language: str) -> str | None:
        """The practice sentence ``name`` in ``language``: from ``texts`` for that language, else
        the file's own sentence when ``language`` is the practice's default language, else ``None``
        (the packet then uses its template set's sentence, or reports the missing translation)."""
        local = self.texts.get(language)
        value = getattr(local, name, None) if local is not None else None
        if value:
            return str(value)
        if language == self.default_language:
            return self.own_text(name)
        return None

    def clinician(self, clinician_id: str | None) -> Clinician:
        """The clinician with this id, or the first clinician when ``clinician_id`` is None.

        Raises:
            FieldValueError: no clinician has that id.
        """
        if clinician_id is None:
            return self.clinicians[0]
        for candidate in self.clinicians:
            if candidate.id == clinician_id:
                return candidate
        raise FieldValueError("clinician_id", "no clinician of the practice has this id")


# --- client -----------------------------------------------------------------------------------


class Device(enum.Enum):
    """The device a client uses for video sessions."""

    COMPUTER = "computer"
    PHONE = "phone"
    TABLET = "tablet"


def _to_device(value: object) -> object:
    return ft.enum_value(Device, value)


class Connection(enum.Enum):
    """How the client's device reaches the internet."""

    HOME_WIFI = "home_wifi"
    CELLULAR = "cellular"
    WIRED = "wired"
    PUBLIC_WIFI = "public_wifi"


def _to_connection(value: object) -> object:
    return ft.enum_value(Connection, value)


class ServiceType(enum.Enum):
    """Who is seen together."""

    INDIVIDUAL = "individual"
    COUPLE = "couple"
    FAMILY = "family"


def _to_service_type(value: object) -> object:
    return ft.enum_value(ServiceType, value)


@frozen(kw_only=True)
class EmergencyContact:
    """Someone to call in an emergency."""

    __repr__ = ft.redacted_repr()

    name: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    relationship: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    phone: Phone = field(converter=_to_phone, validator=_is_phone)


@frozen(kw_only=True)
class Participant:
    """Another adult seen in couple or family sessions; each signs for themself."""

    __repr__ = ft.redacted_repr()

    name: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    relationship: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    email: str | None = field(default=None, converter=ft.blank_to_none, validator=_valid_email)


@frozen(kw_only=True)
class Guardian:
    """A parent or legal guardian of a minor client."""

    __repr__ = ft.redacted_repr()

    name: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    relationship: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    phone: Phone = field(converter=_to_phone, validator=_is_phone)
    email: str | None = field(default=None, converter=ft.blank_to_none, validator=_valid_email)


@frozen(kw_only=True)
class LocalResources:
    """Emergency resources near the client's session address.

    A 911 call placed by a clinician in another place reaches the clinician's own dispatch centre,
    not the client's, so the emergency plan needs a number that reaches help where the client is.
    """

    __repr__ = ft.redacted_repr()

    dispatch_name: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.no_delimiters)
    """The emergency dispatch centre or police department for the session address."""
    dispatch_phone: Phone | None = field(
        default=None, converter=_to_optional_phone, validator=_is_optional_phone
    )
    """A ten-digit number that reaches that dispatch centre (or the local police non-emergency line)."""
    emergency_room: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.no_delimiters)
    """The nearest hospital emergency room: name and address."""
    crisis_line_name: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.no_delimiters)
    """A local crisis line (a county mobile crisis team, say)."""
    crisis_line_phone: Phone | None = field(
        default=None, converter=_to_optional_phone, validator=_is_optional_phone
    )

    def missing(self) -> tuple[str, ...]:
        """The resources not on file: ``dispatch``, ``emergency_room``, ``crisis_line``."""
        absent = []
        if self.dispatch_phone is None:
            absent.append("dispatch")
        if self.emergency_room is None:
            absent.append("emergency_room")
        if self.crisis_line_phone is None:
            absent.append("crisis_line")
        return tuple(absent)


@frozen(kw_only=True)
class Client:
    """A client to be seen by video.

    ``session_address`` is the physical address where the client will be during sessions; it is
    confirmed at the start of each session so emergency services can be sent there. Whether a
    guardian must sign depends on the client's age on the document date and on state law, so it is
    decided when rendering, not here.
    """

    __repr__ = ft.redacted_repr("id")

    id: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    legal_name: str = field(converter=ft.strip, validator=ft.text(template_safe=True))
    preferred_name: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.no_delimiters)
    date_of_birth: date = field(converter=ft.to_date, validator=ft.valid_date())
    preferred_language: str = field(default="en-US", converter=ft.strip, validator=_language)
    phone: Phone = field(converter=_to_phone, validator=_is_phone)
    email: str | None = field(default=None, converter=ft.blank_to_none, validator=_valid_email)
    session_address: Address
    emergency_contact: EmergencyContact
    device: Device = field(converter=_to_device, validator=ft.member_of(Device))
    connection: Connection = field(converter=_to_connection, validator=ft.member_of(Connection))
    service_type: ServiceType = field(
        default=ServiceType.INDIVIDUAL,
        converter=_to_service_type,
        validator=ft.member_of(ServiceType),
    )
    participants: tuple[Participant, ...] = field(default=(), converter=ft.to_tuple_or_empty)
    guardians: tuple[Guardian, ...] = field(default=(), converter=ft.to_tuple_or_empty)
    clinician_id: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.no_delimiters)
    guardian_pays: bool = field(default=False, converter=ft.to_bool, validator=ft.flag)
    """A parent or guardian on file pays for a minor who consents to counseling alone: the first
    guardian then signs the fees policy (and the e-signature consent) as the person responsible for
    payment. A minor whose guardian consents always has the guardian sign the fees policy."""
    coverage: tuple[Coverage, ...] = field(default=(), converter=_coverages, validator=_are_coverages)
    """How the client's care is paid for (``medicaid``, ``medicare`` ...): a coverage the practice's
    ``fees.exempt_coverage`` lists means no late-cancellation or no-show fee."""
    local_resources: LocalResources = field(factory=LocalResources)
    """Emergency resources near the session address, printed in the emergency plan."""

    def __attrs_post_init__(self) -> None:
        if self.service_type is ServiceType.INDIVIDUAL and self.participants:
            raise FieldValueError("participants", "individual service has no other participants")
        if self.service_type is ServiceType.COUPLE and len(self.participants) != 1:
            raise FieldValueError("participants", "couple service needs exactly one other adult participant")
        if self.service_type is ServiceType.FAMILY and not self.participants and not self.guardians:
            raise FieldValueError("participants", "family service needs at least one other participant")

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day``."""
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def display_name(self) -> str:
        """The preferred name, or the legal name."""
        return self.preferred_name or self.legal_name
