"""Is a practice ready to see clients by video? Platform, malpractice cover, licenses and state
training requirements, per clinician and per state served.

The checks read the practice model and the state rule data only; nothing is fetched. A state's
telehealth training requirement cannot be known from the practice file, so a practice attests the
hours each clinician completed (``training_hours``); without an attestation the requirement is
reported as a warning with its figure and citation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, Literal

import attrs

from ..errors import InputError, JurisdictionError
from ..models import US_STATES, Clinician, Practice
from ..rules import TelehealthTraining, board_notice_problems, check_jurisdiction, load_jurisdiction

__all__ = [
    "EXPIRY_WARNING_DAYS",
    "ReadinessCode",
    "ReadinessFinding",
    "ReadinessReport",
    "Severity",
    "check_practice",
]

#: A license or privilege expiring within this many days is reported as a warning.
EXPIRY_WARNING_DAYS = 60

Severity = Literal["error", "warning"]
ReadinessCode = Literal[
    "platform_not_hipaa_compliant",
    "no_baa",
    "malpractice_excludes_telehealth",
    "not_authorized",
    "license_expired",
    "license_expiring",
    "state_not_covered",
    "training_required",
    "training_insufficient",
    "rules_unverified",
    "rules_stale",
    "board_notice_incomplete",
    "records_not_attested",
]


@attrs.frozen(kw_only=True)
class ReadinessFinding:
    """One thing a practice must fix (``error``) or should know (``warning``).

    Attributes:
        code: what kind of finding (see :data:`ReadinessCode`).
        severity: ``error`` means the practice is not ready.
        message: the finding in plain words.
        clinician_id: the clinician concerned, or ``None`` for the practice as a whole.
        state: the state concerned, when there is one.
        citation: the legal source, for findings that come from the state rule data.
    """

    code: ReadinessCode
    severity: Severity
    message: str
    clinician_id: str | None = None
    state: str | None = None
    citation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class ReadinessReport:
    """The outcome of :func:`check_practice`.

    Attributes:
        checked_on: the date of the check.
        states: every state checked.
        clinician_states: per clinician id, the states checked for that clinician.
        findings: practice-wide findings first, then per clinician and state.
    """

    checked_on: date
    states: tuple[str, ...]
    clinician_states: dict[str, tuple[str, ...]] = attrs.field(eq=False)
    findings: tuple[ReadinessFinding, ...]

    @property
    def errors(self) -> tuple[ReadinessFinding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[ReadinessFinding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ready(self) -> bool:
        """No errors (warnings do not make a practice unready)."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked_on": self.checked_on.isoformat(),
            "ready": self.ready,
            "states": list(self.states),
            "clinician_states": {k: list(v) for k, v in self.clinician_states.items()},
            "findings": [f.to_dict() for f in self.findings],
        }


def _platform(practice: Practice) -> list[ReadinessFinding]:
    findings = []
    platform = practice.platform
    if not platform.hipaa_compliant:
        findings.append(
            ReadinessFinding(
                code="platform_not_hipaa_compliant",
                severity="error",
                message=f"the video platform {platform.name!r} is not HIPAA-compliant",
            )
        )
    if not platform.baa_in_place:
        findings.append(
            ReadinessFinding(
                code="no_baa",
                severity="error",
                message=f"there is no business associate agreement (BAA) with {platform.name!r}",
            )
        )
    records = practice.records_system
    if practice.records_location is None and not (records.encrypted and records.baa_in_place):
        findings.append(
            ReadinessFinding(
                code="records_not_attested",
                severity="warning",
                message="the practice file does not attest that client records are kept in an encrypted "
                "system under a business associate agreement (records_system.encrypted, "
                "records_system.baa_in_place); packets say only what is attested",
            )
        )
    if not practice.malpractice_covers_telehealth:
        findings.append(
            ReadinessFinding(
                code="malpractice_excludes_telehealth",
                severity="error",
                message="the malpractice insurance does not cover telehealth (online) sessions",
            )
        )
    return findings


def _own_states(clinician: Clinician) -> set[str]:
    return {lic.state for lic in clinician.licenses} | {p.state for p in clinician.compact_privileges}


def _credentials(clinician: Clinician, state: str) -> list[tuple[str, date | None]]:
    """(description, expiry) of every license and privilege the clinician holds in ``state``."""
    held: list[tuple[str, date | None]] = [
        (f"{lic.license_type} license {lic.number}", lic.expires)
        for lic in clinician.licenses
        if lic.state == state
    ]
    held.extend(
        (
            f"{p.compact.value.replace('_', ' ')} compact privilege{f' {p.number}' if p.number else ''}",
            p.expires,
        )
        for p in clinician.compact_privileges
        if p.state == state
    )
    return held


def _expiry(
    clinician: Clinician, state: str, on: date, *, authorized: bool, warn_days: int
) -> list[ReadinessFinding]:
    findings = []
    for what, expires in _credentials(clinician, state):
        if expires is None:
            continue
        if expires < on and authorized:
            findings.append(
                ReadinessFinding(
                    code="license_expired",
                    severity="warning",
                    message=f"{clinician.display_name}: the {state} {what} expired on {expires.isoformat()} "
                    "(another license or privilege covers the state; remove or renew it)",
                    clinician_id=clinician.id,
                    state=state,
                )
            )
        elif on <= expires <= on + timedelta(days=warn_days):
            findings.append(
                ReadinessFinding(
                    code="license_expiring",
                    severity="warning",
                    message=f"{clinician.display_name}: the {state} {what} expires on {expires.isoformat()}, "
                    f"within {warn_days} days",
                    clinician_id=clinician.id,
                    state=state,
                )
            )
    return findings


def _training(clinician: Clinician, state: str, attested: float | None) -> list[ReadinessFinding]:
    findings = []
    for rule in load_jurisdiction(state).for_topic("telehealth_training"):
        value = rule.value
        assert isinstance(value, TelehealthTraining)
        cite = rule.citations[0].cite if rule.citations else rule.id
        need = (
            f"{US_STATES[state]} requires {value.hours} hours of telehealth training before "
            f"distance services (applies to: {value.profession}; {cite})"
        )
        if attested is not None and attested >= value.hours:
            continue
        findings.append(
            ReadinessFinding(
                code="training_required" if attested is None else "training_insufficient",
                severity="warning" if attested is None else "error",
                message=f"{clinician.display_name}: {need}; attest the hours completed"
                if attested is None
                else f"{clinician.display_name}: {attested:g} hours attested; {need}",
                clinician_id=clinician.id,
                state=state,
                citation=cite,
            )
        )
    return findings


def _rule_quality(practice: Practice, state: str, on: date) -> list[ReadinessFinding]:
    policy = practice.rule_policy
    overridden = {o.rule_id for o in practice.rule_overrides}
    rules = [r for r in load_jurisdiction(state).rules if r.id not in overridden]
    unverified = [r.id for r in rules if r.confidence == "unverified"]
    stale_before = on - timedelta(days=policy.max_age_days)
    stale = [r.id for r in rules if r.last_reviewed < stale_before]
    findings = []
    if unverified:
        findings.append(
            ReadinessFinding(
                code="rules_unverified",
                severity="error" if policy.unverified_is_error else "warning",
                message=f"{US_STATES[state]}: {len(unverified)} rule(s) are unverified conservative defaults "
                f"({', '.join(unverified)}); review them with counsel or override them",
                state=state,
            )
        )
    if stale:
        findings.append(
            ReadinessFinding(
                code="rules_stale",
                severity="error" if policy.stale_is_error else "warning",
                message=f"{US_STATES[state]}: {len(stale)} rule(s) were last reviewed more than "
                f"{policy.max_age_days} days before {on.isoformat()} ({', '.join(stale)})",
                state=state,
            )
        )
    return findings


def _state_codes(states: Iterable[str]) -> set[str]:
    codes = set()
    for state in states:
        code = state.strip().upper()
        if code not in US_STATES:
            raise InputError("not a US state or DC postal code (e.g. MS)", field="states")
        codes.add(code)
    return codes


def check_practice(
    practice: Practice,
    on: date,
    *,
    states: Iterable[str] | None = None,
    training_hours: Mapping[str, float] | None = None,
    warn_days: int = EXPIRY_WARNING_DAYS,
) -> ReadinessReport:
    """Check whether ``practice`` is ready for telehealth on ``on``.

    For the practice: a HIPAA-compliant platform, a business associate agreement, malpractice
    cover of telehealth (each an error when missing). For each clinician and each state the
    clinician is checked for (the states of the clinician's licenses and compact privileges,
    plus ``states``): whether the clinician is authorised there (:func:`check_jurisdiction`,
    with the state rules, e.g. a home state that requires a license in both locations); expired
    and soon-expiring licenses and privileges; the state's telehealth training requirement. For
    each state checked: unverified and stale rules (warnings, or errors when the practice's rule
    policy says so).

    A clinician not authorised in one of their own credential states is an error. ``states`` are
    states the practice's clients are in: a clinician not authorised there is a warning (another
    clinician may see those clients), and a state no clinician is authorised for is an error.

    Args:
        practice: the practice.
        on: the date of the check.
        states: more states to check (USPS codes), e.g. where the practice's clients are.
        training_hours: per clinician id, the telehealth training hours the practice attests the
            clinician completed.
        warn_days: licenses expiring within this many days are warnings.

    Raises:
        InputError: ``states`` holds a code that is not a state, or ``training_hours`` names a
            clinician the practice does not have or gives negative hours.
    """
    given = _state_codes(states or ())
    hours: dict[str, float] = {
        c.id: float(c.telehealth_training_hours)
        for c in practice.clinicians
        if c.telehealth_training_hours is not None
    }
    hours.update(training_hours or {})
    known = {c.id for c in practice.clinicians}
    for clinician_id, value in hours.items():
        if clinician_id not in known:
            raise InputError("names no clinician of the practice", field=f"training_hours.{clinician_id}")
        if value < 0:
            raise InputError("hours must be 0 or more", field=f"training_hours.{clinician_id}")
    findings = _platform(practice)
    per_clinician: dict[str, tuple[str, ...]] = {}
    covered: set[str] = set()
    clinician_findings: list[ReadinessFinding] = []
    for clinician in practice.clinicians:
        own = _own_states(clinician)
        checked = tuple(sorted(own | given))
        per_clinician[clinician.id] = checked
        for state in checked:
            try:
                check_jurisdiction(practice, clinician, state, on)
            except JurisdictionError as exc:
                authorized = False
                expired = any(e is not None and e < on for _, e in _credentials(clinician, state))
                clinician_findings.append(
                    ReadinessFinding(
                        code="license_expired" if expired else "not_authorized",
                        severity="error" if state in own else "warning",
                        message=str(exc),
                        clinician_id=clinician.id,
                        state=state,
                    )
                )
            else:
                authorized = True
                covered.add(state)
            clinician_findings.extend(
                _expiry(clinician, state, on, authorized=authorized, warn_days=warn_days)
            )
            if authorized:
                clinician_findings.extend(_training(clinician, state, hours.get(clinician.id)))
                clinician_findings.extend(
                    ReadinessFinding(
                        code="board_notice_incomplete",
                        severity="error" if practice.rule_policy.incomplete_notice_is_error else "warning",
                        message=f"{clinician.display_name}: {problem}",
                        clinician_id=clinician.id,
                        state=state,
                    )
                    for problem in board_notice_problems(practice, clinician, state, on)
                )
    for state in sorted(given - covered):
        findings.append(
            ReadinessFinding(
                code="state_not_covered",
                severity="error",
                message=f"no clinician of the practice may see clients located in {US_STATES[state]} on "
                f"{on.isoformat()}",
                state=state,
            )
        )
    all_states = tuple(sorted({s for checked in per_clinician.values() for s in checked}))
    for state in all_states:
        findings.extend(_rule_quality(practice, state, on))
    return ReadinessReport(
        checked_on=on,
        states=all_states,
        clinician_states=per_clinician,
        findings=(*findings, *clinician_findings),
    )
