"""State rules decide the clauses, the signers and whether a session may happen at all."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import attrs
import pytest

from consentkit import JurisdictionError, RulesError, render_packet
from consentkit.models import (
    Address,
    Client,
    Compact,
    CompactPrivilege,
    License,
    Practice,
    RuleOverride,
    RulePolicy,
)
from consentkit.rendering import load_template_set
from consentkit.rendering._slots import slots_from_rules
from consentkit.rules import Licensure, load_jurisdiction
from consentkit.rules._resolve import ResolvedRules, resolve_rules

from .cli_support import CliResult, run_cli
from .conftest import DOC_DATE, NOW
from .pdf_support import pdf_text

TOWNS = {
    "MS": ("Oxford", "38655"),
    "WA": ("Seattle", "98101"),
    "CA": ("Sacramento", "95814"),
    "TX": ("Austin", "78701"),
    "AR": ("Little Rock", "72201"),
    "VA": ("Richmond", "23219"),
    "MD": ("Annapolis", "21401"),
    "ME": ("Augusta", "04330"),
    "CO": ("Denver", "80202"),
    "OR": ("Salem", "97301"),
    "MN": ("Saint Paul", "55101"),
    "VT": ("Montpelier", "05602"),
    "AL": ("Montgomery", "36104"),
}


def located(client: Client, state: str) -> Client:
    city, zip_code = TOWNS[state]
    return attrs.evolve(
        client, session_address=Address(line1="10 Test Street", city=city, state=state, postal_code=zip_code)
    )


def resolve_in(practice: Practice, client: Client, state: str, *, license_type: str = "LPC") -> ResolvedRules:
    """The rules for ``client`` located in ``state``, seen by the lead clinician licensed there too."""
    lead = practice.clinicians[0]
    there = License(state=state, license_type=license_type, number=f"{state}-1", expires=date(2028, 1, 1))
    licensed = attrs.evolve(lead, licenses=(*lead.licenses, there))
    return resolve_rules(practice, licensed, located(client, state), DOC_DATE)


@pytest.fixture(scope="module")
def multistate(practice: Practice) -> Practice:
    """The example practice whose first clinician also holds WA, CA, TX and ME licenses."""
    lead = practice.clinicians[0]
    extra = tuple(
        License(state=s, license_type="LPC", number=f"{s}-1", expires=date(2028, 1, 1))
        for s in ("WA", "CA", "TX", "ME")
    )
    return attrs.evolve(
        practice, clinicians=(attrs.evolve(lead, licenses=lead.licenses + extra), *practice.clinicians[1:])
    )


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory,
    multistate: Practice,
    example_clients: dict[str, Client],
    converter: object,
) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("states")
    cases = {
        "minor-MS": located(example_clients["minor"], "MS"),
        "minor-WA": located(example_clients["minor"], "WA"),
        "adult-CA": located(example_clients["adult"], "CA"),
        "adult-TX": located(example_clients["adult"], "TX"),
        "adult-ME": located(example_clients["adult"], "ME"),
    }
    folders = {}
    for name, client in cases.items():
        result = render_packet(
            multistate, client, out / name, on=DOC_DATE, now=NOW, packet_id=name, converter=converter
        )  # type: ignore[arg-type]
        folders[name] = result.out_dir
    return folders


def places(folder: Path) -> dict[str, list[str]]:
    manifest = json.loads((folder / "manifest.json").read_text())
    return {d["id"]: d["signature_places"] for d in manifest["documents"]}


@pytest.mark.libreoffice
def test_minor_in_mississippi_needs_the_guardian(rendered: dict[str, Path]) -> None:
    folder = rendered["minor-MS"]
    assert "guardian-1" in places(folder)["informed_consent"]
    assert "guardian-1" in places(folder)["telehealth_consent"]
    text = pdf_text(folder / "packet.pdf", flat=True)
    # The text read sets the age; that a parent must consent is the practice's policy
    # (protective_choice), never stated as Mississippi law.
    assert "We ask a parent or guardian to consent to counseling for a client under 18." in text
    assert "Under Mississippi law, most people under 18" not in text
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["rules"]["guardian_required"] is True
    assert manifest["rules"]["minor_self_consent"] is False


@pytest.mark.libreoffice
def test_minor_in_washington_may_consent_alone(rendered: dict[str, Path]) -> None:
    folder = rendered["minor-WA"]
    # The minor signs every document alone: no guardian signs the fees policy, the emergency plan or
    # the e-signature consent either (they did before, whenever a guardian was on file).
    for document, keys in places(folder).items():
        assert not any(k.startswith("guardian") for k in keys), document
        assert "client" in keys, document
    text = pdf_text(folder / "packet.pdf", flat=True)
    assert (
        "Under Washington law, a minor who is 13 or older may consent to this counseling on their own."
        in text
    )
    # RCW 70.02.265: what a parent is told; no parent is made responsible for paying.
    assert "will not share information about this counseling with a parent on their own" in text
    assert "the parent or guardian who signs this policy is responsible" not in text
    assert "We will not send a bill to a parent or guardian" in text
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["rules"]["minor_self_consent"] is True
    assert "US-WA.minor_consent" in {r["id"] for r in manifest["rules"]["applied"]}


@pytest.mark.libreoffice
def test_california_adult_gets_the_board_notice_text(rendered: dict[str, Path]) -> None:
    text = pdf_text(rendered["adult-CA"] / "packet.pdf", flat=True)
    assert (
        "The Board of Behavioral Sciences receives and responds to complaints regarding services provided "
        "within the scope of practice of professional clinical counselors."
    ) in text
    assert "(916) 574-7830" in text
    assert "Under California law, you may not record a private talk unless everyone in it agrees." in text


@pytest.mark.libreoffice
def test_texas_adult_gets_the_council_notice(rendered: dict[str, Path]) -> None:
    text = pdf_text(rendered["adult-TX"] / "packet.pdf", flat=True)
    assert "Texas Behavioral Health Executive Council" in text
    # § 611.004(a)(2): medical or law enforcement personnel only; the threatened person is not listed.
    assert "Under Texas law, your clinician may share information" in text
    assert "medical or law enforcement staff" in text and "does not list the person at risk" in text
    assert "may warn that person" not in text
    mississippi = pdf_text(rendered["minor-MS"] / "packet.pdf", flat=True)
    assert "Executive Council" not in mississippi and "Board of Behavioral Sciences" not in mississippi


@pytest.mark.libreoffice
def test_maine_adult_gets_the_prescribed_bill_of_rights_line_by_line(rendered: dict[str, Path]) -> None:
    """02-514 C.M.R. ch. 8-B § 1 prescribes the wording; its lines stay lines in the PDF."""
    raw = pdf_text(rendered["adult-ME"] / "packet.pdf")
    assert "Clients have the right-" in raw  # pdftotext joins the line after a trailing hyphen
    assert "\n- To examine a counselor's licensing credentials;\n- To obtain a copy of the Code" in raw
    assert "\nComplaint Coordinator\n" in raw and "Tel: (207) 624-8660" in raw
    manifest = json.loads((rendered["adult-ME"] / "manifest.json").read_text())
    assert any(n.startswith("US-ME.board_notice: sources conflict") for n in manifest["rules"]["notes"])


@pytest.mark.parametrize(
    ("license_type", "board"),
    [
        ("LPC", "Licensed Professional Counselor"),
        ("Licensed Clinical Social Worker", "Social Work"),
        ("LMFT", "Marriage and Family Therapist"),
        ("Licensed Psychologist", "Psychologist"),
    ],
)
def test_the_board_notice_names_the_board_of_the_clinician_s_profession(
    practice: Practice, example_clients: dict[str, Client], license_type: str, board: str
) -> None:
    """C.R.S. § 12-245-216(1)(c): the notice names the licensee's own board (it named all four)."""
    resolved = resolve_in(practice, example_clients["adult"], "CO", license_type=license_type)
    for locale in ("en-US", "es-US"):
        text = slots_from_rules(resolved, load_template_set(locale)).board_notice
        assert text.count("Colorado State Board of") == 1, locale
        assert f"Colorado State Board of {board}" in text, locale
        # § 12-245-216(1)(c), (d)(III): the two statements, in the packet's language
        statement = "Sexual intimacy is never okay" if locale == "en-US" else "La intimidad sexual nunca"
        assert statement in text, locale
    assert not [w for w in resolved.warnings if "board_notice" in w]


def test_a_profession_the_notice_has_no_board_for_names_none_and_says_so(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    """WAC 246-809-710 reaches counselors, MFTs and social workers; a psychologist's packet names no board."""
    resolved = resolve_in(practice, example_clients["adult"], "WA", license_type="Psychologist")
    assert resolved.boards == ()
    assert slots_from_rules(resolved, load_template_set("en-US")).board_notice == ""
    assert any("no notice for the psychologist profession" in w for w in resolved.warnings)
    unknown = resolve_in(practice, example_clients["adult"], "CO", license_type="Therapist")
    assert len(unknown.boards) == 4
    assert any("could not be told from the license type" in w for w in unknown.warnings)


@pytest.mark.parametrize(
    ("license_type", "expected", "missing"),
    [
        ("LPCC", "scope of practice of professional clinical counselors", []),
        ("LMFT", "Board of Behavioral Sciences", ["prescribed statement"]),
        ("LCSW", "Board of Behavioral Sciences", ["prescribed statement"]),
        ("Psychologist", "Board of Psychology", ["prescribed statement"]),
    ],
)
def test_california_notice_follows_the_clinician_s_license(
    practice: Practice,
    example_clients: dict[str, Client],
    license_type: str,
    expected: str,
    missing: list[str],
) -> None:
    """B&P §§ 4980.32, 4996.75, 4999.71, 2936: each profession has its own notice (all got the LPCC text)."""
    resolved = resolve_in(practice, example_clients["adult"], "CA", license_type=license_type)
    text = slots_from_rules(resolved, load_template_set("en-US")).board_notice
    assert expected in text
    if license_type != "LPCC":
        assert "professional clinical counselors" not in text
    said = [w for w in resolved.warnings if w.startswith("US-CA.board_notice")]
    assert [m for m in missing if any(m in w for w in said)] == missing and len(said) == len(missing)


def test_texas_notice_reports_its_missing_elements_and_fails_under_a_strict_policy(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    """22 TAC § 884.31(b): the Council's telephone number and prescribed statement are not in the data."""
    resolved = resolve_in(practice, example_clients["adult"], "TX")
    said = [w for w in resolved.warnings if w.startswith("US-TX.board_notice")]
    assert any("telephone number" in w for w in said) and any("prescribed statement" in w for w in said)
    strict = attrs.evolve(practice, rule_policy=RulePolicy(incomplete_notice_is_error=True))
    with pytest.raises(RulesError, match=r"US-TX\.board_notice: .*telephone number"):
        resolve_in(strict, example_clients["adult"], "TX")


def test_clinician_without_license_or_privilege_is_refused(
    practice: Practice, example_clients: dict[str, Client], tmp_path: Path
) -> None:
    client = located(example_clients["adult"], "AR")
    with pytest.raises(JurisdictionError) as caught:
        render_packet(practice, client, tmp_path / "refused", on=DOC_DATE)
    message = str(caught.value)
    assert (
        "Dana Whitfield" in message and "Arkansas" in message and "no license or compact privilege" in message
    )
    assert not (tmp_path / "refused").exists()
    assert not list(tmp_path.iterdir())  # no staging folder left behind


def test_expired_license_is_refused_and_compact_privilege_is_accepted(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    lead = practice.clinicians[0]
    client = example_clients["adult"]
    expired = attrs.evolve(lead, licenses=(attrs.evolve(lead.licenses[0], expires=date(2026, 1, 1)),))
    with pytest.raises(JurisdictionError, match="expired on 2026-01-01"):
        resolve_rules(practice, expired, client, DOC_DATE)
    in_alabama = attrs.evolve(
        client, session_address=Address(line1="1 A St", city="Mobile", state="AL", postal_code="36602")
    )
    resolved = resolve_rules(practice, lead, in_alabama, DOC_DATE)
    assert "compact privilege" in resolved.authorization


def test_privilege_under_a_compact_the_state_is_not_recorded_in_is_accepted_with_a_warning(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    lead = practice.clinicians[0]
    in_alabama = attrs.evolve(
        example_clients["adult"],
        session_address=Address(line1="1 A St", city="Mobile", state="AL", postal_code="36602"),
    )
    member = resolve_rules(practice, lead, in_alabama, DOC_DATE)  # AL is recorded in the counseling compact
    assert not [w for w in member.warnings if "as a member of" in w]

    social_worker = attrs.evolve(
        lead,  # keeps the Mississippi license its home state requires, but none in California
        compact_privileges=(CompactPrivilege(compact=Compact.SOCIAL_WORK, state="CA", number="SW-CA-1"),),
    )
    in_california = located(example_clients["adult"], "CA")
    resolved = resolve_rules(practice, social_worker, in_california, DOC_DATE)
    assert resolved.authorization == "social work compact privilege (CA)"
    [warning] = [w for w in resolved.warnings if "as a member of" in w]
    assert warning.startswith(
        "US-CA.licensure does not record California as a member of the social work compact"
    )
    assert "confirm the privilege with the compact commission" in warning

    ca_rule = load_jurisdiction("CA").for_topic("licensure")[0]
    joined = RuleOverride(
        rule_id="US-CA.licensure",
        value={
            "location_rule": "client_location",
            "compacts": {"psypact": False, "counseling": False, "social_work": True},
        },
        reason="California joined the Social Work Licensure Compact (commission list checked)",
        approved_by="Dana Whitfield",
        approved_on=date(2026, 11, 1),
    )
    assert isinstance(ca_rule.value, Licensure) and ca_rule.value.compacts.social_work is False
    overridden = resolve_rules(
        attrs.evolve(practice, rule_overrides=(joined,)), social_worker, in_california, DOC_DATE
    )
    assert not [w for w in overridden.warnings if "as a member of" in w]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en-US",
            "Under Virginia law, a minor of any age may consent to this counseling on their own.",
        ),
        (
            "es-US",
            "Según la ley de Virginia, un menor de cualquier edad puede dar por su cuenta el consentimiento",
        ),
    ],
)
def test_a_state_with_no_minimum_age_lets_any_minor_consent(
    practice: Practice, example_clients: dict[str, Client], locale: str, expected: str
) -> None:
    """Va. Code § 54.1-2969(E)(4) sets no minimum age (self_consent_age = 0 in the data)."""
    resolved = resolve_in(practice, example_clients["minor"], "VA")
    assert resolved.minor_self_consent
    slots = slots_from_rules(resolved, load_template_set(locale))
    assert slots.minor_self_consent and slots.minor_consent.startswith(expected)
    assert " 0 " not in slots.minor_consent
    excluded = "admission to a hospital" if locale == "en-US" else "el ingreso en un hospital"
    assert excluded in slots.minor_consent


def test_excluded_services_are_in_the_packet_s_language(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    resolved = resolve_in(practice, example_clients["minor"], "MD")
    spanish = slots_from_rules(resolved, load_template_set("es-US")).minor_consent
    english = slots_from_rules(resolved, load_template_set("en-US")).minor_consent
    assert "un menor de 12 años o más" in spanish
    assert "medicamentos recetados (para un menor de 16 años)" in spanish and "prescription" not in spanish
    assert "It does not cover: prescription medicine (for a minor under 16)." in english


@pytest.mark.parametrize(
    ("state", "locale", "expected"),
    [
        (
            "OR",
            "en-US",
            "We keep your records for at least 7 years after your last service. The same period applies to "
            "the records of a client who is a minor.",
        ),
        (
            "OR",
            "es-US",
            "El mismo plazo se aplica al expediente de un cliente menor de edad.",
        ),
        (
            "MN",
            "en-US",
            "We keep your records for at least 8 years after your last service. For a minor, we keep them "
            "until at least 8 years after the client turns 18, if that is later.",
        ),
    ],
)
def test_retention_promise_follows_the_state_and_never_prints_reviewers_notes(
    practice: Practice, example_clients: dict[str, Client], state: str, locale: str, expected: str
) -> None:
    resolved = resolve_in(practice, example_clients["minor"], state)
    text = slots_from_rules(resolved, load_template_set(locale)).retention
    assert expected in text
    assert "text read" not in text and "§" not in text  # the rule's minor_rule is for reviewers


def test_telehealth_rules_of_the_other_states_reach_the_packet(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    """AL's MFT rule 536-X-8-.10: identity and location every session; VT § 9361(c)(1): oral or written."""
    template = load_template_set("en-US")
    alabama = slots_from_rules(resolve_in(practice, example_clients["adult"], "AL"), template).notices
    vermont = slots_from_rules(resolve_in(practice, example_clients["adult"], "VT"), template).notices
    mississippi = slots_from_rules(resolve_in(practice, example_clients["adult"], "MS"), template).notices
    per_session = _first_words(template.clauses["rules"]["per_session_checks"])
    verbal = _first_words(template.clauses["rules"]["consent_verbal"])
    assert any(n.startswith(per_session) for n in alabama) and not any(n.startswith(verbal) for n in alabama)
    assert any(n.startswith(verbal) for n in vermont) and not any(n.startswith(per_session) for n in vermont)
    assert not any(n.startswith((verbal, per_session)) for n in mississippi)


def _first_words(clause: str) -> str:
    """A clause's text before its first placeholder."""
    return clause.split("{", 1)[0]


def test_mississippi_duty_to_warn_says_may_as_the_statute_does(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    """Miss. Code Ann. § 41-21-97(1)(e) "may communicate the threat only to" (packets said "must")."""
    resolved = resolve_rules(practice, practice.clinicians[0], example_clients["adult"], DOC_DATE)
    notes = [n for n in resolved.notes if n.startswith("US-MS.duty_to_warn")]
    assert notes and "not adopted" in " ".join(notes)  # the secondary table's "mandatory" is recorded
    for locale, may, must in (
        ("en-US", "may tell only", "must"),
        ("es-US", "puede avisar solamente", "debe"),
    ):
        duty = slots_from_rules(resolved, load_template_set(locale)).duty_to_warn
        assert may in duty and must not in duty.split(), locale


def test_practice_override_is_applied_and_recorded(
    practice: Practice, example_clients: dict[str, Client], tmp_path: Path, converter: object
) -> None:
    override = RuleOverride(
        rule_id="US-MS.record_retention",
        value={"adult_years": 10, "from": "termination"},
        reason="practice keeps records ten years",
        approved_by="Dana Whitfield",
        approved_on=date(2026, 11, 1),
    )
    with_override = attrs.evolve(practice, rule_overrides=(override,))
    result = render_packet(
        with_override,
        example_clients["adult"],
        tmp_path / "p",
        on=DOC_DATE,
        converter=converter,
        template_ids=["informed_consent"],
    )  # type: ignore[arg-type]
    applied = {r["id"]: r for r in result.manifest.rules["applied"]}
    assert applied["US-MS.record_retention"]["override"]["approved_by"] == "Dana Whitfield"
    assert "at least 10 years" in pdf_text(tmp_path / "p" / "packet.pdf", flat=True)
    bad = attrs.evolve(override, value={"adult_years": "ten", "from": "termination"})
    with pytest.raises(RulesError, match=r"override of US-MS\.record_retention"):
        resolve_rules(
            attrs.evolve(practice, rule_overrides=(bad,)),
            practice.clinicians[0],
            example_clients["adult"],
            DOC_DATE,
        )


def test_stale_and_unverified_rules_warn_or_fail_by_policy(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    client = example_clients["adult"]
    later = date(2027, 3, 1)  # the clinician's license is still valid; the rules were reviewed 2026-11-27
    monthly = attrs.evolve(practice, rule_policy=RulePolicy(max_age_days=30))
    resolved = resolve_rules(monthly, practice.clinicians[0], client, later)
    assert any("last reviewed" in w for w in resolved.warnings)
    assert any("unverified" in w for w in resolved.warnings)
    assert not any(
        "last reviewed" in w for w in resolve_rules(practice, practice.clinicians[0], client, later).warnings
    )
    strict = attrs.evolve(practice, rule_policy=RulePolicy(max_age_days=30, stale_is_error=True))
    with pytest.raises(RulesError, match="more than 30 days"):
        resolve_rules(strict, practice.clinicians[0], client, later)
    resolve_rules(strict, practice.clinicians[0], client, DOC_DATE)  # fresh data passes
    no_unverified = attrs.evolve(practice, rule_policy=RulePolicy(unverified_is_error=True))
    with pytest.raises(RulesError, match="unverified"):
        resolve_rules(no_unverified, practice.clinicians[0], client, DOC_DATE)


def cli(*args: str) -> CliResult:
    return run_cli(*args)


def test_rules_cli_show_and_check(tmp_path: Path) -> None:
    shown = cli("rules", "show", "ca", "--json")
    assert shown.returncode == 0
    rows = json.loads(shown.stdout)
    assert any(r["id"] == "US-CA.board_notice" and "4999.71" in r["citations"] for r in rows)
    checked = cli("rules", "check", "--today", "2026-12-05", "--quiet")
    assert checked.returncode == 0, checked.stdout
    assert "rules check ok" in checked.stdout
    source = (Path(__file__).resolve().parents[1] / "src/consentkit/rules/data/MS.toml").read_text()
    broken = tmp_path / "MS.toml"
    broken.write_text(source.replace('last_reviewed = "2026-11-27"', 'last_reviewed = ""', 1))
    failed = cli("rules", "check", "--today", "2026-12-05", "--quiet", str(broken))
    assert failed.returncode == 1 and "error:" in failed.stdout
    assert cli("rules", "show", "ZZ").returncode == 1
