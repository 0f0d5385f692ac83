"""Build the variables a template sees from the models.

The context is plain data already formatted for the document's locale (see
``docs/template-variables.md``). It depends on the practice, the client, the template set's
vocabulary, the rule slots, the document date and the packet id: nothing else, so the same inputs
always give the same text.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

import attrs

from ..errors import InputError
from ..formatting import format_date, format_list, format_money, format_phone, format_time_zone
from ..models import US_STATES, Client, Clinician, Connection, Money, Phone, Practice, ServiceType
from ..rules import MinorConsent, load_jurisdiction
from ._templates import TemplateSet

__all__ = [
    "PacketFacts",
    "RuleSlots",
    "Signer",
    "age_of_majority",
    "build_context",
    "clause_texts",
    "packet_facts",
    "packet_signers",
    "signing_guardians",
]


@attrs.frozen(kw_only=True)
class RuleSlots:
    """The state-specific clauses a template shows.

    Until state rules are resolved for a client, :meth:`defaults` gives neutral statements.

    Attributes:
        minor_self_consent: the client is a minor who consents alone.
        minor_parents: for a minor who consents alone, what a parent or guardian is told.
        minor_payment: for a minor who consents alone, who pays (when no guardian has agreed to).
    """

    state: str
    minor_consent: str
    minor_self_consent: bool = False
    minor_parents: str = ""
    minor_payment: str = ""
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
        """Neutral clauses from the template set's ``clauses.toml``, with 911 and 988; the age of
        majority is the state's, from the rule data."""
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
            age_of_majority=age_of_majority(state),
        )


def age_of_majority(state: str) -> int:
    """The age at which a person consents to health care as an adult in ``state``, from the rule
    data (18 where the data has no minor-consent rule, e.g. an unknown code)."""
    if state not in US_STATES:
        return 18
    rules = load_jurisdiction(state).for_topic("minor_consent")
    value = rules[0].value if rules else None
    return value.age_of_majority if isinstance(value, MinorConsent) else 18


@attrs.frozen
class Signer:
    """Someone who signs the packet: ``key`` is the signature-place anchor suffix."""

    key: str
    role: str
    name: str
    relationship: str = ""


def signing_guardians(client: Client, slots: RuleSlots, *, minor: bool) -> int:
    """How many of the client's guardians (the first ones on file) sign documents: every guardian
    when a minor's guardian must consent; the first when a minor who consents alone has a guardian
    who agreed to pay (``Client.guardian_pays``, who signs the fees policy); else none."""
    if not minor or not client.guardians:
        return 0
    if not slots.minor_self_consent:
        return len(client.guardians)
    return 1 if client.guardian_pays else 0


def packet_signers(client: Client, clinician: Clinician, *, guardians: int) -> list[Signer]:
    """Everyone who may sign documents of this client's packet (``guardians``: how many guardians
    sign, see :func:`signing_guardians`)."""
    signers = [Signer("client", "client", client.legal_name, "self")]
    for n, participant in enumerate(client.participants, start=1):
        signers.append(Signer(f"co_client-{n}", "co_client", participant.name, participant.relationship))
    for n, guardian in enumerate(client.guardians[:guardians], start=1):
        signers.append(Signer(f"guardian-{n}", "guardian", guardian.name, guardian.relationship))
    signers.append(Signer("clinician", "clinician", clinician.display_name, "clinician"))
    return signers


@attrs.frozen(kw_only=True)
class PacketFacts:
    """What a client's packet is, decided from the models and the rule slots alone (no words):
    the manifest records these, the template context shows them.

    Attributes:
        clinician: the client's clinician.
        age: the client's age on the document date.
        minor: the client is under the state's age of majority.
        guardian_required: a parent or guardian must consent for the client.
        signing_guardians: how many of the client's guardians sign.
        signers: everyone who signs, in signing order.
    """

    clinician: Clinician
    age: int
    minor: bool
    guardian_required: bool
    signing_guardians: int
    signers: tuple[Signer, ...]


def packet_facts(practice: Practice, client: Client, slots: RuleSlots, on: date) -> PacketFacts:
    """Who the packet is for and who signs it on ``on``, under ``slots``.

    Raises:
        InputError: the client's data does not fit a packet: an unknown clinician id, a date of
            birth after the document date, a minor with no guardian, or ``guardian_pays``
            without a guardian.
    """
    try:
        clinician = practice.clinician(client.clinician_id)
    except ValueError as exc:
        raise InputError("no clinician of the practice has this id", field="clinician_id") from exc
    age = client.age_on(on)
    if age < 0:
        raise InputError("the date of birth is after the document date", field="date_of_birth")
    minor = age < slots.age_of_majority
    guardian_required = minor and not slots.minor_self_consent
    if guardian_required and not client.guardians:
        raise InputError(
            f"the client is under {slots.age_of_majority} and needs a parent or guardian", field="guardians"
        )
    if minor and client.guardian_pays and not client.guardians:
        raise InputError("guardian_pays needs a parent or guardian on file", field="guardian_pays")
    guardians = signing_guardians(client, slots, minor=minor)
    return PacketFacts(
        clinician=clinician,
        age=age,
        minor=minor,
        guardian_required=guardian_required,
        signing_guardians=guardians,
        signers=tuple(packet_signers(client, clinician, guardians=guardians)),
    )


def clause_texts(slots: RuleSlots, templates: TemplateSet, *, minor: bool) -> dict[str, Any]:
    """The state-rule clauses a packet shows (the template context's ``rules``, and what the
    manifest records as ``clauses``): the resolved rules in the template set's words."""
    return {
        "state": slots.state,
        "state_name": templates.state_name(slots.state),
        "minor_consent": slots.minor_consent,
        "minor_self_consent": slots.minor_self_consent and minor,
        "guardian_required": minor and not slots.minor_self_consent,
        "minor_parents": slots.minor_parents,
        "minor_payment": slots.minor_payment,
        "duty_to_warn": slots.duty_to_warn,
        "board_notice": slots.board_notice,
        "retention": slots.retention,
        "recording": slots.recording,
        "crisis_lines": [{"name": name, "contact": contact} for name, contact in slots.crisis_lines],
        # The state's own lines, without 911 and 988 (which the emergency plan names in its text).
        "state_crisis_lines": [
            {"name": name, "contact": contact}
            for name, contact in slots.crisis_lines
            if (name, contact) not in RuleSlots.defaults(slots.state, templates).crisis_lines
        ],
        "notices": list(slots.notices),
        "age_of_majority": slots.age_of_majority,
        "sources": [{"rule": rule, "cite": cite} for rule, cite in slots.sources],
    }


def _money(value: Money | None, locale: str) -> str:
    return "" if value is None else format_money(value.amount, value.currency, locale)


def _phone(value: Phone | None, locale: str) -> str:
    return "" if value is None else format_phone(value.e164, locale)


def _clinician(clinician: Clinician, templates: TemplateSet) -> dict[str, Any]:
    locale = templates.locale
    licenses = [
        {
            "state": templates.state_name(lic.state),
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
                "state": templates.state_name(p.state),
                "number": p.number or "",
            }
            for p in clinician.compact_privileges
        ],
        "supervisor": supervisor,
    }


def _practice_text(practice: Practice, name: str, templates: TemplateSet, warnings: list[str] | None) -> str:
    """One of the practice's own sentences in the packet's language.

    The practice's text for that language; else, when the practice's file leaves the sentence out,
    the template set's; else (the practice wrote it, but not in this language) an error, or under
    ``translation_fallback = "default_language"`` the practice's sentence as written, with a warning.
    """
    locale = templates.locale
    own = practice.text(name, locale)
    if own is not None:
        return own
    written = practice.own_text(name)
    if written is None:
        return templates.text("practice", name)
    if practice.translation_fallback == "default_language":
        if warnings is not None:
            warnings.append(
                f"the practice's {name} has no {locale} text; its {practice.default_language} text is printed"
            )
        return written
    where = f"failure_plan.{name}" if name in ("reconnect_by", "lost_time") else name
    raise InputError(
        f"the practice gives {where} in {practice.default_language} but not in {locale}: add it under "
        f'[texts."{locale}"], or set translation_fallback = "default_language"',
        field=f"texts.{locale}.{name}",
    )


def _records_location(practice: Practice, templates: TemplateSet, warnings: list[str] | None) -> str:
    """Where records are kept: the practice's words, else a sentence stating only what it attests."""
    if practice.text("records_location", templates.locale) is not None or practice.own_text(
        "records_location"
    ):
        return _practice_text(practice, "records_location", templates, warnings)
    system = practice.records_system
    name = templates.text("practice", "records_system_name", name=system.name) if system.name else ""
    if system.encrypted and system.baa_in_place:
        return templates.text("practice", "records_location_encrypted_baa", system=name)
    if system.encrypted:
        return templates.text("practice", "records_location_encrypted", system=name)
    return templates.text("practice", "records_location", system=name)


def _local_resources(client: Client, templates: TemplateSet) -> dict[str, Any]:
    """Emergency resources near the session address; ``*_cell`` values fill the emergency plan's
    table, with the set's word for "not on file" where the client file gives none."""
    local = client.local_resources
    locale = templates.locale
    missing = templates.word("packet", "not_on_file")
    dispatch_phone = _phone(local.dispatch_phone, locale)
    crisis_phone = _phone(local.crisis_line_phone, locale)
    crisis = (
        f"{crisis_phone} ({local.crisis_line_name})"
        if crisis_phone and local.crisis_line_name
        else crisis_phone
    )
    return {
        "dispatch_name": local.dispatch_name or "",
        "dispatch_phone": dispatch_phone,
        "emergency_room": local.emergency_room or "",
        "crisis_line_name": local.crisis_line_name or "",
        "crisis_line_phone": crisis_phone,
        "dispatch_cell": ", ".join(x for x in (local.dispatch_name, dispatch_phone) if x) or missing,
        "emergency_room_cell": local.emergency_room or missing,
        "crisis_line_cell": crisis or missing,
        "crisis_line_label": local.crisis_line_name or templates.word("packet", "local_crisis_line"),
        "missing": list(local.missing()),
    }


def build_context(
    practice: Practice,
    client: Client,
    *,
    templates: TemplateSet,
    on: date,
    packet_id: str,
    rules: RuleSlots | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """The template variables for one client's packet (without ``doc`` and ``signature_place``,
    which the renderer adds per document).

    Args:
        warnings: a list to which warnings about the wording are added (a practice sentence
            printed in another language under ``translation_fallback``).

    Raises:
        InputError: the client's data does not fit what the packet needs (e.g. a minor with no
            guardian, or an unknown clinician id), or a practice sentence lacks this language.
    """
    locale = templates.locale
    state = client.session_address.state
    slots = rules or RuleSlots.defaults(state, templates)
    facts = packet_facts(practice, client, slots, on)
    minor = facts.minor
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
    exempt = [c for c in client.coverage if c in fees.exempt_coverage]
    text = functools.partial(_practice_text, practice, templates=templates, warnings=warnings)
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
            "federal_financial_assistance": practice.federal_financial_assistance,
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
                "reconnect_by": text("reconnect_by"),
                "wait_minutes": plan.wait_minutes,
                "phone_fallback": _phone(plan.phone_fallback, locale),
                "lost_time": text("lost_time"),
            },
            "response_time": text("response_time"),
            "recording_policy": text("recording_policy"),
            "emergency_procedures": text("emergency_procedures"),
            "records_location": _records_location(practice, templates, warnings),
            "records_encrypted": practice.records_system.encrypted,
            "records_protection": templates.text("practice", "records_protection"),
        },
        "clinician": _clinician(facts.clinician, templates),
        "client": {
            "id": client.id,
            "legal_name": client.legal_name,
            "preferred_name": client.display_name,
            "date_of_birth": format_date(client.date_of_birth, locale),
            "age": facts.age,
            "is_minor": minor,
            "language": client.preferred_language,
            "phone": _phone(client.phone, locale),
            "email": client.email or "",
            "session_address": client.session_address.one_line(),
            "session_state": state,
            "session_state_name": templates.state_name(state),
            "emergency_contact": {
                "name": client.emergency_contact.name,
                "relationship": client.emergency_contact.relationship,
                "phone": _phone(client.emergency_contact.phone, locale),
            },
            "local_resources": _local_resources(client, templates),
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
            "guardian_pays": minor and client.guardian_pays and bool(client.guardians),
            "signing_guardians": guardians[: facts.signing_guardians],
            "fees_exempt": bool(exempt),
            "fees_exempt_coverage": format_list(
                [templates.word("coverage", c.value) for c in exempt], locale
            ),
        },
        "rules": clause_texts(slots, templates, minor=minor),
        "signers": [attrs.asdict(s) for s in facts.signers],
        "_packet": {
            "packet_id": packet_id,
            "date": format_date(on, locale),
            "locale": locale,
            "title": templates.phrase("packet", "title", packet_id=packet_id),
        },
    }
