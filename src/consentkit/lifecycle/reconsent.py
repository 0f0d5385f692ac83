"""Must a client sign again? Compare a packet's record with the practice, client, templates and
rules of today.

The record is a packet folder's ``manifest.json`` (see ``docs/file-formats.md``), read as a
:class:`~consentkit.records.Manifest`. The state-rule clauses are compared as the resolved
rules in the template set's words (:func:`~consentkit.rendering.clause_texts` of today's
resolution), against the ones the manifest records; no template context is built.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import attrs

from ..errors import ConsentKitError, InputError, JurisdictionError, PacketError
from ..models import US_STATES, Client, Clinician, Practice
from ..records import MANIFEST_NAME, Manifest, RecordError, read_manifest
from ..rendering import TemplateSet, clause_texts, load_template_set, packet_facts, slots_from_rules
from ..rules import MinorConsent, ResolvedRules, check_jurisdiction, minor_consent_rule, resolve_rules

__all__ = [
    "REASON_CODES",
    "Reason",
    "ReasonCode",
    "ReconsentDecision",
    "ScanResult",
    "ScanStatus",
    "load_manifest",
    "reconsent_check",
    "reconsent_scan",
]

ReasonCode = Literal[
    "template_changed",
    "rule_changed",
    "location_state_changed",
    "came_of_age",
    "reached_self_consent_age",
    "renewal_due",
    "jurisdiction",
    "clinician_changed",
]
#: Every reason code, in the order reasons are reported.
REASON_CODES: tuple[ReasonCode, ...] = (
    "jurisdiction",
    "clinician_changed",
    "location_state_changed",
    "came_of_age",
    "reached_self_consent_age",
    "template_changed",
    "rule_changed",
    "renewal_due",
)

# The clause keys of the manifest's ``clauses`` (the template context's ``rules``), with the
# words used to name them and the rule topic behind them. ``state`` and ``state_name`` are left
# out: a new state is reported as ``location_state_changed``.
_CLAUSES: dict[str, tuple[str, str | None]] = {
    "minor_consent": ("minor consent", "minor_consent"),
    "minor_self_consent": ("minor self-consent", "minor_consent"),
    "age_of_majority": ("age of majority", "minor_consent"),
    "duty_to_warn": ("duty to warn", "duty_to_warn"),
    "board_notice": ("licensing board notice", "board_notice"),
    "retention": ("record retention", "record_retention"),
    "recording": ("recording", "recording"),
    "crisis_lines": ("crisis lines", "crisis_resources"),
    "notices": ("telehealth notices", "telehealth_consent"),
    "sources": ("rule sources", None),
}


@attrs.frozen(kw_only=True)
class Reason:
    """One reason a client must sign again.

    Attributes:
        code: what kind of change (see :data:`REASON_CODES`).
        message: the reason in plain words, for people.
        subject: what changed, when the code alone does not say: the template id for
            ``template_changed``, the clause key (``recording``) for ``rule_changed``.
    """

    code: ReasonCode
    message: str
    subject: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "subject": self.subject}


@attrs.frozen(kw_only=True)
class ReconsentDecision:
    """Whether a client must sign their consent packet again, and why.

    Attributes:
        packet_id: the packet's id from the record (``None`` when it has none).
        client_id: the client.
        document_date: the date of the packet's documents.
        checked_on: the date of the check.
        reasons: every reason found, in the order of :data:`REASON_CODES`; empty when the packet
            still stands.
    """

    packet_id: str | None
    client_id: str
    document_date: date
    checked_on: date
    reasons: tuple[Reason, ...]

    @property
    def required(self) -> bool:
        """The client must sign again."""
        return bool(self.reasons)

    @property
    def codes(self) -> tuple[ReasonCode, ...]:
        """The reason codes, without repeats, in report order."""
        return tuple(dict.fromkeys(r.code for r in self.reasons))

    def to_dict(self) -> dict[str, Any]:
        return {
            "packet_id": self.packet_id,
            "client_id": self.client_id,
            "document_date": self.document_date.isoformat(),
            "checked_on": self.checked_on.isoformat(),
            "reconsent_required": self.required,
            "reasons": [r.to_dict() for r in self.reasons],
        }


# --- reading the record ---------------------------------------------------------------------------


def load_manifest(packet_dir: str | Path) -> Manifest:
    """Read a packet folder's ``manifest.json``.

    Raises:
        PacketError: the folder has no manifest, or it cannot be read or is malformed.
    """
    return read_manifest(packet_dir)


@attrs.frozen(kw_only=True)
class _Record:
    """The fields of a manifest a re-consent check reads, checked."""

    packet_id: str | None
    client_id: str
    clinician_id: str | None
    document_date: date
    state: str
    minor: bool
    minor_self_consent: bool | None
    locale: str
    templates: tuple[tuple[str, str], ...]
    clauses: dict[str, Any] | None

    @classmethod
    def from_manifest(cls, manifest: Manifest | Mapping[str, Any]) -> _Record:
        if not isinstance(manifest, Manifest):
            try:
                manifest = Manifest.from_json(manifest)
            except RecordError as exc:
                raise PacketError(f"the packet record is malformed ({exc})") from exc
        for key in ("client_id", "state", "locale"):
            if not getattr(manifest, key):
                raise PacketError(f"the packet record has no valid {key!r}")
        if manifest.state not in US_STATES:
            raise PacketError("the packet record's 'state' is not a US state code")
        templates = []
        for index, document in enumerate(manifest.documents):
            if document.template_sha256 is None:
                raise PacketError(f"the packet record's documents[{index}] lacks an id or template_sha256")
            templates.append((document.id, document.template_sha256))
        try:
            rules = manifest.rules_record()
        except RecordError:
            rules = None
        return cls(
            packet_id=manifest.packet_id,
            client_id=manifest.client_id,
            clinician_id=manifest.clinician_id,
            document_date=manifest.document_date,
            state=manifest.state,
            minor=manifest.minor,
            minor_self_consent=rules.minor_self_consent if rules is not None else None,
            locale=manifest.locale,
            templates=tuple(templates),
            clauses=manifest.clauses,
        )


# --- the checks -----------------------------------------------------------------------------------


def _template_reasons(record: _Record, templates: TemplateSet) -> Iterator[Reason]:
    current = {info.id: info for info in templates.templates}
    for template_id, sha256 in record.templates:
        info = current.get(template_id)
        if info is None:
            yield Reason(
                code="template_changed",
                subject=template_id,
                message=f"the template {template_id!r} is no longer in the {templates.locale} template set",
            )
        elif info.sha256 != sha256:
            yield Reason(
                code="template_changed",
                subject=template_id,
                message=f"the text of {info.title!r} ({template_id}) changed since the client signed",
            )


def _resolve_as_signed(
    practice: Practice, clinician: Clinician, client: Client, record: _Record, on: date
) -> ResolvedRules | None:
    """Today's rule data and overrides, for the client at the age they were on the document date.

    Resolving on the document date keeps the client's age as it was, so a birthday shows up as
    an age reason, not as a changed clause. When the clinician was not authorised for the
    client's (new) state on that date, the rules are resolved on ``on`` instead; ``None`` when
    neither works (the ``jurisdiction`` reason says why).
    """
    for day in (record.document_date, on):
        try:
            return resolve_rules(practice, clinician, client, day)
        except JurisdictionError:
            continue
    return None


def _changed_clauses(
    practice: Practice,
    clinician: Clinician,
    client: Client,
    record: _Record,
    clauses: Mapping[str, Any],
    templates: TemplateSet,
    on: date,
) -> list[str]:
    """The keys of the clauses that read differently now (empty when they cannot be worked out
    because the clinician may not see the client there: the ``jurisdiction`` reason says so)."""
    resolved = _resolve_as_signed(practice, clinician, client, record, on)
    if resolved is None:
        return []
    slots = slots_from_rules(resolved, templates)
    try:
        facts = packet_facts(practice, client, slots, record.document_date)
    except InputError:
        # The client no longer fits a packet as it was signed (e.g. a date of birth corrected to
        # a later date); the age reasons or a new render report it.
        return []
    now = clause_texts(slots, templates, minor=facts.minor)
    return [
        key
        for key in _CLAUSES
        if (key in clauses or key in now) and (key not in clauses or clauses[key] != now.get(key))
    ]


def _clause_reasons(record: _Record, changed: list[str], state: str) -> Iterator[Reason]:
    if record.clauses is None:
        yield Reason(
            code="rule_changed",
            message="the packet record does not say which state-rule clauses the client was shown, "
            "so unchanged clauses cannot be confirmed",
        )
        return
    for key in changed:
        label, topic = _CLAUSES[key]
        rule = f" (rule US-{state}.{topic})" if topic else ""
        yield Reason(
            code="rule_changed",
            subject=key,
            message=f"the {label} clause reads differently now{rule}: the rule data, a practice "
            "override or the template set's wording changed",
        )


def _age_reasons(practice: Practice, client: Client, record: _Record, on: date) -> Iterator[Reason]:
    if not record.minor:
        return
    state = client.session_address.state
    now_rule: MinorConsent = minor_consent_rule(practice, state)
    age_now = client.age_on(on)
    state_name = US_STATES[state]
    if age_now >= now_rule.age_of_majority:
        yield Reason(
            code="came_of_age",
            message=f"the client was a minor on {record.document_date.isoformat()} and is now "
            f"{age_now}, of age in {state_name} ({now_rule.age_of_majority}); the client consents as an "
            "adult",
        )
        return
    if now_rule.self_consent_age is None or age_now < now_rule.self_consent_age:
        return
    was_self_consent = record.minor_self_consent
    if was_self_consent is None:
        then_rule = minor_consent_rule(practice, record.state)
        age_then = client.age_on(record.document_date)
        was_self_consent = then_rule.self_consent_age is not None and age_then >= then_rule.self_consent_age
    if not was_self_consent:
        yield Reason(
            code="reached_self_consent_age",
            message=f"the client is now {age_now}, at or over the age ({now_rule.self_consent_age}) at "
            f"which a minor may consent alone to outpatient counseling in {state_name}",
        )


def reconsent_check(
    manifest: Manifest | Mapping[str, Any],
    practice: Practice,
    client: Client,
    *,
    on: date,
    templates: TemplateSet | None = None,
) -> ReconsentDecision:
    """Decide whether ``client`` must sign the packet ``manifest`` records again, as of ``on``.

    The reasons (codes in :data:`REASON_CODES`):

    - ``jurisdiction``: the client's clinician is not authorised on ``on`` for the state where
      the client now is (the message gives the reason from :func:`check_jurisdiction`).
    - ``clinician_changed``: the client's clinician is not the one the packet names, or that
      clinician is no longer with the practice.
    - ``location_state_changed``: the client's session address is in another state (the message
      names the clauses that read differently under the new state's rules; they are not
      repeated as ``rule_changed``).
    - ``came_of_age``: the client was a minor on the document date and has reached the age of
      majority of their state.
    - ``reached_self_consent_age``: the client was below the age at which a minor may consent
      alone and has reached it (and is still a minor).
    - ``template_changed``: a document's template differs (by SHA-256) from the template of the
      same id in the current set, or is no longer in it.
    - ``rule_changed``: a state-rule clause the documents showed reads differently with today's
      rule data, practice overrides and clause wording (one reason per clause; the client's age
      is taken as on the document date, so birthdays are age reasons only).
    - ``renewal_due``: ``practice.consent_renewal_days`` (when not 0) have passed since the
      document date.

    Args:
        manifest: the packet's manifest (see :func:`load_manifest`; plain data is read as one).
        practice: the practice as it is today.
        client: the client as they are today.
        on: the date of the check.
        templates: the current template set for the record's locale; default: the stock set of
            the record's locale. A set of another locale is ignored (the stock set is used).

    Raises:
        PacketError: the record lacks a field the check needs.
        InputError: the record is of another client, or ``on`` is before the document date.
        TemplateError: the record's locale has no stock template set.
        RulesError: a practice override is malformed, or the practice's rule policy refuses a
            stale or unverified rule.
    """
    record = _Record.from_manifest(manifest)
    if record.client_id != client.id:
        raise InputError("the packet is of another client", field="id")
    if on < record.document_date:
        raise InputError("the check date is before the packet's document date", field="on")
    if templates is None or templates.locale != record.locale:
        templates = load_template_set(record.locale)
    reasons: list[Reason] = []
    state = client.session_address.state
    clinician: Clinician | None
    try:
        clinician = practice.clinician(client.clinician_id)
    except ValueError:
        clinician = None
        reasons.append(
            Reason(
                code="clinician_changed",
                subject=client.clinician_id,
                message=f"the client's clinician ({client.clinician_id}) is no longer with the practice",
            )
        )
    if clinician is not None:
        try:
            check_jurisdiction(practice, clinician, state, on)
        except JurisdictionError as exc:
            reasons.append(Reason(code="jurisdiction", subject=state, message=str(exc)))
        if record.clinician_id is not None and clinician.id != record.clinician_id:
            reasons.append(
                Reason(
                    code="clinician_changed",
                    subject=clinician.id,
                    message=f"the packet names clinician {record.clinician_id}; the client now sees "
                    f"{clinician.id}",
                )
            )
    changed: list[str] = []
    if clinician is not None and record.clauses is not None:
        changed = _changed_clauses(practice, clinician, client, record, record.clauses, templates, on)
    if state != record.state:
        differs = ""
        if changed:
            labels = ", ".join(_CLAUSES[key][0] for key in changed)
            differs = f"; under {US_STATES[state]}'s rules these clauses read differently: {labels}"
        reasons.append(
            Reason(
                code="location_state_changed",
                subject=state,
                message=f"the client now is in {US_STATES[state]} during sessions; the packet was made for "
                f"{US_STATES[record.state]}{differs}",
            )
        )
    reasons.extend(_age_reasons(practice, client, record, on))
    reasons.extend(_template_reasons(record, templates))
    if state == record.state:
        reasons.extend(_clause_reasons(record, changed, state))
    days = practice.consent_renewal_days
    if days and on >= record.document_date + timedelta(days=days):
        due = record.document_date + timedelta(days=days)
        reasons.append(
            Reason(
                code="renewal_due",
                message=f"the practice renews consent every {days} days; this packet of "
                f"{record.document_date.isoformat()} was due for renewal on {due.isoformat()}",
            )
        )
    order = {code: n for n, code in enumerate(REASON_CODES)}
    return ReconsentDecision(
        packet_id=record.packet_id,
        client_id=client.id,
        document_date=record.document_date,
        checked_on=on,
        reasons=tuple(sorted(reasons, key=lambda r: order[r.code])),
    )


# --- a caseload -----------------------------------------------------------------------------------

ScanStatus = Literal["current", "reconsent", "superseded", "no_packet", "error"]


@attrs.frozen(kw_only=True)
class ScanResult:
    """The outcome for one packet folder (or one client without a packet) of a caseload scan.

    Attributes:
        status: ``current`` (the packet stands), ``reconsent`` (the client must sign again),
            ``superseded`` (the client has a later packet, which was checked instead),
            ``no_packet`` (a client of the caseload has no packet in the folder) or ``error``
            (the packet could not be checked; ``error`` says why).
        folder: the packet folder, or ``None`` for ``no_packet``.
        client_id: the client, when known.
        decision: the decision, for ``current`` and ``reconsent``.
        error: what went wrong, for ``error``.
    """

    status: ScanStatus
    folder: Path | None
    client_id: str | None
    decision: ReconsentDecision | None = None
    error: str | None = None

    @property
    def needs_attention(self) -> bool:
        """The client must sign (again), or the packet could not be checked."""
        return self.status in ("reconsent", "no_packet", "error")

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "folder": self.folder.name if self.folder is not None else None,
            "client_id": self.client_id,
            "decision": self.decision.to_dict() if self.decision is not None else None,
            "error": self.error,
        }


def _packet_folders(folder: Path) -> list[Path]:
    if (folder / MANIFEST_NAME).is_file():
        return [folder]
    try:
        children = sorted(folder.iterdir())
    except OSError as exc:
        raise InputError(f"cannot read the folder ({exc.strerror})", source=folder.name) from exc
    return [
        c for c in children if c.is_dir() and not c.name.startswith(".") and (c / MANIFEST_NAME).is_file()
    ]


def _sort_key(manifest: Manifest) -> tuple[date, datetime]:
    return (manifest.document_date, manifest.generated_at or datetime.min.replace(tzinfo=UTC))


def reconsent_scan(
    folder: str | Path,
    practice: Practice,
    clients_by_id: Mapping[str, Client],
    on: date,
    *,
    templates: TemplateSet | None = None,
) -> list[ScanResult]:
    """Check a caseload: every packet folder (with a ``manifest.json``) directly inside ``folder``.

    A client with several packets is checked on the latest (by document date, then generation
    time); the others are ``superseded``. A client of ``clients_by_id`` without any packet is
    ``no_packet``. A packet that cannot be checked (unreadable manifest, unknown client, malformed
    override) is an ``error`` result; the scan goes on.

    Returns:
        The results in folder-name order, then the clients without a packet in id order.

    Raises:
        InputError: ``folder`` cannot be read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", source=folder.name)
    results: dict[Path, ScanResult] = {}
    latest: dict[str, tuple[Path, Manifest]] = {}
    for packet in _packet_folders(folder):
        try:
            manifest = load_manifest(packet)
        except PacketError as exc:
            results[packet] = ScanResult(status="error", folder=packet, client_id=None, error=str(exc))
            continue
        client_id = manifest.client_id
        if not client_id:
            results[packet] = ScanResult(
                status="error", folder=packet, client_id=None, error="the manifest has no client_id"
            )
            continue
        earlier = latest.get(client_id)
        if earlier is None or _sort_key(manifest) > _sort_key(earlier[1]):
            if earlier is not None:
                results[earlier[0]] = ScanResult(status="superseded", folder=earlier[0], client_id=client_id)
            latest[client_id] = (packet, manifest)
        else:
            results[packet] = ScanResult(status="superseded", folder=packet, client_id=client_id)
    for client_id, (packet, manifest) in latest.items():
        client = clients_by_id.get(client_id)
        if client is None:
            results[packet] = ScanResult(
                status="error",
                folder=packet,
                client_id=client_id,
                error="no client with this id in the caseload",
            )
            continue
        try:
            decision = reconsent_check(manifest, practice, client, on=on, templates=templates)
        except ConsentKitError as exc:
            results[packet] = ScanResult(status="error", folder=packet, client_id=client_id, error=str(exc))
            continue
        results[packet] = ScanResult(
            status="reconsent" if decision.required else "current",
            folder=packet,
            client_id=client_id,
            decision=decision,
        )
    ordered = [results[p] for p in sorted(results)]
    ordered.extend(
        ScanResult(status="no_packet", folder=None, client_id=client_id)
        for client_id in sorted(clients_by_id)
        if client_id not in latest
    )
    return ordered
