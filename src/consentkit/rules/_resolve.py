"""Resolve the rules that apply to one client: the client's location state, age and service, the
clinician's licenses, the practice's overrides, on a given date.

The state where the client is physically located during sessions decides the law; the federal
baseline fills in (and, for record retention, sets a floor). Where the data records conflicting
sources, the data already holds the more protective reading; resolution says so in its notes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import attrs

from ..errors import JurisdictionError, RulesError
from ..models import US_STATES, Client, Clinician, Compact, Practice, Profession, RuleOverride, RulePolicy
from ._load import _structure, load_jurisdiction
from ._model import (
    FEDERAL,
    VALUE_TYPES,
    Board,
    BoardNotice,
    CrisisResources,
    DutyToWarn,
    Licensure,
    MinorConsent,
    Recording,
    RecordRetention,
    Rule,
    TelehealthConsent,
    Topic,
    TopicValue,
)
from ._professions import clinician_profession

__all__ = [
    "AppliedRule",
    "ResolvedRules",
    "board_notice_problems",
    "check_jurisdiction",
    "minor_consent_rule",
    "resolve_rules",
]


@attrs.frozen(kw_only=True)
class AppliedRule:
    """A rule used for a packet, as recorded in the manifest and audit record."""

    id: str
    topic: str
    jurisdiction: str
    confidence: str
    last_reviewed: date
    effective_date: date | None
    citations: tuple[str, ...]
    override: RuleOverride | None = None
    protective_choice: bool = False

    @property
    def states_law(self) -> bool:
        """Whether the packet may state this rule as law: read in primary text, its value what that
        text says, and not replaced by a practice override (an override is the practice's policy)."""
        return self.confidence == "primary" and not self.protective_choice and self.override is None

    @property
    def wording(self) -> str:
        """``law`` or ``policy``: how the packet words what this rule decides."""
        return "law" if self.states_law else "policy"

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self.id,
            "topic": self.topic,
            "jurisdiction": self.jurisdiction,
            "confidence": self.confidence,
            "wording": self.wording,
            "last_reviewed": self.last_reviewed.isoformat(),
            "effective_date": self.effective_date.isoformat() if self.effective_date else None,
            "citations": list(self.citations),
        }
        if self.override is not None:
            record["override"] = {
                "value": self.override.value,
                "reason": self.override.reason,
                "approved_by": self.override.approved_by,
                "approved_on": self.override.approved_on.isoformat(),
                "attorney_reviewed": self.override.attorney_reviewed,
            }
        return record


@attrs.frozen(kw_only=True)
class ResolvedRules:
    """The rule values that apply to one client on one date, and how they were chosen."""

    state: str
    on: date
    values: dict[str, TopicValue] = attrs.field(eq=False)
    federal: dict[str, TopicValue] = attrs.field(eq=False)
    applied: tuple[AppliedRule, ...]
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    authorization: str
    age: int
    dataset_version: str
    profession: Profession | None = None
    boards: tuple[Board, ...] = ()

    def rule(self, topic: str) -> AppliedRule | None:
        """The state's rule on ``topic`` that decided the value (``None`` if the state has none)."""
        for applied in self.applied:
            if applied.topic == topic and applied.jurisdiction == self.state:
                return applied
        return None

    def states_law(self, topic: str) -> bool:
        """Whether the packet may state the law of the client's state on ``topic`` (see
        :attr:`AppliedRule.states_law`)."""
        applied = self.rule(topic)
        return applied is not None and applied.states_law

    @property
    def minor_consent(self) -> MinorConsent:
        value = self.values["minor_consent"]
        assert isinstance(value, MinorConsent)
        return value

    @property
    def is_minor(self) -> bool:
        return self.age < self.minor_consent.age_of_majority

    @property
    def minor_self_consent(self) -> bool:
        """The client is a minor who may consent alone to outpatient counseling here."""
        rule = self.minor_consent
        return self.is_minor and rule.self_consent_age is not None and self.age >= rule.self_consent_age

    @property
    def guardian_required(self) -> bool:
        return self.is_minor and not self.minor_self_consent

    def to_record(self) -> dict[str, Any]:
        """The manifest / audit record of the resolution."""
        return {
            "dataset_version": self.dataset_version,
            "state": self.state,
            "resolved_on": self.on.isoformat(),
            "authorization": self.authorization,
            "minor_self_consent": self.minor_self_consent,
            "guardian_required": self.guardian_required,
            "profession": self.profession.value if self.profession else None,
            "applied": [rule.to_record() for rule in self.applied],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


def _valid_on(expires: date | None, on: date) -> bool:
    return expires is None or expires >= on


def check_jurisdiction(practice: Practice, clinician: Clinician, state: str, on: date) -> str:
    """Check that ``clinician`` may see a client located in ``state`` on ``on``.

    Returns:
        How the clinician is authorised there (a license or a compact privilege).

    Raises:
        JurisdictionError: no license or compact privilege valid on that date covers the state,
            or the practice's own state requires a license there too and the clinician has none.
    """
    return _authorize(practice, clinician, state, on)[0]


def _authorize(practice: Practice, clinician: Clinician, state: str, on: date) -> tuple[str, Compact | None]:
    """:func:`check_jurisdiction`, also returning the compact whose privilege authorises (None: a license)."""
    state_name = US_STATES.get(state, state)
    licensure = _rule(state, "licensure")
    why = ""
    if licensure is not None and licensure.citations:
        why = f" ({state_name}: licensure follows the client's location; {licensure.citations[0].cite})"
    authorization = ""
    compact: Compact | None = None
    for lic in clinician.licenses:
        if lic.state == state and _valid_on(lic.expires, on):
            authorization = f"{lic.license_type} license {lic.number} ({state})"
            break
    if not authorization:
        for privilege in clinician.compact_privileges:
            if privilege.state == state and _valid_on(privilege.expires, on):
                authorization = f"{privilege.compact.value.replace('_', ' ')} compact privilege ({state})"
                compact = privilege.compact
                break
    if not authorization:
        expired = [lic for lic in clinician.licenses if lic.state == state]
        detail = f"; the {state} license expired on {expired[0].expires.isoformat()}" if expired else ""
        raise JurisdictionError(
            f"{clinician.display_name} ({clinician.id}) holds no license or compact privilege valid on "
            f"{on.isoformat()} for {state_name}, where the client will be during sessions{detail}{why}. "
            "Telehealth with this client is not allowed until the clinician is licensed there."
        )
    home = practice.address.state
    home_rule = _rule(home, "licensure")
    if home != state and home_rule is not None:
        value = home_rule.value
        if isinstance(value, Licensure) and value.location_rule == "both_locations":
            held = any(lic.state == home and _valid_on(lic.expires, on) for lic in clinician.licenses)
            if not held:
                basis = home_rule.citations[0].cite if home_rule.citations else home_rule.id
                raise JurisdictionError(
                    f"{clinician.display_name} ({clinician.id}) practises from {US_STATES[home]}, whose rule "
                    f"requires a license in both locations ({basis}), and holds no valid {home} license"
                )
    return authorization, compact


def _membership_warning(state: str, compact: Compact, values: dict[str, TopicValue]) -> str | None:
    """A warning when the clinician relies on a privilege under a compact the data says ``state`` is not in.

    The privilege itself is issued by the compact's commission, so it is not refused: membership
    lists move faster than the data (a state may have joined since the rule was last reviewed).
    """
    licensure = values.get("licensure")
    if not isinstance(licensure, Licensure) or getattr(licensure.compacts, compact.value):
        return None
    label = compact.value.replace("_", " ")
    return (
        f"US-{state}.licensure does not record {US_STATES.get(state, state)} as a member of the {label} "
        f"compact, but the clinician relies on a {label} compact privilege there; confirm the privilege "
        "with the compact commission (membership data may be out of date)"
    )


def _rule(jurisdiction: str, topic: Topic) -> Rule | None:
    rules = load_jurisdiction(jurisdiction).for_topic(topic)
    return rules[0] if rules else None


def _override_value(override: RuleOverride, rule: Rule) -> TopicValue:
    value, problems = _structure(override.value, VALUE_TYPES[rule.topic], ("value",))
    if value is None or problems:
        path, reason = problems[0] if problems else ("value", "invalid")
        raise RulesError(f"practice override of {rule.id}, {path}: {reason}")
    return value


def minor_consent_rule(practice: Practice, state: str) -> MinorConsent:
    """The minor-consent rule of ``state``, with the practice's override of it if any.

    Unlike :func:`resolve_rules` this needs no clinician, so the ages can be read even where the
    clinician is not authorised.

    Raises:
        RulesError: the state has no minor-consent rule, or the practice's override is malformed.
    """
    rules = load_jurisdiction(state).for_topic("minor_consent")
    if not rules:
        raise RulesError(f"the {state} rule data has no minor_consent rule")
    rule = rules[0]
    override = next((o for o in practice.rule_overrides if o.rule_id == rule.id), None)
    value = _override_value(override, rule) if override is not None else rule.value
    assert isinstance(value, MinorConsent)
    return value


def resolve_rules(practice: Practice, clinician: Clinician, client: Client, on: date) -> ResolvedRules:
    """The rules that apply to ``client`` (located in their session address's state) on ``on``.

    Raises:
        JurisdictionError: the clinician may not see the client there.
        RulesError: a practice override is malformed or names no rule of that state, or the
            practice's :class:`~consentkit.models.RulePolicy` makes a stale or unverified rule an
            error.
    """
    state = client.session_address.state
    authorization, compact = _authorize(practice, clinician, state, on)
    policy: RulePolicy = practice.rule_policy
    state_rules = load_jurisdiction(state)
    federal_rules = load_jurisdiction(FEDERAL)
    overrides = {o.rule_id: o for o in practice.rule_overrides}
    known_ids = {r.id for r in state_rules.rules} | {r.id for r in federal_rules.rules}
    foreign = sorted(i for i in overrides if i.startswith(f"US-{state}.") and i not in known_ids)
    if foreign:
        raise RulesError(f"practice override names an unknown rule {foreign[0]}")
    values: dict[str, TopicValue] = {}
    federal: dict[str, TopicValue] = {}
    applied: list[AppliedRule] = []
    warnings: list[str] = []
    notes: list[str] = []
    stale_before = on - timedelta(days=policy.max_age_days)
    for ruleset, target in ((federal_rules, federal), (state_rules, values)):
        for rule in ruleset.rules:
            override = overrides.get(rule.id)
            value = _override_value(override, rule) if override else rule.value
            target.setdefault(rule.topic, value)
            applied.append(
                AppliedRule(
                    id=rule.id,
                    topic=rule.topic,
                    jurisdiction=ruleset.jurisdiction,
                    confidence=rule.confidence,
                    last_reviewed=rule.last_reviewed,
                    effective_date=rule.effective_date,
                    citations=tuple(c.cite for c in rule.citations),
                    override=override,
                    protective_choice=rule.protective_choice,
                )
            )
            if override is not None:
                notes.append(
                    f"{rule.id}: overridden by the practice ({override.reason}; approved by "
                    f"{override.approved_by} on {override.approved_on.isoformat()})"
                )
                continue
            if rule.confidence == "unverified":
                message = f"{rule.id} is unverified (no primary or secondary source reviewed)"
                if policy.unverified_is_error:
                    raise RulesError(message + "; the practice's rule policy makes this an error")
                warnings.append(message)
            if rule.last_reviewed < stale_before:
                message = (
                    f"{rule.id} was last reviewed on {rule.last_reviewed.isoformat()}, more than "
                    f"{policy.max_age_days} days before {on.isoformat()}"
                )
                if policy.stale_is_error:
                    raise RulesError(message + "; the practice's rule policy makes this an error")
                warnings.append(message)
            for conflict in rule.conflicts:
                notes.append(
                    f"{rule.id}: sources conflict ({conflict.source} says {conflict.says}); "
                    f"{conflict.resolution}"
                )
    if compact is not None and (membership := _membership_warning(state, compact, values)) is not None:
        warnings.append(membership)
    profession = clinician_profession(clinician, state, on)
    boards: tuple[Board, ...] = ()
    board = values.get("board_notice")
    if isinstance(board, BoardNotice) and board.required:
        boards, board_problems = _notice_boards(state, board, profession)
        for problem in board_problems:
            if policy.incomplete_notice_is_error:
                raise RulesError(problem + "; the practice's rule policy makes this an error")
            warnings.append(problem)
    return ResolvedRules(
        state=state,
        on=on,
        values=values,
        federal=federal,
        applied=tuple(applied),
        warnings=tuple(warnings),
        notes=tuple(notes),
        authorization=authorization,
        age=client.age_on(on),
        dataset_version=federal_rules.dataset_version or "",
        profession=profession,
        boards=boards,
    )


def board_notice_problems(practice: Practice, clinician: Clinician, state: str, on: date) -> list[str]:
    """What is wrong with the licensing-board notice ``clinician`` must give clients in ``state``:
    no board recorded for the clinician's profession, or an element the law requires (the board's
    telephone number, a prescribed statement) missing from the rule data and the practice's override.

    Raises:
        RulesError: a practice override of the state's board-notice rule is malformed.
    """
    rule = _rule(state, "board_notice")
    if rule is None:
        return []
    override = next((o for o in practice.rule_overrides if o.rule_id == rule.id), None)
    value = _override_value(override, rule) if override is not None else rule.value
    if not isinstance(value, BoardNotice) or not value.required:
        return []
    return _notice_boards(state, value, clinician_profession(clinician, state, on))[1]


_ELEMENT_WORDS = {
    "address": "mailing address",
    "phone": "telephone number",
    "email": "email address",
    "website": "website",
    "statement": "prescribed statement",
}


def _notice_boards(
    state: str, notice: BoardNotice, profession: Profession | None
) -> tuple[tuple[Board, ...], list[str]]:
    """The board entries a clinician's complaint notice names, and what is wrong with them: no entry
    for the profession (then every board is named), or a required element missing from the data."""
    problems: list[str] = []
    rule_id = f"US-{state}.board_notice"
    if profession is None:
        boards = notice.boards
        if any(b.professions for b in boards):
            problems.append(
                f"{rule_id}: the clinician's profession could not be told from the license type, so "
                "every board is named; set the license's profession in the practice file"
            )
    else:
        boards = notice.boards_for(profession.value)
        if not boards:
            problems.append(
                f"{rule_id}: the rule data records no notice for the {profession.value.replace('_', ' ')} "
                "profession, so no board is named; add one with a practice override of this rule if the "
                "law requires it"
            )
    for entry, element in notice.missing(boards):
        problems.append(
            f"{rule_id}: the notice must give the board's {_ELEMENT_WORDS.get(element, element)}, which the "
            f"rule data lacks for {entry.name}; add it with a practice override of this rule"
        )
    return boards, problems


def _typed(values: dict[str, TopicValue], topic: str, kind: type[Any]) -> Any:
    value = values.get(topic)
    return value if isinstance(value, kind) else None


# Re-exported typed accessors for the slot builder.
def telehealth_consent(resolved: ResolvedRules) -> TelehealthConsent | None:
    return _typed(resolved.values, "telehealth_consent", TelehealthConsent)  # type: ignore[no-any-return]


def duty_to_warn(resolved: ResolvedRules) -> DutyToWarn | None:
    return _typed(resolved.values, "duty_to_warn", DutyToWarn)  # type: ignore[no-any-return]


def board_notice(resolved: ResolvedRules) -> BoardNotice | None:
    return _typed(resolved.values, "board_notice", BoardNotice)  # type: ignore[no-any-return]


def retention(resolved: ResolvedRules) -> tuple[RecordRetention | None, RecordRetention | None]:
    return (
        _typed(resolved.values, "record_retention", RecordRetention),
        _typed(resolved.federal, "record_retention", RecordRetention),
    )


def recording(resolved: ResolvedRules) -> Recording | None:
    return _typed(resolved.values, "recording", Recording)  # type: ignore[no-any-return]


def crisis_lines(resolved: ResolvedRules) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for source in (resolved.federal, resolved.values):
        value = source.get("crisis_resources")
        if isinstance(value, CrisisResources):
            lines.extend((line.name, line.contact) for line in value.lines)
    return lines
