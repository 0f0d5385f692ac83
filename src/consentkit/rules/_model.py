"""Frozen models of state rule data: a rule, its citations and conflicts, and the typed value of each topic.

Models validate their own fields and know nothing of files; :mod:`._load` builds them from TOML.
A field problem raises :class:`FieldValueError` (a ``ValueError``) naming the field relative to the
class being built, so the loader can report ``US-MS.toml, rule US-MS.minor_consent,
value.session_cap: must be a whole number of 1 or more``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal, TypeAlias, get_args

import attrs
from attrs import field, frozen

from .. import _fields as ft
from ..errors import FieldValueError

__all__ = [
    "CONFIDENCE_LEVELS",
    "FEDERAL",
    "FEDERAL_REQUIRED_TOPICS",
    "PROFESSIONS",
    "REQUIRED_TOPICS",
    "SOURCE_TYPES",
    "TOPICS",
    "Board",
    "BoardNotice",
    "Citation",
    "Compacts",
    "Confidence",
    "Conflict",
    "CrisisLine",
    "CrisisResources",
    "DutyToWarn",
    "ESignature",
    "Licensure",
    "MinorConsent",
    "NoticeElement",
    "ParentAccess",
    "ParentPays",
    "Pending",
    "Profession",
    "RecordRetention",
    "Recording",
    "Rule",
    "RuleSet",
    "SourceType",
    "TelehealthConsent",
    "TelehealthTraining",
    "Topic",
    "TopicValue",
    "describe_value",
]

#: The code of the federal baseline rule set (``US.toml``).
FEDERAL = "US"

Topic: TypeAlias = Literal[
    "telehealth_consent",
    "minor_consent",
    "duty_to_warn",
    "board_notice",
    "record_retention",
    "recording",
    "licensure",
    "crisis_resources",
    "telehealth_training",
    "e_signature",
]
#: Every topic a rule may have.
TOPICS: tuple[Topic, ...] = get_args(Topic)
#: Topics every state (and DC) file must cover, with a conservative default where nothing is known.
REQUIRED_TOPICS: tuple[Topic, ...] = (
    "telehealth_consent",
    "minor_consent",
    "duty_to_warn",
    "board_notice",
    "record_retention",
    "recording",
    "licensure",
)
#: Topics the federal baseline must cover.
FEDERAL_REQUIRED_TOPICS: tuple[Topic, ...] = (
    "record_retention",
    "recording",
    "crisis_resources",
    "e_signature",
)

Confidence: TypeAlias = Literal["primary", "secondary", "unverified"]
#: ``primary``: read in the primary text; ``secondary``: from a secondary source only;
#: ``unverified``: no source reviewed (a conservative default) or the value is not what a source says.
CONFIDENCE_LEVELS: tuple[Confidence, ...] = get_args(Confidence)

SourceType: TypeAlias = Literal["statute", "regulation", "board_rule", "case", "agency_policy", "secondary"]
SOURCE_TYPES: tuple[SourceType, ...] = get_args(SourceType)

ConsentForm: TypeAlias = Literal["written", "verbal", "either", "not_specified"]
SessionCheck: TypeAlias = Literal["identity", "location"]
DutyKind: TypeAlias = Literal["mandatory", "permissive", "none", "unclear"]
DutyBasis: TypeAlias = Literal["statute", "case_law", "both"]
DutyAction: TypeAlias = Literal["warn_or_protect", "report"]
RetentionStart: TypeAlias = Literal["termination", "last_service", "creation"]
RecordingConsent: TypeAlias = Literal["one_party", "all_party"]
LocationRule: TypeAlias = Literal["client_location", "both_locations"]
ParentAccess: TypeAlias = Literal[
    "with_minor_consent", "clinician_discretion", "involve_unless_inappropriate", "not_specified"
]
ParentPays: TypeAlias = Literal["no", "if_participating", "not_specified"]
Profession: TypeAlias = Literal["counselor", "mft", "social_worker", "psychologist"]
#: The professions a board entry can be for.
PROFESSIONS: tuple[Profession, ...] = get_args(Profession)
NoticeElement: TypeAlias = Literal["name", "address", "phone", "email", "website", "statement"]

_RULE_ID = re.compile(r"^US(?:-(?P<state>[A-Z]{2}))?\.(?P<topic>[a-z_]+)(?:\.[a-z0-9_]+)?$")
_URL = re.compile(r"^https?://\S+$")
#: Free text longer than this is shortened in :func:`describe_value`.
_SUMMARY_TEXT = 60


# --- sources ----------------------------------------------------------------------------------


@frozen(kw_only=True)
class Citation:
    """Where a rule comes from.

    Attributes:
        cite: the citation as a lawyer would write it, e.g. ``Miss. Code Ann. § 41-41-203(a)``.
        url: where the text was read (or, for facts taken from the project research notes, the
            address those notes give).
        source_type: what kind of source the citation is.
        retrieved_on: the day the text was read at ``url``; ``None`` (``"unknown"`` in TOML) when
            the maintainers did not read it themselves.
    """

    cite: str = field(converter=ft.strip, validator=ft.text())
    url: str = field(converter=ft.strip)
    source_type: SourceType = field(converter=ft.strip, validator=ft.one_of(SOURCE_TYPES))
    retrieved_on: date | None = field(converter=ft.to_known_date, validator=ft.a_date(unknown_allowed=True))

    @url.validator
    def _check_url(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or not _URL.match(value):
            raise FieldValueError("url", "must be an http(s) address")


@frozen(kw_only=True)
class Conflict:
    """A source that disagrees with the rule's value, and how the disagreement was resolved."""

    source: str = field(converter=ft.strip, validator=ft.text())
    says: str = field(converter=ft.strip, validator=ft.text())
    resolution: str = field(converter=ft.strip, validator=ft.text())


@frozen(kw_only=True)
class Pending:
    """A bill or proposed rule that would change this rule if adopted."""

    description: str = field(converter=ft.strip, validator=ft.text())


# --- topic values -----------------------------------------------------------------------------


@frozen(kw_only=True)
class TelehealthConsent:
    """How consent to telehealth must be given, and what is checked at every session.

    Attributes:
        form: ``written``, ``verbal``, ``either`` (verbal or written) or ``not_specified``.
        documented: whether the consent must be documented in the record.
        per_session_checks: what must be verified at the start of each session.
        notes_for_clinician: a short practical note for the clinician, if any.
    """

    form: ConsentForm = field(converter=ft.strip, validator=ft.one_of(get_args(ConsentForm)))
    documented: bool = field(validator=ft.flag)
    per_session_checks: tuple[SessionCheck, ...] = field(
        default=(), converter=ft.strip_all, validator=ft.each_one_of(get_args(SessionCheck), unique=True)
    )
    notes_for_clinician: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.text(optional=True)
    )


@frozen(kw_only=True)
class MinorConsent:
    """Who may consent to outpatient mental health care for a minor.

    Attributes:
        age_of_majority: the age at which a person consents to health care as an adult.
        self_consent_age: the youngest age at which a minor may consent alone; ``None`` means a
            minor below ``age_of_majority`` cannot consent alone (a parent or guardian signs).
        session_cap: sessions allowed on the minor's own consent before a parent must consent.
        day_cap: days of service allowed on the minor's own consent before a parent must consent.
        per_week_cap: visits per week allowed on the minor's own consent.
        excludes: services the minor may not consent to alone (e.g. ``medication``).
        parent_involvement: what the law says about involving or informing parents.
        scope: limits on where or for what the self-consent applies.
        parent_access: what the law lets a parent be told when the minor consented alone:
            ``with_minor_consent`` (only with the minor's permission, apart from exceptions such as
            safety), ``clinician_discretion`` (the clinician decides), ``involve_unless_inappropriate``
            (the clinician must involve a parent unless that would be inappropriate) or
            ``not_specified`` (the text read does not say).
        parent_pays: whether a parent must pay for care the minor consented to alone: ``no``,
            ``if_participating`` (only for care the parent takes part in) or ``not_specified``.
    """

    age_of_majority: int = field(validator=ft.at_least(16))
    self_consent_age: int | None = field(default=None, validator=ft.at_least(0, optional=True))
    session_cap: int | None = field(default=None, validator=ft.at_least(1, optional=True))
    day_cap: int | None = field(default=None, validator=ft.at_least(1, optional=True))
    per_week_cap: int | None = field(default=None, validator=ft.at_least(1, optional=True))
    excludes: tuple[str, ...] = field(default=(), converter=ft.strip_all, validator=ft.texts)
    parent_involvement: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.text(optional=True)
    )
    scope: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.text(optional=True))
    parent_access: ParentAccess = field(
        default="not_specified", converter=ft.strip, validator=ft.one_of(get_args(ParentAccess))
    )
    parent_pays: ParentPays = field(
        default="not_specified", converter=ft.strip, validator=ft.one_of(get_args(ParentPays))
    )

    def __attrs_post_init__(self) -> None:
        if self.self_consent_age is not None and self.self_consent_age >= self.age_of_majority:
            raise FieldValueError("self_consent_age", "must be below age_of_majority")
        if self.self_consent_age is None:
            for name in ("session_cap", "day_cap", "per_week_cap"):
                if getattr(self, name) is not None:
                    raise FieldValueError(name, "needs self_consent_age (a cap limits a minor's own consent)")


@frozen(kw_only=True)
class DutyToWarn:
    """Whether a clinician must, may or need not warn or protect a threatened person.

    Attributes:
        kind: ``mandatory``, ``permissive``, ``none`` or ``unclear``.
        basis: ``statute``, ``case_law`` or ``both``; ``None`` when the source does not say.
        action: what the law asks of the clinician: ``warn_or_protect`` (warn or protect the person
            at risk, the usual Tarasoff rule) or ``report`` (report to a public official, such as New
            York's report to the county director of community services, Mental Hyg. Law § 9.46).
    """

    kind: DutyKind = field(converter=ft.strip, validator=ft.one_of(get_args(DutyKind)))
    basis: DutyBasis | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.one_of(get_args(DutyBasis), optional=True)
    )
    action: DutyAction = field(
        default="warn_or_protect", converter=ft.strip, validator=ft.one_of(get_args(DutyAction))
    )


@frozen(kw_only=True)
class Board:
    """A licensing board or council clients can complain to.

    Attributes:
        name: the board's name.
        professions: the professions whose notice names this board (empty: every profession).
            Where one board licenses several professions with different prescribed wording
            (California's Board of Behavioral Sciences), it has one entry per wording.
        phone, address, email, website: how to reach it.
        prescribed_text: the exact notice the law prescribes for these professions, only when read
            in the primary text (kept in the language the law gives it, usually English).
    """

    name: str = field(converter=ft.strip, validator=ft.text())
    professions: tuple[Profession, ...] = field(
        default=(), converter=ft.strip_all, validator=ft.each_one_of(get_args(Profession))
    )
    phone: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.text(optional=True))
    address: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.text(optional=True))
    email: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.text(optional=True))
    website: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.text(optional=True))
    prescribed_text: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.text(optional=True)
    )

    def serves(self, profession: str | None) -> bool:
        """Whether this entry is the notice for ``profession`` (``None``: unknown, never matches a
        profession-specific entry)."""
        return not self.professions or (profession is not None and profession in self.professions)

    def has(self, element: NoticeElement) -> bool:
        """Whether this entry holds ``element`` (``statement``: the prescribed text)."""
        if element == "name":
            return True
        if element == "statement":
            return self.prescribed_text is not None
        return getattr(self, element) is not None


@frozen(kw_only=True)
class BoardNotice:
    """Whether clients must be told how to complain to the licensing board.

    Attributes:
        required: whether a notice is required.
        boards: the boards to name (each for the professions it lists).
        elements: what the law says the notice must contain (``name``, ``address``, ``phone``,
            ``email``, ``website``, ``statement`` for a prescribed text); rendering and
            ``consentkit practice check`` report any the chosen board entry lacks.
    """

    required: bool = field(validator=ft.flag)
    boards: tuple[Board, ...] = field(default=(), converter=ft.to_tuple, validator=ft.items_of(Board))
    elements: tuple[NoticeElement, ...] = field(
        default=(), converter=ft.strip_all, validator=ft.each_one_of(get_args(NoticeElement))
    )

    def __attrs_post_init__(self) -> None:
        if self.required and not self.boards:
            raise FieldValueError("boards", "a required notice must name at least one board")
        if not self.required and any(b.prescribed_text for b in self.boards):
            raise FieldValueError("boards", "only a required notice has prescribed text")

    def boards_for(self, profession: str | None) -> tuple[Board, ...]:
        """The board entries for a clinician of ``profession`` (empty when none is specific to it
        and no entry serves every profession)."""
        return tuple(b for b in self.boards if b.serves(profession))

    def missing(self, boards: tuple[Board, ...]) -> list[tuple[Board, NoticeElement]]:
        """The required elements each of ``boards`` lacks."""
        return [(b, e) for b in boards for e in self.elements if not b.has(e)]


@frozen(kw_only=True)
class RecordRetention:
    """How long clinical records must be kept.

    Attributes:
        adult_years: years to keep an adult client's records.
        minor_years_past_majority: years past the age of majority to keep a minor's records.
        minor_rule: the rule for minors in words, when it is more than a number.
        counted_from: when the period starts (TOML key ``from``): ``termination`` of services,
            ``last_service`` or ``creation`` of the record.
    """

    adult_years: int | None = field(default=None, validator=ft.at_least(1, optional=True))
    minor_years_past_majority: int | None = field(default=None, validator=ft.at_least(0, optional=True))
    minor_rule: str | None = field(default=None, converter=ft.blank_to_none, validator=ft.text(optional=True))
    counted_from: RetentionStart = field(converter=ft.strip, validator=ft.one_of(get_args(RetentionStart)))

    def __attrs_post_init__(self) -> None:
        if self.adult_years is None and self.minor_years_past_majority is None and self.minor_rule is None:
            raise FieldValueError("adult_years", "give adult_years, minor_years_past_majority or minor_rule")


@frozen(kw_only=True)
class Recording:
    """Whose consent recording a conversation needs under the state's wiretap law."""

    consent: RecordingConsent = field(converter=ft.strip, validator=ft.one_of(get_args(RecordingConsent)))


@frozen(kw_only=True)
class Compacts:
    """Membership of the state in interstate licensure compacts (not whether privileges are issued yet)."""

    psypact: bool = field(validator=ft.flag)
    counseling: bool = field(validator=ft.flag)
    social_work: bool = field(validator=ft.flag)


@frozen(kw_only=True)
class Licensure:
    """Where the clinician must be licensed for a telehealth session.

    Attributes:
        location_rule: ``client_location`` (licensed where the client is during the session) or
            ``both_locations`` (licensed where the client is and where the clinician is).
        compacts: the state's compact memberships.
        temporary_practice: any temporary or registration route for out-of-state clinicians.
    """

    location_rule: LocationRule = field(converter=ft.strip, validator=ft.one_of(get_args(LocationRule)))
    compacts: Compacts = field()
    temporary_practice: str | None = field(
        default=None, converter=ft.blank_to_none, validator=ft.text(optional=True)
    )

    @compacts.validator
    def _check_compacts(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, Compacts):
            raise FieldValueError(attribute.name, "must be a table with psypact, counseling and social_work")


@frozen(kw_only=True)
class CrisisLine:
    """A crisis line: its name and how to reach it."""

    name: str = field(converter=ft.strip, validator=ft.text())
    contact: str = field(converter=ft.strip, validator=ft.text())


@frozen(kw_only=True)
class CrisisResources:
    """Crisis lines to list in the emergency plan."""

    lines: tuple[CrisisLine, ...] = field(converter=ft.to_tuple, validator=ft.items_of(CrisisLine))

    def __attrs_post_init__(self) -> None:
        if not self.lines:
            raise FieldValueError("lines", "must list at least one line")


@frozen(kw_only=True)
class TelehealthTraining:
    """Training a clinician must complete before practising by telehealth."""

    hours: int = field(validator=ft.at_least(1))
    profession: str = field(converter=ft.strip, validator=ft.text())


@frozen(kw_only=True)
class ESignature:
    """Conditions for using electronic records and signatures with a consumer (federal baseline).

    Attributes:
        consumer_consent_required: whether affirmative consumer consent is needed before an
            electronic record replaces a required written one.
        disclosures: what the consumer must be told before consenting.
    """

    consumer_consent_required: bool = field(validator=ft.flag)
    disclosures: tuple[str, ...] = field(default=(), converter=ft.strip_all, validator=ft.texts)


TopicValue: TypeAlias = (
    TelehealthConsent
    | MinorConsent
    | DutyToWarn
    | BoardNotice
    | RecordRetention
    | Recording
    | Licensure
    | CrisisResources
    | TelehealthTraining
    | ESignature
)

#: The value class of each topic.
VALUE_TYPES: dict[Topic, type[TopicValue]] = {
    "telehealth_consent": TelehealthConsent,
    "minor_consent": MinorConsent,
    "duty_to_warn": DutyToWarn,
    "board_notice": BoardNotice,
    "record_retention": RecordRetention,
    "recording": Recording,
    "licensure": Licensure,
    "crisis_resources": CrisisResources,
    "telehealth_training": TelehealthTraining,
    "e_signature": ESignature,
}


# --- rules ------------------------------------------------------------------------------------


@frozen(kw_only=True)
class Rule:
    """One rule of one jurisdiction on one topic, with the evidence behind it.

    Attributes:
        id: stable id, ``US-<XX>.<topic>[.<qualifier>]`` (``US.<topic>[...]`` for federal rules).
        topic: one of :data:`TOPICS`.
        value: the typed value for the topic (see :data:`VALUE_TYPES`).
        confidence: ``primary``, ``secondary`` or ``unverified`` (see :data:`CONFIDENCE_LEVELS`).
        effective_date: when the current text took effect; ``None`` when unknown (then ``notes``
            must say why).
        last_reviewed: when the maintainers last reviewed the rule.
        reviewed_by: who reviewed it.
        notes: what the sources say, caveats and scope.
        citations: the sources; may be empty only for ``unverified`` rules (``check_rules``
            reports the others).
        conflicts: sources that disagree, and the resolution.
        pending: bills or proposed rules that would change the rule.
        protective_choice: the value is a more protective choice than the text read requires (or
            a choice where the text leaves the matter to the professional), not what that text
            says. Packets word such a rule as the practice's own policy, never as "Under <State>
            law ..."; ``conflicts`` or ``notes`` say what the text says.
    """

    id: str = field(converter=ft.strip, validator=ft.text())
    topic: Topic = field(converter=ft.strip, validator=ft.one_of(TOPICS))
    value: TopicValue = field()
    confidence: Confidence = field(converter=ft.strip, validator=ft.one_of(CONFIDENCE_LEVELS))
    effective_date: date | None = field(converter=ft.to_known_date, validator=ft.a_date(unknown_allowed=True))
    last_reviewed: date = field(converter=ft.to_known_date, validator=ft.a_date(unknown_allowed=False))
    reviewed_by: str = field(converter=ft.strip, validator=ft.text())
    notes: str = field(default="", converter=ft.strip)
    citations: tuple[Citation, ...] = field(
        default=(), converter=ft.to_tuple, validator=ft.items_of(Citation)
    )
    conflicts: tuple[Conflict, ...] = field(
        default=(), converter=ft.to_tuple, validator=ft.items_of(Conflict)
    )
    pending: tuple[Pending, ...] = field(default=(), converter=ft.to_tuple, validator=ft.items_of(Pending))
    protective_choice: bool = field(default=False, validator=ft.flag)

    def __attrs_post_init__(self) -> None:
        match = _RULE_ID.match(self.id)
        if match is None:
            raise FieldValueError("id", "must look like US-XX.topic or US-XX.topic.qualifier")
        if match["topic"] != self.topic:
            raise FieldValueError(
                "id", f"names topic {match['topic']!r} but the rule's topic is {self.topic!r}"
            )
        if not isinstance(self.value, VALUE_TYPES[self.topic]):
            raise FieldValueError("value", f"is not a {self.topic} value")
        if self.effective_date is None and not self.notes:
            raise FieldValueError("effective_date", 'is "unknown"; say why in notes')
        if self.protective_choice and not (self.conflicts or self.notes):
            raise FieldValueError("protective_choice", "say in conflicts or notes what the text read says")

    @property
    def states_law(self) -> bool:
        """Whether a packet may say what the law is on this rule's authority ("Under <State> law ...").

        Only a rule read in the primary text (``confidence = "primary"``) whose value says what that
        text says (not a :attr:`protective_choice`) qualifies; every other rule is worded as the
        practice's policy or neutrally (see ``docs/state-rules.md``).
        """
        return self.confidence == "primary" and not self.protective_choice

    @property
    def jurisdiction(self) -> str:
        """The jurisdiction code the id names (``MS``, or ``US`` for a federal rule)."""
        match = _RULE_ID.match(self.id)
        assert match is not None  # checked in __attrs_post_init__
        return match["state"] or FEDERAL


@frozen(kw_only=True)
class RuleSet:
    """The rules of one jurisdiction, as loaded from one data file.

    Attributes:
        jurisdiction: ``US`` or a state/DC postal code.
        name: the jurisdiction's name.
        rules: the rules, in file order.
        dataset_version: the version of the whole dataset (carried by ``US.toml`` only).
        source: the data file name.
    """

    jurisdiction: str
    name: str
    rules: tuple[Rule, ...]
    dataset_version: str | None = None
    source: str = field(default="<input>", eq=False)

    def for_topic(self, topic: Topic) -> tuple[Rule, ...]:
        """The rules on ``topic``, in file order (empty if none)."""
        return tuple(rule for rule in self.rules if rule.topic == topic)

    @property
    def topics(self) -> frozenset[Topic]:
        """The topics this rule set covers."""
        return frozenset(rule.topic for rule in self.rules)

    def rule(self, rule_id: str) -> Rule:
        """The rule with ``rule_id``.

        Raises:
            KeyError: no rule has that id.
        """
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def describe_value(value: TopicValue) -> str:
    """A short, stable, one-line summary of a rule value, for tables and logs.

    Fields left empty or at their default are omitted; booleans read ``yes``/``no``; nested tables
    are flattened.

    >>> describe_value(Recording(consent="all_party"))
    'consent=all_party'
    >>> describe_value(MinorConsent(age_of_majority=18, self_consent_age=14, excludes=("medication",)))
    'age_of_majority=18; self_consent_age=14; excludes=medication'
    >>> describe_value(MinorConsent(age_of_majority=18, self_consent_age=0))
    'age_of_majority=18; self_consent_age=0 (any minor)'
    """
    parts: list[str] = []
    for attribute in attrs.fields(type(value)):
        item = getattr(value, attribute.name)
        if (
            item is None
            or item == ()
            or (attribute.default is not attrs.NOTHING and item == attribute.default)
        ):
            continue
        name = "from" if attribute.name == "counted_from" else attribute.name
        shown = _describe_item(item)
        if attribute.name == "self_consent_age" and item == 0:
            shown = "0 (any minor)"
        parts.append(f"{name}={shown}")
    return "; ".join(parts)


def _describe_item(item: object) -> str:
    if isinstance(item, bool):
        return "yes" if item else "no"
    if isinstance(item, Compacts):
        joined = ",".join(name for name in ("psypact", "counseling", "social_work") if getattr(item, name))
        return joined or "none"
    if isinstance(item, Board):
        return item.name
    if isinstance(item, CrisisLine):
        return f"{item.name}: {item.contact}"
    if isinstance(item, tuple):
        return ",".join(_describe_item(element) for element in item)
    text = str(item)
    return text if len(text) <= _SUMMARY_TEXT else text[: _SUMMARY_TEXT - 1].rstrip() + "…"
