"""Regression tests for the packets that stated the law wrongly (one test or more per defect found).

Each renders DOCX documents (no LibreOffice) and reads them back; the PDF-level checks (anchor text
removed, a Washington minor's packet) are in test_render_e2e.py and test_jurisdiction.py.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import pytest

from consentkit.errors import InputError
from consentkit.lifecycle import SessionCheck, check_practice, check_session
from consentkit.models import (
    Address,
    Client,
    Coverage,
    License,
    LocalResources,
    Practice,
    PracticeText,
    RecordsSystem,
)
from consentkit.packet import stage_packet
from consentkit.rendering import load_template_set
from consentkit.rendering._slots import slots_from_rules
from consentkit.rules._resolve import ResolvedRules, resolve_rules

from .conftest import DOC_DATE, NOW
from .test_packet_truth import _paragraphs


def licensed(practice: Practice, *states: str, license_type: str = "LPC") -> Practice:
    lead = practice.clinicians[0]
    extra = tuple(
        License(state=s, license_type=license_type, number=f"{s}-1", expires=date(2028, 1, 1)) for s in states
    )
    return attrs.evolve(practice, clinicians=(attrs.evolve(lead, licenses=lead.licenses + extra),))


def located(client: Client, state: str, **changes: Any) -> Client:
    address = Address(line1="10 Test Street", city="Testville", state=state, postal_code="12345")
    return attrs.evolve(client, session_address=address, clinician_id=None, **changes)


def render(
    tmp_path: Path, practice: Practice, client: Client, *, locale: str = "en-US"
) -> tuple[dict[str, str], dict[str, Any], tuple[str, ...]]:
    """(text per document, manifest, warnings) of a packet rendered to DOCX."""
    staged = stage_packet(
        practice,
        client,
        tmp_path / f"{client.id}-{locale}",
        language=locale,
        on=DOC_DATE,
        now=NOW,
        packet_id="T",
    )
    try:
        texts = {p.stem: "\n".join(t for _, t, _ in _paragraphs(p)) for p in staged.docx_paths}
        return texts, json.loads(staged.manifest.to_json()), staged.warnings
    finally:
        staged.discard()


def resolve_in(practice: Practice, client: Client, state: str, *, license_type: str = "LPC") -> ResolvedRules:
    """The rules for ``client`` located in ``state``, seen by the lead clinician licensed there too."""
    practice = licensed(practice, state, license_type=license_type)
    return resolve_rules(practice, practice.clinicians[0], located(client, state), DOC_DATE)


def places(manifest: dict[str, Any]) -> dict[str, set[str]]:
    return {d["id"]: set(d["signature_places"]) for d in manifest["documents"]}


# --- 2, 3. Texas and New York duty to warn --------------------------------------------------------


def test_texas_duty_names_medical_and_law_enforcement_staff_not_the_person_at_risk(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    """Tex. Health & Safety Code § 611.004(a)(2); the packet said the clinician "may warn that person"."""
    duty = slots_from_rules(resolve_in(practice, example_clients["adult"], "TX"), load_template_set("en-US"))
    assert "medical or law enforcement staff" in duty.duty_to_warn
    assert "warn that person" not in duty.duty_to_warn


def test_new_york_duty_is_the_report_to_the_county_director(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    """Mental Hyg. Law § 9.46: a report; the packet said the clinician must warn and notify the police."""
    resolved = resolve_in(practice, example_clients["adult"], "NY")
    for locale, director in (("en-US", "county director of community services"), ("es-US", "condado")):
        duty = slots_from_rules(resolved, load_template_set(locale)).duty_to_warn
        assert director in duty, locale
        assert "warn" not in duty and "police" not in duty, locale


# --- 4. Placeholders worded as law ----------------------------------------------------------------


@pytest.mark.parametrize("state", ["MI", "MN", "ME", "DE", "IA", "ND", "NH", "NV"])
def test_an_unverified_minor_rule_is_worded_as_the_practice_s_policy(
    practice: Practice, example_clients: dict[str, Client], state: str
) -> None:
    """ "Under Michigan law, a client under 18 needs the consent of a parent" rested on an unverified rule."""
    resolved = resolve_in(practice, example_clients["minor"], state)
    clause = slots_from_rules(resolved, load_template_set("en-US")).minor_consent
    assert "law" not in clause and clause.startswith("We ask a parent or guardian to consent")


@pytest.mark.parametrize("state", ["VT", "OR", "DE"])
def test_a_secondary_recording_rule_states_no_law(
    practice: Practice, example_clients: dict[str, Client], state: str
) -> None:
    """VT, OR and DE packets said the state "requires the consent of everyone ... may be a crime"."""
    slots = slots_from_rules(
        resolve_in(practice, example_clients["adult"], state), load_template_set("en-US")
    )
    assert (
        slots.recording
        == "In some states, it is a crime to record a private talk unless everyone in it agrees."
    )


# --- 5. Self-consenting minors ---------------------------------------------------------------------------


def test_a_minor_who_consents_alone_signs_alone_even_with_a_guardian_on_file(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    """WA 13+: the guardian signed the fees policy, emergency plan and e-signature consent."""
    texts, manifest, _ = render(tmp_path, licensed(practice, "WA"), located(example_clients["minor"], "WA"))
    assert not any(k.startswith("guardian") for keys in places(manifest).values() for k in keys)
    assert "the parent or guardian who signs this policy is responsible" not in texts["fees_policy"]
    assert "We will not send a bill to a parent or guardian" in texts["fees_policy"]
    assert "general progress" not in texts["informed_consent"]
    assert (
        "will not share information about this counseling with a parent on their own"
        in texts["informed_consent"]
    )


def test_a_guardian_who_pays_signs_the_fees_policy_and_the_e_signature_consent_only(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    client = located(example_clients["minor"], "WA", guardian_pays=True)
    texts, manifest, _ = render(tmp_path, licensed(practice, "WA"), client)
    guardian = {doc for doc, keys in places(manifest).items() if "guardian-1" in keys}
    assert guardian == {"fees_policy", "esign_consent"}
    assert "client" in places(manifest)["fees_policy"]
    assert "Rebecca Carter has agreed to pay" in texts["fees_policy"]


def test_california_law_on_parents_is_not_stated_from_secondary_sources(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    """Cal. H&S § 124260 was read only in board summaries: the packet words parents' access as policy."""
    slots = slots_from_rules(resolve_in(practice, example_clients["minor"], "CA"), load_template_set("en-US"))
    assert slots.minor_self_consent
    assert slots.minor_parents.startswith("We share information about your counseling")
    assert "Under California law" not in slots.minor_payment


def test_ohio_law_on_parents_and_payment_is_stated_as_read(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    """R.C. 5122.04(A), (C): parents not told without consent; not liable for the costs."""
    slots = slots_from_rules(resolve_in(practice, example_clients["minor"], "OH"), load_template_set("en-US"))
    assert slots.minor_parents.startswith("Under Ohio law, your parent or guardian is not told")
    assert slots.minor_payment.startswith("Under Ohio law, your parent or guardian does not have to pay")


# --- 6. Age of majority ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["AL", "NE"])
def test_the_age_of_majority_comes_from_the_rule_data(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client], state: str
) -> None:
    """Alabama and Nebraska: 19. An 18-year-old there is a minor and the packet says "under 19"."""
    client = located(example_clients["minor"], state, date_of_birth=date(2008, 1, 2))  # 18
    texts, manifest, _ = render(tmp_path, licensed(practice, state), client)
    assert manifest["minor"] is True
    assert "under 19" in texts["informed_consent"] and "under 18" not in texts["informed_consent"]
    if state == "AL":  # 16+ consent alone (secondary): no guardian
        assert "Because EJ is under 19" not in texts["fees_policy"]
    else:  # § 43-2101(2)(b): 18-year-olds consent to mental health services alone
        assert not any(k.startswith("guardian") for keys in places(manifest).values() for k in keys)


# --- 8, 9. Interpreters and missed-appointment fees ---------------------------------------------------------


def test_interpreters_and_aids_are_at_no_cost(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    """28 C.F.R. § 36.301(c); 45 C.F.R. § 92.201(b): the packet said "if there is any cost"."""
    texts, _, _ = render(tmp_path, practice, example_clients["adult"])
    assert "We do not charge you for these aids or services." in texts["informed_consent"]
    funded = attrs.evolve(practice, federal_financial_assistance=True)
    texts, _, _ = render(tmp_path / "funded", funded, example_clients["adult"])
    assert "free of charge" in texts["informed_consent"] and "any cost" not in texts["informed_consent"]


def test_no_missed_appointment_fee_is_promised_for_a_client_whose_coverage_forbids_it(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    """42 C.F.R. § 447.15; Ohio Adm. Code 5160-1-13.1: the policy charged every client."""
    texts, _, _ = render(tmp_path, practice, example_clients["adult"])
    assert "we do not charge them to clients who have Medicaid" in texts["fees_policy"]
    assert "we charge the no-show fee" not in texts["fees_policy"]
    medicaid = attrs.evolve(example_clients["adult"], coverage=(Coverage.MEDICAID,))
    texts, _, _ = render(tmp_path / "medicaid", practice, medicaid)
    assert "Because you have Medicaid, we will not charge you" in texts["fees_policy"]
    assert "may charge the no-show fee" not in texts["fees_policy"]


# --- 10. Local emergency resources ----------------------------------------------------------------


def test_the_emergency_plan_names_help_near_the_client_and_warns_when_it_is_missing(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    texts, _, warnings = render(tmp_path, practice, example_clients["adult"])
    plan = texts["emergency_plan"]
    assert "(601) 555-0190" in plan and "Example Regional Medical Center" in plan and "(601) 555-0191" in plan
    assert "reaches the center where your clinician is" in plan
    assert not any("local emergency resources" in w for w in warnings)
    bare = attrs.evolve(example_clients["adult"], local_resources=LocalResources())
    texts, _, warnings = render(tmp_path / "bare", practice, bare)
    assert "Not on file" in texts["emergency_plan"]
    assert any("local_resources.dispatch_phone" in w for w in warnings)
    check = SessionCheck(
        client_id=bare.id,
        clinician_id="dwhitfield",
        session_time=NOW,
        reported_address=bare.session_address,
        emergency_contact_confirmed=True,
    )
    findings = check_session(practice, bare, check, on=DOC_DATE)
    assert "local_resources_missing" in findings.codes and findings.allowed


# --- 11. English in Spanish packets ---------------------------------------------------------------


def test_a_practice_text_without_a_spanish_version_is_refused_for_a_spanish_packet(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    english_only = attrs.evolve(practice, texts={})
    with pytest.raises(InputError) as caught:
        render(tmp_path, english_only, example_clients["spanish"], locale="es-US")
    assert str(caught.value.field).startswith("texts.es-US.")
    fallback = attrs.evolve(english_only, translation_fallback="default_language")
    _, _, warnings = render(tmp_path / "fallback", fallback, example_clients["spanish"], locale="es-US")
    assert any("has no es-US text" in w for w in warnings)


def test_a_practice_that_leaves_its_texts_out_gets_spanish_defaults(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    """Records location, emergency procedure and recording policy were printed in English."""
    plain = attrs.evolve(
        practice,
        texts={},
        response_time=None,
        recording_policy=None,
        emergency_procedures=None,
        failure_plan=attrs.evolve(practice.failure_plan, reconnect_by=None, lost_time=None),
    )
    texts, _, _ = render(tmp_path, plain, example_clients["spanish"], locale="es-US")
    assert "Nadie puede grabar una sesión" in texts["telehealth_consent"]
    assert "dentro de un día hábil" in texts["informed_consent"]
    assert "después de el" not in "\n".join(texts.values())


def test_a_notice_prescribed_in_english_is_introduced_in_spanish(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    resolved = resolve_in(practice, example_clients["adult"], "CA", license_type="LPCC")
    notice = slots_from_rules(resolved, load_template_set("es-US")).board_notice
    intro = load_template_set("es-US").clauses["rules"]["prescribed_in_english"]
    assert notice.startswith(intro + "\nThe Board of Behavioral Sciences receives")


# --- 12. Unattested promises ----------------------------------------------------------------------


def test_records_are_described_only_as_the_practice_attests(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    unattested = attrs.evolve(practice, records_location=None, records_system=RecordsSystem())
    texts, _, _ = render(tmp_path, unattested, example_clients["adult"])
    consent = texts["informed_consent"]
    assert "in our electronic records system" in consent
    assert "encrypt" not in consent and "business associate" not in consent.split("Where your records")[1]
    report = check_practice(unattested, DOC_DATE)
    assert "records_not_attested" in {f.code for f in report.findings}
    texts, _, _ = render(tmp_path / "attested", practice, example_clients["adult"])  # encrypted, BAA
    assert "that encrypts your records" in texts["informed_consent"]
    assert "protected with passwords and encryption" in texts["informed_consent"]


# --- 13. Text quality -----------------------------------------------------------------------------


def test_an_adult_packet_has_no_pointer_to_parts_that_are_not_there(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    texts, _, _ = render(tmp_path, practice, example_clients["adult"])
    assert "The part below" not in texts["informed_consent"]
    assert "The parts below" not in texts["informed_consent"]


def test_recording_and_emergency_numbers_are_stated_once(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    default = attrs.evolve(practice, recording_policy=None, emergency_procedures=None)
    texts, _, _ = render(tmp_path, default, example_clients["adult"])
    telehealth = texts["telehealth_consent"].split("\nRecording\n", 1)[1].split("\nRelease\n", 1)[0]
    assert telehealth.count("record") <= 4 and telehealth.count("written permission") == 1
    plan = texts["emergency_plan"]
    # 988 once; 911 twice: the clinician's call reaches the wrong centre, and "call 911 yourself"
    assert len(re.findall(r"\b988\b", plan)) == 1 and len(re.findall(r"\b911\b", plan)) == 2


# --- 7. Board notices in practice check -----------------------------------------------------------


def test_practice_check_says_exactly_what_a_board_notice_lacks(practice: Practice) -> None:
    texas = licensed(practice, "TX")
    report = check_practice(texas, DOC_DATE)
    missing = [f for f in report.findings if f.code == "board_notice_incomplete" and f.state == "TX"]
    assert any("telephone number" in f.message for f in missing)
    assert any("prescribed statement" in f.message for f in missing)
    assert all(f.severity == "warning" for f in missing)
    strict = attrs.evolve(texas, rule_policy=attrs.evolve(texas.rule_policy, incomplete_notice_is_error=True))
    assert not check_practice(strict, DOC_DATE).ready


def test_practice_texts_in_one_more_language_still_load() -> None:
    assert PracticeText(response_time="x").response_time == "x"
