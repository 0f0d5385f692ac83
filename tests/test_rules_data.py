"""The bundled state rule data and its loader and checker.

The data tests assert what was verified in primary text on 2026-11-27, 2026-12-04 and 2026-12-05 (see
docs/state-rules.md and the dataset CHANGELOG);
the schema tests write broken files to a temporary folder and check that each problem is caught
and named by file, rule id and field.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentkit.errors import ConsentKitError, RulesError
from consentkit.rules import (
    FEDERAL_REQUIRED_TOPICS,
    JURISDICTIONS,
    REQUIRED_TOPICS,
    RULE_TABLE_HEADER,
    BoardNotice,
    DutyToWarn,
    Licensure,
    MinorConsent,
    Recording,
    RecordRetention,
    Rule,
    RuleSet,
    TelehealthConsent,
    TelehealthTraining,
    check_rules,
    dataset_version,
    describe_value,
    format_rule_table,
    load_all,
    load_jurisdiction,
    load_ruleset_file,
)
from consentkit.rules._load import parse_ruleset

TODAY = date(2026, 12, 5)
FIRST_REVIEW = date(2026, 11, 27)
VERIFIED_STATES = ("MS", "CA", "TX", "NY", "FL", "OH", "PA", "IL", "WA", "GA")


def one(code: str, topic: str) -> Rule:
    rules = load_jurisdiction(code).for_topic(topic)  # type: ignore[arg-type]
    assert len(rules) == 1, f"{code} has {len(rules)} {topic} rules"
    return rules[0]


# --- the bundled data ---------------------------------------------------------------------------


def test_jurisdictions_are_the_50_states_and_dc() -> None:
    assert len(JURISDICTIONS) == 51
    assert "DC" in JURISDICTIONS and "US" not in JURISDICTIONS


def test_every_bundled_file_loads() -> None:
    rulesets = load_all()
    assert next(iter(rulesets)) == "US"
    assert set(rulesets) == {"US", *JURISDICTIONS}
    for code, ruleset in rulesets.items():
        assert ruleset.jurisdiction == code
        assert ruleset.source == f"{code}.toml"
        assert all(rule.jurisdiction == code for rule in ruleset.rules)


@pytest.mark.parametrize("code", sorted(JURISDICTIONS))
def test_every_state_covers_every_required_topic(code: str) -> None:
    assert set(REQUIRED_TOPICS) <= load_jurisdiction(code).topics


def test_federal_baseline() -> None:
    us = load_jurisdiction("US")
    assert set(FEDERAL_REQUIRED_TOPICS) <= us.topics
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", dataset_version())
    assert us.dataset_version == dataset_version() == "2026.12.1"
    hipaa = us.rule("US.record_retention.hipaa_documentation").value
    assert isinstance(hipaa, RecordRetention)
    assert (hipaa.adult_years, hipaa.counted_from) == (6, "creation")
    crisis = us.rule("US.crisis_resources.988")
    assert crisis.confidence == "primary"
    assert "988" in describe_value(crisis.value)
    assert us.rule("US.recording.federal_wiretap").value == Recording(consent="one_party")


def test_the_bundled_data_passes_the_check() -> None:
    report = check_rules(TODAY)
    assert report.ok, [str(finding) for finding in report.errors]
    assert report.dataset_version == "2026.12.1"
    assert {summary.jurisdiction for summary in report.summaries} == {"US", *JURISDICTIONS}
    total = sum(len(ruleset.rules) for ruleset in load_all().values())
    assert sum(summary.total for summary in report.summaries) == total


def test_every_rule_is_stale_two_years_on() -> None:
    report = check_rules(date(2028, 1, 1))
    total = sum(len(ruleset.rules) for ruleset in load_all().values())
    stale = [finding for finding in report.warnings if finding.code == "stale"]
    assert len(stale) == total
    assert report.ok  # staleness warns, it does not fail the check


def test_nothing_is_stale_with_a_generous_limit() -> None:
    report = check_rules(date(2028, 1, 1), max_age_days=3650)
    assert not [finding for finding in report.warnings if finding.code == "stale"]


def test_unverified_rules_are_reported_as_warnings() -> None:
    report = check_rules(TODAY)
    unverified = {finding.rule_id for finding in report.warnings if finding.code == "unverified"}
    expected = {rule.id for rs in load_all().values() for rule in rs.rules if rule.confidence == "unverified"}
    assert unverified == expected
    assert "US-MS.record_retention" in unverified


def test_every_sourced_rule_has_a_citation_and_primary_rules_cite_primary_text() -> None:
    for ruleset in load_all().values():
        for rule in ruleset.rules:
            if rule.confidence != "unverified":
                assert rule.citations, rule.id
            if rule.confidence == "primary":
                assert any(c.source_type != "secondary" for c in rule.citations), rule.id
            assert FIRST_REVIEW <= rule.last_reviewed <= TODAY, rule.id
            for citation in rule.citations:
                assert citation.url.startswith(("https://", "http://"))
                assert citation.retrieved_on is None or citation.retrieved_on <= rule.last_reviewed


def test_unknown_effective_dates_are_explained() -> None:
    for ruleset in load_all().values():
        for rule in ruleset.rules:
            if rule.effective_date is None:
                assert rule.notes, rule.id


def test_conservative_defaults_where_nothing_was_verified() -> None:
    for ruleset in load_all().values():
        for rule in ruleset.rules:
            if rule.confidence != "unverified":
                continue
            value = rule.value
            if isinstance(value, MinorConsent):
                assert value.self_consent_age is None, rule.id
            elif isinstance(value, TelehealthConsent):
                assert (value.form, value.documented) == ("written", True), rule.id
            elif isinstance(value, Recording):
                assert value.consent == "all_party", rule.id
            elif isinstance(value, Licensure):
                assert value.location_rule == "both_locations", rule.id
            if not rule.citations:
                assert "conservative default" in rule.notes.lower(), rule.id


def test_duty_to_warn_is_classified_for_every_state() -> None:
    for code in JURISDICTIONS:
        rule = one(code, "duty_to_warn")
        assert isinstance(rule.value, DutyToWarn)
        assert rule.value.kind in ("mandatory", "permissive", "none")
        assert rule.confidence in ("primary", "secondary")


def test_the_ten_priority_states_have_primary_rules() -> None:
    for code in VERIFIED_STATES:
        confidences = [rule.confidence for rule in load_jurisdiction(code).rules]
        assert "primary" in confidences, code


# --- values verified in primary text -------------------------------------------------------------


def test_mississippi() -> None:
    minor = one("MS", "minor_consent")
    assert minor.confidence == "primary"
    assert isinstance(minor.value, MinorConsent)
    assert (minor.value.age_of_majority, minor.value.self_consent_age) == (18, None)
    assert minor.pending  # HB 1100 / HB 1155
    # § 41-41-203(a) defines an adult; it does not say a parent must consent to counseling, so a
    # parent signing is the practice's policy, not stated as Mississippi law (2026-12-05).
    assert minor.protective_choice and not minor.states_law


def test_minor_consent_states_law_only_where_the_text_read_says_a_parent_consents() -> None:
    # 2026-12-05: where a parent's consent was inferred (no self-consent statute found) or the text
    # read does not reach counseling by non-physicians, it is the practice's policy.
    for code in ("MS", "GA", "LA", "NC", "WI"):
        rule = one(code, "minor_consent")
        assert rule.protective_choice and not rule.states_law, code
    for code in ("AZ", "IN", "KY", "MO", "NY", "OK", "TX", "WY"):
        rule = one(code, "minor_consent")
        assert rule.states_law and isinstance(rule.value, MinorConsent), code
        assert rule.value.self_consent_age is None, code
    duty = one("MS", "duty_to_warn")
    # § 41-21-97(1)(e): the professional "may communicate the threat only to" the listed people. The
    # value was "mandatory" (a secondary table's reading) until 2026-12-04; packets said "must".
    assert duty.value == DutyToWarn(kind="permissive", basis="statute")
    assert duty.states_law and not duty.protective_choice
    assert "may communicate the threat only to" in duty.notes
    assert duty.effective_date == date(2023, 7, 1)
    assert all("not adopted" in conflict.resolution for conflict in duty.conflicts)
    assert any("41-21-97" in citation.cite for citation in duty.citations)
    training = one("MS", "telehealth_training")
    assert training.value == TelehealthTraining(hours=9, profession="LPC (Licensed Professional Counselor)")
    licensure = one("MS", "licensure").value
    assert isinstance(licensure, Licensure) and licensure.location_rule == "both_locations"
    assert one("MS", "record_retention").confidence == "unverified"


def test_california() -> None:
    minor = one("CA", "minor_consent")
    assert isinstance(minor.value, MinorConsent)
    assert minor.value.self_consent_age == 12 and minor.confidence == "primary"
    assert minor.effective_date == date(2024, 7, 1)
    consent = one("CA", "telehealth_consent").value
    assert consent == TelehealthConsent(
        form="either",
        documented=True,
        per_session_checks=("identity", "location"),
        notes_for_clinician=consent.notes_for_clinician,  # type: ignore[union-attr]
    )
    assert one("CA", "recording").value == Recording(consent="all_party")
    retention = one("CA", "record_retention").value
    assert isinstance(retention, RecordRetention)
    assert (retention.adult_years, retention.minor_years_past_majority) == (7, 7)
    notice = one("CA", "board_notice").value
    assert isinstance(notice, BoardNotice) and notice.required and notice.elements == ("statement",)
    # One entry per profession's wording; only the LPCC text (§ 4999.71) has been read.
    lpcc = notice.boards_for("counselor")
    assert [b.name for b in lpcc] == ["Board of Behavioral Sciences"]
    # The statute's wording; its illegible hyperlink is filled with the board's own site, read at bbs.ca.gov.
    text = lpcc[0].prescribed_text
    assert text is not None and text.startswith("The Board of Behavioral Sciences receives and responds")
    assert "professional clinical counselors" in text
    assert "www.bbs.ca.gov" in text and "(916) 574-7830" in text
    for profession in ("mft", "social_worker", "psychologist"):
        (entry,) = notice.boards_for(profession)
        assert entry.prescribed_text is None, profession  # §§ 4980.32, 4996.75, 2936 not read
        assert notice.missing((entry,)) == [(entry, "statement")], profession
    assert notice.boards_for("psychologist")[0].name == "Board of Psychology"
    assert all(c.source_type != "secondary" for c in one("CA", "board_notice").citations)


def test_texas() -> None:
    notice = one("TX", "board_notice")
    assert notice.confidence == "primary"
    assert isinstance(notice.value, BoardNotice) and notice.value.required
    assert notice.value.boards[0].name == "Texas Behavioral Health Executive Council"
    council = notice.value.boards[0]
    assert council.prescribed_text is None  # the statement is an attached graphic, not read
    assert council.address == "1801 Congress Ave, Ste. 7.300, Austin, Texas 78701"  # BHEC open-records page
    assert council.phone is None  # not read on an official page
    # 22 TAC § 884.31(b): name, mailing address, telephone number and a prescribed statement.
    assert notice.value.elements == ("name", "address", "phone", "statement")
    assert [element for _, element in notice.value.missing((council,))] == ["phone", "statement"]
    recording = one("TX", "recording")
    assert recording.confidence == "primary"  # § 16.02(c)(4) read in a copy of the code (third review pass)
    assert recording.value.consent == "one_party"
    assert any("16.02" in c.cite and c.source_type == "statute" for c in recording.citations)
    retention = one("TX", "record_retention").value
    assert isinstance(retention, RecordRetention)
    assert (retention.adult_years, retention.minor_years_past_majority) == (7, 5)
    assert one("TX", "duty_to_warn").value == DutyToWarn(kind="permissive", basis="statute")
    minor = one("TX", "minor_consent").value
    assert isinstance(minor, MinorConsent) and minor.self_consent_age is None
    assert "32.004" in (minor.scope or "")


def test_new_york() -> None:
    minor = one("NY", "minor_consent").value
    assert isinstance(minor, MinorConsent) and minor.self_consent_age is None
    assert "OMH" in (minor.scope or "")
    retention = one("NY", "record_retention").value
    assert isinstance(retention, RecordRetention) and retention.adult_years == 6
    assert one("NY", "recording").value == Recording(consent="one_party")
    duty = one("NY", "duty_to_warn")
    # Mental Hyg. Law § 9.46 is a report to the county director, not a warning (2026-12-04).
    assert duty.value == DutyToWarn(kind="mandatory", basis="statute", action="report")
    assert duty.conflicts and "director of community services" in duty.notes


def test_florida() -> None:
    minor = one("FL", "minor_consent").value
    assert isinstance(minor, MinorConsent)
    assert (minor.self_consent_age, minor.per_week_cap) == (13, 2)
    assert "medication" in minor.excludes
    duty = one("FL", "duty_to_warn")
    assert duty.value == DutyToWarn(kind="mandatory", basis="statute") and duty.conflicts


def test_ohio() -> None:
    minor = one("OH", "minor_consent")
    assert minor.confidence == "primary"
    assert isinstance(minor.value, MinorConsent)
    value = minor.value
    assert (value.self_consent_age, value.session_cap, value.day_cap) == (14, 6, 30)
    assert value.excludes == ("medication",)
    assert any("172" in pending.description for pending in minor.pending)
    assert one("OH", "telehealth_consent").conflicts  # older rule text vs current teletherapy rule


def test_pennsylvania_illinois_washington_georgia() -> None:
    pa = one("PA", "minor_consent").value
    assert isinstance(pa, MinorConsent) and pa.self_consent_age == 14
    pa_retention = one("PA", "record_retention").value
    assert isinstance(pa_retention, RecordRetention)
    assert (pa_retention.adult_years, pa_retention.counted_from) == (5, "last_service")
    il = one("IL", "minor_consent").value
    assert isinstance(il, MinorConsent) and (il.self_consent_age, il.session_cap) == (12, 8)
    assert one("IL", "duty_to_warn").value == DutyToWarn(kind="permissive", basis="statute")
    wa = one("WA", "minor_consent")
    assert isinstance(wa.value, MinorConsent) and wa.value.self_consent_age == 13
    assert wa.confidence == "primary"
    assert any("71.34.530" in citation.cite for citation in wa.citations)
    assert one("WA", "recording").value == Recording(consent="all_party")
    assert one("GA", "telehealth_training").value == TelehealthTraining(
        hours=6, profession="LPC, social worker, MFT (including associates)"
    )
    assert one("GA", "recording").value == Recording(consent="one_party")


def test_third_review_pass_2026_11_27() -> None:
    """Values newly read in primary text on the third review pass (dataset 2026.11.2)."""
    for code in ("FL", "PA"):  # all-party states: Tsavaris (Fla. 1981); § 5704(4) and Byrd (Pa. 2020)
        rule = one(code, "recording")
        assert rule.confidence == "primary" and rule.value == Recording(consent="all_party"), code
    assert any(c.source_type == "case" for c in one("FL", "recording").citations)
    assert any("5704" in c.cite and c.source_type == "statute" for c in one("PA", "recording").citations)
    ga_minor = one("GA", "minor_consent")
    assert ga_minor.confidence == "primary"
    assert isinstance(ga_minor.value, MinorConsent) and ga_minor.value.self_consent_age is None
    assert any("31-9-2" in c.cite for c in ga_minor.citations)
    # § 31-9-2 covers treatment suggested by a physician: a parent signing for counseling is the
    # more protective reading, worded as the practice's policy (2026-12-05).
    assert ga_minor.protective_choice and not ga_minor.states_law
    wa = one("WA", "licensure")
    assert wa.confidence == "primary"
    assert isinstance(wa.value, Licensure)
    assert (wa.value.compacts.psypact, wa.value.compacts.counseling, wa.value.compacts.social_work) == (
        True,
        True,
        True,
    )
    ga_retention = one("GA", "record_retention")
    assert ga_retention.confidence == "unverified"  # a fill from the psychologists' statute
    assert isinstance(ga_retention.value, RecordRetention) and ga_retention.value.adult_years == 10
    assert ga_retention.conflicts  # the 7-year board rule is recorded against it


def test_fourth_review_pass_2026_11_27() -> None:
    """What the fourth pass changed (dataset 2026.11.3): one rule raised, new texts recorded."""
    ny_notice = one("NY", "board_notice")
    assert ny_notice.confidence == "secondary"  # 8 NYCRR §§ 29.1-29.2 read in part: no complaint notice
    assert isinstance(ny_notice.value, BoardNotice) and not ny_notice.value.required
    assert any("29.1" in c.cite for c in ny_notice.citations)
    # Pennsylvania's codified telemedicine chapter (Act 42 of 2024) was read in full: it holds no
    # consent duty, so the checks from the association summary stay secondary.
    pa_telehealth = one("PA", "telehealth_consent")
    assert pa_telehealth.confidence == "secondary"
    assert any("4801-4805" in c.cite and c.source_type == "statute" for c in pa_telehealth.citations)
    assert isinstance(pa_telehealth.value, TelehealthConsent)
    assert set(pa_telehealth.value.per_session_checks) == {"identity", "location"}


def test_every_excluded_service_in_the_data_has_a_word_in_every_stock_language() -> None:
    """A minor's excluded services are shown in the packet's language, never as the data's English."""
    root = Path(__file__).resolve().parents[1] / "templates"
    items = {
        (code, item)
        for code, ruleset in load_all().items()
        for rule in ruleset.for_topic("minor_consent")
        if isinstance(rule.value, MinorConsent)
        for item in rule.value.excludes
    }
    assert len(items) > 10
    for locale in ("en-US", "es-US"):
        words = tomllib.loads((root / locale / "clauses.toml").read_text(encoding="utf-8"))["vocabulary"]
        missing = sorted(f"{code}: {item}" for code, item in items if item not in words["excluded_service"])
        assert missing == [], locale


def test_minor_consent_review_of_the_other_states_2026_11_27() -> None:
    """Values read on the 2026-11-27 review of the 40 states beyond the priority ten."""
    ages = {code: one(code, "minor_consent").value for code in ("VA", "VT", "MD", "NM", "HI", "SC")}
    assert {code: v.self_consent_age for code, v in ages.items() if isinstance(v, MinorConsent)} == {
        "VA": 0,  # Va. Code § 54.1-2969(E)(4): any minor, outpatient
        "VT": 0,  # 18 V.S.A. § 8350: any minor, no prescription drugs
        "MD": 12,  # Health-Gen. § 20-104
        "NM": 14,  # NMSA 32A-6A-15
        "HI": 14,  # HRS § 577-29
        "SC": 16,  # S.C. Code § 63-5-340
    }
    for code in ages:
        assert one(code, "minor_consent").confidence == "primary", code
    # Read in primary text, and a parent or guardian signs.
    for code in ("AZ", "IN", "KY", "LA", "MO", "NC", "OK", "WY", "MT", "CT", "WI"):
        rule = one(code, "minor_consent")
        assert rule.confidence == "primary" and isinstance(rule.value, MinorConsent), code
        assert rule.value.self_consent_age is None, code
    assert one("MT", "minor_consent").conflicts  # § 53-21-112 (16+) against § 40-6-702: a parent signs
    for code, age in (("NJ", 16), ("TN", 16), ("AL", 16)):  # secondary sources
        rule = one(code, "minor_consent")
        assert rule.confidence == "secondary" and isinstance(rule.value, MinorConsent), code
        assert rule.value.self_consent_age == age, code
    for code, age in (("OR", 14), ("NE", 18)):  # raised to primary on 2026-12-04 (ORS 109.675, § 43-2101)
        rule = one(code, "minor_consent")
        assert rule.confidence == "primary" and isinstance(rule.value, MinorConsent), code
        assert rule.value.self_consent_age == age, code
    alabama = one("AL", "minor_consent").value
    assert isinstance(alabama, MinorConsent) and alabama.age_of_majority == 19
    assert "self_consent_age=0 (any minor)" in describe_value(one("VA", "minor_consent").value)


def test_board_notice_review_of_the_other_states_2026_11_27() -> None:
    """Board-complaint notices newly found required on the 2026-11-27 review (they change packets)."""
    for code in ("CO", "OR", "ME", "NC", "MN", "ID"):
        rule = one(code, "board_notice")
        assert isinstance(rule.value, BoardNotice) and rule.value.required and rule.value.boards, code
    assert {code: one(code, "board_notice").confidence for code in ("CO", "OR", "ME", "NC", "MN", "ID")} == {
        "CO": "primary",  # C.R.S. § 12-245-216(1)(c)
        "OR": "primary",  # ORS 675.755
        "ME": "primary",  # 02-514 C.M.R. ch. 8-B § 1
        "NC": "secondary",  # 21 NCAC 53 .0204, read without an address to cite
        "MN": "secondary",  # § 148F.165 (drug counselors) read; LPC/MFT versions only quoted
        "ID": "secondary",  # IDAPA 24.15.01.200.03, cut off mid-item
    }
    maine = one("ME", "board_notice").value
    assert isinstance(maine, BoardNotice)
    (board,) = maine.boards_for("counselor")
    assert board.prescribed_text and board.prescribed_text.startswith("Clients have the right-")
    colorado = one("CO", "board_notice")
    assert any("12-245-216" in c.cite for c in colorado.citations)


def test_record_retention_review_of_the_other_states_2026_11_27() -> None:
    """Retention periods read on the 2026-11-27 review (they change what packets promise)."""
    periods = {}
    for code in ("MN", "NV", "OR", "ME", "VT", "NJ", "NH", "OK"):
        rule = one(code, "record_retention")
        assert rule.confidence == "primary" and isinstance(rule.value, RecordRetention), code
        value = rule.value
        periods[code] = (value.adult_years, value.minor_years_past_majority, value.counted_from)
    assert periods == {
        "MN": (8, 8, "last_service"),  # Minn. R. 7200.4750 (psychologists; counselors' 7 is a conflict)
        "NV": (5, 5, "creation"),  # NRS 629.051
        "OR": (7, None, "last_service"),  # OAR 833-075-0070
        "ME": (7, 7, "last_service"),  # 02-416 C.M.R. ch. 17, § 2 (social workers) over 8-A § 5 (5 years)
        "VT": (7, None, "termination"),  # 3 V.S.A. § 129a(a)(9)
        "NJ": (7, 7, "termination"),
        "NH": (7, 7, "termination"),
        "OK": (7, None, "termination"),
    }
    assert one("MN", "record_retention").conflicts and one("ME", "record_retention").conflicts


def test_telehealth_consent_review_of_the_other_states_2026_11_27() -> None:
    vermont, alabama, connecticut = (one(code, "telehealth_consent") for code in ("VT", "AL", "CT"))
    assert vermont.confidence == alabama.confidence == connecticut.confidence == "primary"
    assert isinstance(vermont.value, TelehealthConsent)
    assert (vermont.value.form, vermont.value.documented) == ("either", True)  # 18 V.S.A. § 9361(c)(1)
    assert isinstance(alabama.value, TelehealthConsent)
    assert set(alabama.value.per_session_checks) == {"identity", "location"}  # Ala. Admin. Code 536-X-8-.10
    assert isinstance(connecticut.value, TelehealthConsent)
    assert (connecticut.value.form, connecticut.value.documented) == ("not_specified", True)  # § 19a-906


def test_second_review_pass_2026_11_27() -> None:
    """Values newly read in primary text on the second review pass (see the dataset CHANGELOG)."""
    # Washington: Volk v. DeMeerleer (2016) duty to protect; WAC 246-809-710(1)(k) DOH contact details
    wa_duty = one("WA", "duty_to_warn")
    assert wa_duty.confidence == "primary"
    assert wa_duty.value == DutyToWarn(kind="mandatory", basis="case_law")
    assert any("Volk v. DeMeerleer" in c.cite and c.source_type == "case" for c in wa_duty.citations)
    wa_notice = one("WA", "board_notice")
    assert wa_notice.confidence == "primary"
    assert isinstance(wa_notice.value, BoardNotice) and wa_notice.value.required
    doh = wa_notice.value.boards[0]
    assert doh.prescribed_text is None
    assert not wa_notice.value.boards_for("psychologist")  # WAC 246-809 covers LMHCs, MFTs, social workers
    assert doh.name.startswith("Washington State Department of Health")
    assert doh.phone == "360-236-4700"
    assert doh.address == (
        "Health Systems Quality Assurance, Complaint Intake, P.O. Box 47857, Olympia, WA 98504-7857"
    )
    assert any("246-809-710" in c.cite for c in wa_notice.citations)
    # Georgia: board ethics rule 135-7-.03 (duty to protect; written consent to record sessions)
    ga_duty = one("GA", "duty_to_warn")
    assert ga_duty.confidence == "primary"
    assert ga_duty.value == DutyToWarn(kind="mandatory")  # a board rule: neither statute nor case law
    assert any("135-7-.03" in c.cite for c in ga_duty.citations)
    ga_recording = one("GA", "recording")
    assert ga_recording.value == Recording(consent="one_party")
    assert any("written, informed consent" in conflict.says for conflict in ga_recording.conflicts)
    ga_notice = one("GA", "board_notice").value
    assert isinstance(ga_notice, BoardNotice) and not ga_notice.required
    assert ga_notice.boards[0].address == "237 Coliseum Drive, Macon, Georgia 31217"
    # Florida: 64B4-9.001(2) seven years after last contact; PSYPACT and Counseling Compact statutes
    fl_retention = one("FL", "record_retention")
    assert fl_retention.confidence == "primary"
    assert isinstance(fl_retention.value, RecordRetention)
    assert (fl_retention.value.adult_years, fl_retention.value.counted_from) == (7, "last_service")
    assert fl_retention.value.minor_years_past_majority is None
    fl_licensure = one("FL", "licensure")
    assert isinstance(fl_licensure.value, Licensure)
    assert fl_licensure.value.compacts.psypact and fl_licensure.value.compacts.counseling
    cites = " ".join(c.cite for c in fl_licensure.citations)
    assert "490.0075" in cites and "491.017" in cites
    assert fl_licensure.confidence == "secondary"  # social_work = false is not established
    # Pennsylvania: Maas v. UPMC (Pa. 2020) confirms the Emerich duty to warn
    pa_duty = one("PA", "duty_to_warn")
    assert pa_duty.confidence == "primary"
    assert pa_duty.value == DutyToWarn(kind="mandatory", basis="case_law")
    assert any(c.cite.startswith("Maas v. UPMC") and c.source_type == "case" for c in pa_duty.citations)
    # Illinois: Telehealth Act § 10 requires an Illinois license for a patient located in Illinois
    il_licensure = one("IL", "licensure")
    assert isinstance(il_licensure.value, Licensure) and il_licensure.value.location_rule == "client_location"
    assert any("225 ILCS 150" in c.cite and c.source_type == "statute" for c in il_licensure.citations)
    # Mississippi: the boards are named, but no notice requirement was established
    ms_notice = one("MS", "board_notice")
    assert ms_notice.confidence == "unverified"
    assert isinstance(ms_notice.value, BoardNotice) and not ms_notice.value.required
    lpc_board = ms_notice.value.boards[0]
    assert lpc_board.name == "Mississippi State Board of Examiners for Licensed Professional Counselors"
    # absences that were not established stay unverified
    for code in ("MS", "OH", "IL", "WA", "GA"):
        assert one(code, "record_retention").confidence == "unverified", code


# --- the public API ----------------------------------------------------------------------------


def test_load_jurisdiction_normalises_and_rejects_codes() -> None:
    assert load_jurisdiction(" ms ") is load_jurisdiction("MS")
    with pytest.raises(RulesError, match="unknown jurisdiction"):
        load_jurisdiction("XX")
    assert issubclass(RulesError, ConsentKitError)


def test_rule_lookup_by_id() -> None:
    ms = load_jurisdiction("MS")
    assert ms.rule("US-MS.minor_consent").topic == "minor_consent"
    with pytest.raises(KeyError):
        ms.rule("US-MS.nothing")


def test_format_rule_table() -> None:
    ohio = load_jurisdiction("OH")
    rows = format_rule_table(ohio)
    assert len(rows) == len(ohio.rules)
    assert all(len(row) == len(RULE_TABLE_HEADER) for row in rows)
    minor = next(row for row in rows if row[0] == "US-OH.minor_consent")
    assert "self_consent_age=14; session_cap=6; day_cap=30" in minor[2]
    assert minor[3] == "primary" and "5122.04" in minor[4] and minor[5] == "2026-12-04"
    retention = next(row for row in rows if row[1] == "record_retention")
    assert retention[3] == "unverified" and "5122-27-02" in retention[4]  # cited for comparison only
    ms_rows = format_rule_table(load_jurisdiction("MS"))
    uncited = next(row for row in ms_rows if row[0] == "US-MS.record_retention")
    assert uncited[4] == "—"


def test_describe_value_shortens_long_text() -> None:
    value = MinorConsent(age_of_majority=18, scope="x" * 200)
    summary = describe_value(value)
    assert summary.startswith("age_of_majority=18; scope=")
    assert summary.endswith("…") and len(summary) < 100


# --- schema problems in data files ---------------------------------------------------------------

DEFAULT_VALUES = {
    "telehealth_consent": 'form = "written"\ndocumented = true',
    "minor_consent": "age_of_majority = 18",
    "duty_to_warn": 'kind = "unclear"',
    "board_notice": "required = false",
    "record_retention": 'adult_years = 7\nminor_years_past_majority = 7\nfrom = "termination"',
    "recording": 'consent = "all_party"',
    "licensure": (
        'location_rule = "both_locations"\n[rules.value.compacts]\npsypact = false\ncounseling = false\n'
        "social_work = false"
    ),
}


def rule_toml(
    topic: str,
    value: str | None = None,
    *,
    code: str = "MS",
    rule_id: str | None = None,
    confidence: str = "unverified",
    extra: str = "",
    tail: str = "",
) -> str:
    rule_id = rule_id or f"US-{code}.{topic}"
    return (
        f'\n[[rules]]\nid = "{rule_id}"\ntopic = "{topic}"\neffective_date = "unknown"\n'
        f'last_reviewed = "2026-11-27"\nreviewed_by = "test"\nconfidence = "{confidence}"\n'
        f'notes = "conservative default; source not yet reviewed"\n{extra}'
        f"[rules.value]\n{DEFAULT_VALUES.get(topic, '') if value is None else value}\n{tail}"
    )


def write_state(
    tmp_path: Path,
    body: str,
    *,
    code: str = "MS",
    name: str = "Mississippi",
    topics: tuple[str, ...] = REQUIRED_TOPICS,
    filename: str | None = None,
) -> Path:
    text = (
        f'jurisdiction = "{code}"\nname = "{name}"\n'
        + "".join(rule_toml(t, code=code) for t in topics)
        + body
    )
    path = tmp_path / (filename or f"{code}.toml")
    path.write_text(text, encoding="utf-8")
    return path


CITATION = (
    '[[rules.citations]]\ncite = "Miss. Code Ann. § 41-41-203(a)"\nurl = "https://example.org/41-41-203"\n'
    'source_type = "{source_type}"\nretrieved_on = "2026-11-27"\n'
)


def check(path: Path) -> Any:
    return check_rules(TODAY, paths=[path])


def test_a_valid_minimal_file_loads_and_checks(tmp_path: Path) -> None:
    path = write_state(tmp_path, "")
    ruleset = load_ruleset_file(path)
    assert isinstance(ruleset, RuleSet) and len(ruleset.rules) == len(REQUIRED_TOPICS)
    report = check(path)
    assert report.ok
    assert {finding.code for finding in report.warnings} == {"unverified"}


def test_unknown_topic(tmp_path: Path) -> None:
    path = write_state(tmp_path, rule_toml("weather", "sunny = true"))
    with pytest.raises(RulesError, match=r"MS\.toml, rule US-MS\.weather, topic: unknown topic"):
        load_ruleset_file(path)
    (error,) = check(path).errors
    assert (error.code, error.rule_id, error.field) == ("schema", "US-MS.weather", "topic")


def test_unknown_value_key(tmp_path: Path) -> None:
    path = write_state(
        tmp_path,
        rule_toml("minor_consent", "age_of_majority = 18\nsessions_cap = 6", rule_id="US-MS.minor_consent.x"),
    )
    with pytest.raises(RulesError, match=r"rule US-MS\.minor_consent\.x, value\.sessions_cap: unknown field"):
        load_ruleset_file(path)
    (error,) = check(path).errors
    assert error.field == "value.sessions_cap"


def test_bad_value(tmp_path: Path) -> None:
    body = rule_toml(
        "minor_consent", "age_of_majority = 18\nsession_cap = 6", rule_id="US-MS.minor_consent.cap"
    )
    (error,) = check(write_state(tmp_path, body)).errors
    assert error.field == "value.session_cap"
    assert "self_consent_age" in error.message


def test_bad_date(tmp_path: Path) -> None:
    body = rule_toml("recording", rule_id="US-MS.recording.x").replace("2026-11-27", "2026-13-40")
    path = write_state(tmp_path, body)
    with pytest.raises(RulesError, match=r"rule US-MS\.recording\.x, last_reviewed: must be a date"):
        load_ruleset_file(path)


def test_missing_last_reviewed(tmp_path: Path) -> None:
    body = rule_toml("recording", rule_id="US-MS.recording.x").replace('last_reviewed = "2026-11-27"\n', "")
    (error,) = check(write_state(tmp_path, body)).errors
    assert (error.code, error.field) == ("missing-last-reviewed", "last_reviewed")


def test_primary_without_citation_is_an_error(tmp_path: Path) -> None:
    path = write_state(tmp_path, rule_toml("recording", rule_id="US-MS.recording.x", confidence="primary"))
    load_ruleset_file(path)  # the file is well formed; the check refuses it
    report = check(path)
    assert not report.ok
    (error,) = report.errors
    assert (error.code, error.rule_id) == ("missing-citation", "US-MS.recording.x")


def test_secondary_without_citation_is_an_error(tmp_path: Path) -> None:
    report = check(
        write_state(tmp_path, rule_toml("recording", rule_id="US-MS.recording.x", confidence="secondary"))
    )
    assert [error.code for error in report.errors] == ["missing-citation"]


def test_primary_citing_only_secondary_sources_is_an_error(tmp_path: Path) -> None:
    body = rule_toml(
        "recording",
        rule_id="US-MS.recording.x",
        confidence="primary",
        tail=CITATION.format(source_type="secondary"),
    )
    assert [error.code for error in check(write_state(tmp_path, body)).errors] == [
        "primary-without-primary-source"
    ]
    body = rule_toml(
        "recording",
        rule_id="US-MS.recording.y",
        confidence="primary",
        tail=CITATION.format(source_type="statute"),
    )
    assert check(write_state(tmp_path, body)).ok


def test_unverified_without_citation_is_only_a_warning(tmp_path: Path) -> None:
    report = check(write_state(tmp_path, ""))
    assert report.ok
    assert all(finding.code == "unverified" for finding in report.warnings)


def test_missing_required_topic(tmp_path: Path) -> None:
    path = write_state(tmp_path, "", topics=tuple(t for t in REQUIRED_TOPICS if t != "recording"))
    (error,) = check(path).errors
    assert error.code == "missing-topic" and "recording" in error.message


def test_duplicate_id(tmp_path: Path) -> None:
    (error,) = check(write_state(tmp_path, rule_toml("recording"))).errors
    assert (error.code, error.rule_id) == ("duplicate-id", "US-MS.recording")


def test_id_must_match_jurisdiction_and_topic(tmp_path: Path) -> None:
    report = check(write_state(tmp_path, rule_toml("recording", rule_id="US-TX.recording.x")))
    assert [(e.code, e.field) for e in report.errors] == [("schema", "id")]
    report = check(write_state(tmp_path, rule_toml("recording", rule_id="US-MS.licensure.x")))
    assert [(e.code, e.field) for e in report.errors] == [("schema", "id")]


def test_unknown_effective_date_needs_notes(tmp_path: Path) -> None:
    body = rule_toml("recording", rule_id="US-MS.recording.x").replace(
        'notes = "conservative default; source not yet reviewed"\n', ""
    )
    (error,) = check(write_state(tmp_path, body)).errors
    assert error.field == "effective_date"


def test_retention_start_is_spelled_from(tmp_path: Path) -> None:
    body = rule_toml(
        "record_retention",
        'adult_years = 7\ncounted_from = "termination"',
        rule_id="US-MS.record_retention.x",
    )
    messages = {(e.field, e.message) for e in check(write_state(tmp_path, body)).errors}
    assert ("value.counted_from", "unknown field") in messages


def test_pending_changes_and_unread_citations_warn(tmp_path: Path) -> None:
    tail = CITATION.format(source_type="statute").replace('"2026-11-27"', '"unknown"')
    tail += '[[rules.pending]]\ndescription = "HB 1 would change this"\n'
    body = rule_toml("recording", rule_id="US-MS.recording.x", confidence="primary", tail=tail)
    report = check(write_state(tmp_path, body))
    assert report.ok
    codes = {finding.code for finding in report.warnings if finding.rule_id == "US-MS.recording.x"}
    assert codes == {"pending", "citation-not-retrieved"}


def test_reviewed_in_the_future_is_an_error(tmp_path: Path) -> None:
    body = rule_toml("recording", rule_id="US-MS.recording.x").replace("2026-11-27", "2027-01-01")
    assert [e.code for e in check(write_state(tmp_path, body)).errors] == ["reviewed-in-future"]


def test_file_level_problems(tmp_path: Path) -> None:
    broken = tmp_path / "MS.toml"
    broken.write_text("jurisdiction = [", encoding="utf-8")
    with pytest.raises(RulesError, match=r"MS\.toml: not valid TOML"):
        load_ruleset_file(broken)
    renamed = write_state(tmp_path, "", filename="TX.toml")
    (error,) = check(renamed).errors
    assert "named for TX" in error.message
    wrong_name = write_state(tmp_path, "", name="Missisippi")
    assert [(e.field, e.code) for e in check(wrong_name).errors] == [("name", "schema")]
    assert [e.code for e in check(tmp_path / "NOPE.toml").errors] == ["missing-file"]
    with pytest.raises(RulesError, match="cannot read file"):
        load_ruleset_file(tmp_path / "NOPE.toml")


def test_only_the_federal_file_carries_a_version(tmp_path: Path) -> None:
    path = write_state(tmp_path, "")
    path.write_text('dataset_version = "2026.11.0"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert [e.field for e in check(path).errors] == ["dataset_version"]


def test_all_problems_of_a_file_are_reported(tmp_path: Path) -> None:
    body = rule_toml("weather") + rule_toml("recording", 'consent = "some"', rule_id="US-MS.recording.x")
    report = check(write_state(tmp_path, body))
    assert {(e.rule_id, e.field) for e in report.errors} == {
        ("US-MS.weather", "topic"),
        ("US-MS.recording.x", "value.consent"),
    }


def test_check_rejects_a_negative_age_limit() -> None:
    with pytest.raises(ValueError, match="max_age_days"):
        check_rules(TODAY, max_age_days=-1)


# --- property: outside input never escapes as anything but problems ------------------------------

leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 40), st.text(max_size=8), st.dates())
json_like = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    topic=st.sampled_from([*REQUIRED_TOPICS, "crisis_resources", "telehealth_training", "bogus"]),
    value=json_like,
    confidence=st.one_of(st.sampled_from(["primary", "secondary", "unverified"]), leaf),
    effective=leaf,
)
def test_parse_ruleset_reports_problems_instead_of_raising(
    topic: str, value: Any, confidence: Any, effective: Any
) -> None:
    data = {
        "jurisdiction": "MS",
        "name": "Mississippi",
        "rules": [
            {
                "id": f"US-MS.{topic}.p",
                "topic": topic,
                "value": value,
                "confidence": confidence,
                "effective_date": effective,
                "last_reviewed": "2026-11-27",
                "reviewed_by": "test",
                "notes": "n",
            }
        ],
    }
    ruleset, problems = parse_ruleset(data, source="MS.toml")
    assert ruleset is not None
    assert len(ruleset.rules) + (1 if problems else 0) == 1
    for problem in problems:
        assert problem.source == "MS.toml" and problem.rule_id == f"US-MS.{topic}.p"
