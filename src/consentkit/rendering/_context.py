"""Build the variables a template sees from the models.

The context is plain data already formatted for the document's locale (see
``docs/template-variables.md``). It depends on the practice, the client, the template set's
vocabulary, the rule slots, the document date and the packet id: nothing else, so the same inputs
always give the same text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

from ..errors import InputError
from ..formatting import format_date, format_list, format_money, format_phone, format_time_zone
from ..models import US_STATES, Client, Clinician, Connection, Money, Phone, Practice, ServiceType
from ._templates import TemplateSet

__all__ = ["RuleSlots", "Signer", "build_context", "packet_signers"]


@attrs.frozen(kw_only=True)
class RuleSlots:
    """The state-specific clauses a template shows.

    Until state rules are resolved for a client, :meth:`defaults` gives neutral statements.
    """

    state: str
    minor_consent: str
    minor_self_consent: bool = False
    duty_to_warn: str
    board_notice: str = ""
    retention: str
    recording: str
    crisis_lines: tuple[tuple[str, str], ...] = ()
    notices: tuple[str, ...] = ()
    age_of_majority: int = 18
    sources: tuple[tuple[str, str], ...] = ()

    @classmethod
    def defaults(cls, state: str, templates: TemplateSet) -> RuleSlots:
        """Neutral clauses from the template set's ``clauses.toml``, with 911 and 988."""
        return cls(
            state=state,
            minor_consent=templates.default("minor_consent"),
            duty_to_warn=templates.default("duty_to_warn"),
            board_notice=templates.default("board_notice"),
            retention=templates.default("retention"),
            recording=templates.default("recording"),
            crisis_lines=(
                (templates.word("crisis", "emergency"), templates.word("crisis", "emergency_contact")),
                (templates.word("crisis", "lifeline"), templates.word("crisis", "lifeline_contact")),
            ),
        )


@attrs.frozen
class Signer:
    """Someone who signs the packet: ``key`` is the signature-place anchor suffix."""

    key: str
    role: str
    name: str
    relationship: str = ""


def packet_signers(client: Client, clinician: Clinician, *, minor: bool) -> list[Signer]:
    """Everyone who may sign documents of this client's packet."""
    signers = [Signer("client", "client", client.legal_name, "self")]
    for n, participant in enumerate(client.participants, start=1):
        signers.append(Signer(f"co_client-{n}", "co_client", participant.name, participant.relationship))
    if minor:
        for n, guardian in enumerate(client.guardians, start=1):
            signers.append(Signer(f"guardian-{n}", "guardian", guardian.name, guardian.relationship))
    signers.append(Signer("clinician", "clinician", clinician.display_name, "clinician"))
    return signers


def _money(value: Money | None, locale: str) -> str:
    return "" if value is None else format_money(value.amount, value.currency, locale)


def _phone(value: Phone | None, locale: str) -> str:
    return "" if value is None else format_phone(value.e164, locale)


def _clinician(clinician: Clinician, templates: TemplateSet) -> dict[str, Any]:
    locale = templates.locale
    licenses = [
        {
            "state": US_STATES[lic.state],
            "state_code": lic.state,
            "type": lic.license_type,
            "number": lic.number,
            "expires": format_date(lic.expires, locale),
        }
        for lic in clinician.licenses
    ]
    summary = format_list(
        [
            templates.phrase(
                "license",
                "summary",
                type=lic["type"],
                number=lic["number"],
                state=lic["state"],
                expires=lic["expires"],
            )
            for lic in licenses
        ],
        locale,
    )
    supervisor = None
    if clinician.supervisor is not None:
        sup = clinician.supervisor
        supervisor = {
            "name": sup.name,
            "credentials": sup.credentials,
            "display_name": f"{sup.name}, {sup.credentials}" if sup.credentials else sup.name,
            "phone": _phone(sup.phone, locale),
            "email": sup.email or "",
        }
    return {
        "id": clinician.id,
        "name": clinician.name,
        "credentials": clinician.credentials,
        "display_name": clinician.display_name,
        "email": clinician.email or "",
        "phone": _phone(clinician.phone, locale),
        "licenses": licenses,
        "license_summary": summary,
        "compact_privileges": [
            {
                "compact": templates.word("compact", p.compact.value),
                "state": US_STATES[p.state],
                "number": p.number or "",
            }
            for p in clinician.compact_privileges
        ],
        "supervisor": supervisor,
    }


def build_context(
    practice: Practice,
    client: Client,
    *,
    templates: TemplateSet,
    on: date,
    packet_id: str,
    rules: RuleSlots | None = None,
) -> dict[str, Any]:
    """The template variables for one client's packet (without ``doc`` and ``signature_place``,
    which the renderer adds per document).

    Raises:
        InputError: the client's data does not fit what the packet needs (e.g. a minor with no
            guardian, or an unknown clinician id).
    """
    locale = templates.locale
    state = client.session_address.state
    slots = rules or RuleSlots.defaults(state, templates)
    try:
        clinician = practice.clinician(client.clinician_id)
    except ValueError as exc:
        raise InputError("no clinician of the practice has this id", field="clinician_id") from exc
    age = client.age_on(on)
    if age < 0:
        raise InputError("the date of birth is after the document date", field="date_of_birth")
    minor = age < slots.age_of_majority
    if minor and not slots.minor_self_consent and not client.guardians:
        raise InputError(
            f"the client is under {slots.age_of_majority} and needs a parent or guardian", field="guardians"
        )
    fees = practice.fees
    plan = practice.failure_plan
    populations = [templates.word("population", p.value) for p in practice.populations]
    participants = [{"name": p.name, "relationship": p.relationship} for p in client.participants]
    guardians = [
        {
            "name": g.name,
            "relationship": g.relationship,
            "phone": _phone(g.phone, locale),
            "email": g.email or "",
        }
        for g in client.guardians
    ]
    signers = packet_signers(client, clinician, minor=minor)
    return {
        "practice": {
            "name": practice.name,
            "address": practice.address.one_line(),
            "phone": _phone(practice.phone, locale),
            "email": practice.email,
            "website": practice.website or "",
            "time_zone": templates.phrase(
                "packet",
                "time_zone",
                name=format_time_zone(practice.time_zone, locale),
                zone=practice.time_zone,
            ),
            "time_zone_id": practice.time_zone,
            "platform": {
                "name": practice.platform.name,
                "hipaa_compliant": practice.platform.hipaa_compliant,
                "baa_in_place": practice.platform.baa_in_place,
            },
            "malpractice_covers_telehealth": practice.malpractice_covers_telehealth,
            "fees": {
                "session": _money(fees.session, locale),
                "intake": _money(fees.intake, locale),
                "late_cancellation": _money(fees.late_cancellation, locale),
                "no_show": _money(fees.no_show, locale),
                "cancellation_notice_hours": fees.cancellation_notice_hours,
                "accepts_insurance": fees.accepts_insurance,
            },
            "populations": populations,
            "populations_text": format_list(populations, locale),
            "failure_plan": {
                "reconnect_by": practice.text("reconnect_by", locale),
                "wait_minutes": plan.wait_minutes,
                "phone_fallback": _phone(plan.phone_fallback, locale),
                "lost_time": practice.text("lost_time", locale),
            },
            "response_time": practice.text("response_time", locale),
            "recording_policy": practice.text("recording_policy", locale),
            "emergency_procedures": practice.text("emergency_procedures", locale),
            "records_location": practice.text("records_location", locale),
        },
        "clinician": _clinician(clinician, templates),
        "client": {
            "id": client.id,
            "legal_name": client.legal_name,
            "preferred_name": client.display_name,
            "date_of_birth": format_date(client.date_of_birth, locale),
            "age": age,
            "is_minor": minor,
            "language": client.preferred_language,
            "phone": _phone(client.phone, locale),
            "email": client.email or "",
            "session_address": client.session_address.one_line(),
            "session_state": state,
            "session_state_name": US_STATES[state],
            "emergency_contact": {
                "name": client.emergency_contact.name,
                "relationship": client.emergency_contact.relationship,
                "phone": _phone(client.emergency_contact.phone, locale),
            },
            "device": templates.word("device", client.device.value),
            "connection": templates.word("connection", client.connection.value),
            "public_wifi": client.connection is Connection.PUBLIC_WIFI,
            "service_type": templates.word("service_type", client.service_type.value),
            "is_couple": client.service_type is ServiceType.COUPLE,
            "is_family": client.service_type is ServiceType.FAMILY,
            "participants": participants,
            "participants_text": format_list([p["name"] for p in participants], locale),
            "guardians": guardians,
            "guardians_text": format_list([g["name"] for g in guardians], locale),
        },
        "rules": {
            "state": slots.state,
            "state_name": US_STATES.get(slots.state, slots.state),
            "minor_consent": slots.minor_consent,
            "minor_self_consent": slots.minor_self_consent,
            "duty_to_warn": slots.duty_to_warn,
            "board_notice": slots.board_notice,
            "retention": slots.retention,
            "recording": slots.recording,
            "crisis_lines": [{"name": name, "contact": contact} for name, contact in slots.crisis_lines],
            "notices": list(slots.notices),
            "age_of_majority": slots.age_of_majority,
            "sources": [{"rule": rule, "cite": cite} for rule, cite in slots.sources],
        },
        "signers": [attrs.asdict(s) for s in signers],
        "_packet": {
            "packet_id": packet_id,
            "date": format_date(on, locale),
            "locale": locale,
            "title": templates.phrase("packet", "title", packet_id=packet_id),
        },
    }
