"""Session location checks: where the client says they are at the start of a session, and what
that means.

At the start of each video session the clinician asks where the client is. :func:`check_session`
compares the answer with the plan on file (the client's ``session_address``) and flags what must
happen: another address (update the emergency plan), another state (may the clinician see the
client there at all?), an emergency contact not confirmed. Each check is kept in the client's
session log (:mod:`._session_log`), which can be rendered as a PDF/A report
(:mod:`._session_report`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

import attrs

from .. import _fields as ft
from ..errors import InputError, JurisdictionError
from ..models import US_STATES, Address, Client, Practice
from ..rules import check_jurisdiction

__all__ = [
    "SESSION_CODES",
    "LoggedSession",
    "SessionCheck",
    "SessionCode",
    "SessionFinding",
    "SessionFindings",
    "check_session",
]

SessionCode = Literal[
    "not_allowed",
    "state_changed",
    "address_changed",
    "emergency_contact_unconfirmed",
    "local_resources_missing",
]
#: Every finding code, in the order findings are reported.
SESSION_CODES: tuple[SessionCode, ...] = get_args(SessionCode)
Severity = Literal["error", "warning"]


# --- the record -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SessionCheck:
    """Where a client said they were at the start of one session.

    Attributes:
        session_time: when the session started (timezone-aware; kept in UTC).
        client_id: the client.
        clinician_id: the clinician holding the session.
        reported_address: where the client says they are.
        reported_by: who gave the location (``client``, ``guardian``, ...).
        emergency_contact_confirmed: the emergency contact on file was confirmed this session.
        notes: anything else worth keeping (no clinical content belongs here).
    """

    __repr__ = ft.redacted_repr("client_id")

    session_time: datetime = attrs.field(converter=ft.to_aware_utc, validator=ft.aware_time)
    client_id: str = attrs.field(converter=ft.strip, validator=ft.filled_text())
    clinician_id: str = attrs.field(converter=ft.strip, validator=ft.filled_text())
    reported_address: Address = attrs.field(validator=ft.instance_of(Address, "must be an address"))
    reported_by: str = attrs.field(default="client", converter=ft.strip, validator=ft.filled_text())
    emergency_contact_confirmed: bool = attrs.field(validator=ft.flag)
    notes: str = attrs.field(default="", converter=ft.strip, validator=ft.any_text)

    @property
    def reported_state(self) -> str:
        """The state the client is in (from the reported address)."""
        return self.reported_address.state

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as a session log line and ``--json`` write it."""
        address = self.reported_address
        return {
            "session_time": self.session_time.isoformat().replace("+00:00", "Z"),
            "client_id": self.client_id,
            "clinician_id": self.clinician_id,
            "reported_address": {
                "line1": address.line1,
                "line2": address.line2,
                "city": address.city,
                "state": address.state,
                "postal_code": address.postal_code,
            },
            "reported_state": self.reported_state,
            "reported_by": self.reported_by,
            "emergency_contact_confirmed": self.emergency_contact_confirmed,
            "notes": self.notes,
        }


@attrs.frozen(kw_only=True)
class SessionFinding:
    """Something a session check found.

    Attributes:
        code: ``not_allowed`` (the clinician may not see the client where they are: the session
            must not go on), ``state_changed`` (another state than on file),
            ``address_changed`` (another address: update the emergency plan),
            ``emergency_contact_unconfirmed`` or ``local_resources_missing`` (the plan has no way to
            reach emergency help where the client is: a clinician's 911 call reaches the clinician's
            own dispatch centre).
        severity: ``error`` for ``not_allowed``, else ``warning`` (something to do now).
        message: what was found and what to do, in plain words.
    """

    code: SessionCode
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": self.message}


@attrs.frozen(kw_only=True)
class SessionFindings:
    """The outcome of :func:`check_session`.

    Attributes:
        check: the check as reported.
        findings: what must happen, errors first.
        authorization: how the clinician is authorised where the client is, when they are.
    """

    check: SessionCheck
    findings: tuple[SessionFinding, ...]
    authorization: str | None

    @property
    def allowed(self) -> bool:
        """The clinician may hold the session where the client is."""
        return not any(f.severity == "error" for f in self.findings)

    @property
    def codes(self) -> tuple[SessionCode, ...]:
        return tuple(f.code for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "authorization": self.authorization,
            "findings": [f.to_dict() for f in self.findings],
            "check": self.check.to_dict(),
        }


# --- the check --------------------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[.,#]")
_SPACES = re.compile(r"\s+")


def _norm(text: str | None) -> str:
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text or "")).strip().casefold()


def _same_place(a: Address, b: Address) -> bool:
    """The two addresses name the same place, ignoring case, spacing, ``.``/``,``/``#`` and a
    ZIP+4 suffix. Abbreviations (``St`` and ``Street``) are not expanded: they count as different,
    which only asks for the emergency plan to be confirmed."""
    fields = ("line1", "line2", "city", "state")
    return all(_norm(getattr(a, f)) == _norm(getattr(b, f)) for f in fields) and (
        a.postal_code[:5] == b.postal_code[:5]
    )


def check_session(
    practice: Practice, client: Client, reported: SessionCheck, on: date | None = None
) -> SessionFindings:
    """Compare where the client is with the plan on file and say what must happen.

    Args:
        practice: the practice.
        client: the client, with the plan on file (``session_address``, ``emergency_contact``).
        reported: the location check.
        on: the date for the license check; default: the session's date in the practice's time
            zone.

    Raises:
        InputError: ``reported`` is of another client, or names no clinician of the practice.
    """
    if reported.client_id != client.id:
        raise InputError("the session check is of another client", field="client_id")
    try:
        clinician = practice.clinician(reported.clinician_id)
    except ValueError as exc:
        raise InputError("no clinician of the practice has this id", field="clinician_id") from exc
    if on is None:
        on = reported.session_time.astimezone(ZoneInfo(practice.time_zone)).date()
    plan = client.session_address
    state = reported.reported_state
    findings: list[SessionFinding] = []
    authorization: str | None = None
    try:
        authorization = check_jurisdiction(practice, clinician, state, on)
    except JurisdictionError as exc:
        findings.append(
            SessionFinding(
                code="not_allowed",
                severity="error",
                message=f"Not allowed: {exc} Do not hold the session by video here; follow the "
                "practice's procedure (reschedule, or see the client once they are back in a state "
                "where the clinician is licensed).",
            )
        )
    if state != plan.state:
        findings.append(
            SessionFinding(
                code="state_changed",
                severity="warning",
                message=f"The client is in {US_STATES[state]}, not in {US_STATES[plan.state]} as in the "
                f"plan on file. The consent was made under {US_STATES[plan.state]} rules: if the client "
                "stays, update their session address and check re-consent (consentkit reconsent-check).",
            )
        )
    if not _same_place(reported.reported_address, plan):
        findings.append(
            SessionFinding(
                code="address_changed",
                severity="warning",
                message="The client is at another address than the plan on file: update the emergency "
                "plan for this session (the address emergency services would be sent to) and the local "
                "emergency resources.",
            )
        )
    if not reported.emergency_contact_confirmed:
        findings.append(
            SessionFinding(
                code="emergency_contact_unconfirmed",
                severity="warning",
                message="The emergency contact was not confirmed at the start of this session: confirm the "
                "contact on file or record a new one before going on.",
            )
        )
    missing = client.local_resources.missing()
    if missing:
        words = {
            "dispatch": "a number for the emergency dispatch centre (or police) there",
            "emergency_room": "the nearest emergency room",
            "crisis_line": "a local crisis line",
        }
        findings.append(
            SessionFinding(
                code="local_resources_missing",
                severity="warning",
                message="The emergency plan lacks "
                + ", ".join(words[m] for m in missing)
                + " for the client's session address (local_resources in the client file). A 911 call "
                "placed by the clinician reaches the clinician's own dispatch centre, not the client's: "
                "find them before an emergency.",
            )
        )
    return SessionFindings(check=reported, findings=tuple(findings), authorization=authorization)


@attrs.frozen(kw_only=True)
class LoggedSession:
    """One line of a session log.

    Attributes:
        line: the 1-based line number in the log.
        check: the location check.
        findings: what the check found when it was logged; ``None`` when it was logged unchecked.
        authorization: how the clinician was authorised, when checked and allowed.
    """

    __repr__ = ft.redacted_repr("line")

    line: int
    check: SessionCheck
    findings: tuple[SessionFinding, ...] | None
    authorization: str | None = None
