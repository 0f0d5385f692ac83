"""Re-consent: each trigger fires on its own, and nothing fires for a packet whose inputs are
unchanged. One real packet (the 15-year-old, rendered by LibreOffice) is checked against mutated
practices, clients and template sets."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from consentkit import InputError, PacketError, render_packet
from consentkit.lifecycle import load_manifest, reconsent_check, reconsent_scan
from consentkit.models import Address, Client, Practice, RuleOverride
from consentkit.rendering import load_template_set, templates_root

from .cli_support import CliResult, run_cli
from .conftest import DOC_DATE, EXAMPLES, NOW

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def packet(
    tmp_path_factory: pytest.TempPathFactory,
    practice: Practice,
    example_clients: dict[str, Client],
    converter: Any,
) -> Path:
    out = tmp_path_factory.mktemp("reconsent") / "C-1003"
    render_packet(
        practice,
        example_clients["minor"],
        out,
        on=DOC_DATE,
        now=NOW,
        packet_id="PKT-C-1003",
        converter=converter,
    )
    return out


@pytest.fixture(scope="module")
def manifest(packet: Path) -> dict[str, Any]:
    """The manifest as plain data (tests change it); reconsent_check reads plain data too."""
    return json.loads(load_manifest(packet).to_json())


@pytest.fixture
def minor(example_clients: dict[str, Client]) -> Client:
    return example_clients["minor"]


def steady(practice: Practice) -> Practice:
    """The practice with licenses valid for years and no renewal period, so only the change a test
    makes can fire."""
    clinicians = tuple(
        attrs.evolve(c, licenses=tuple(attrs.evolve(lic, expires=date(2040, 1, 1)) for lic in c.licenses))
        for c in practice.clinicians
    )
    return attrs.evolve(practice, clinicians=clinicians, consent_renewal_days=0)


def override(rule_id: str, value: dict[str, Any]) -> RuleOverride:
    return RuleOverride(
        rule_id=rule_id,
        value=value,
        reason="counsel's advice",
        approved_by="Dana Whitfield",
        approved_on=DOC_DATE,
    )


def test_nothing_fires_for_an_unchanged_packet(
    manifest: dict[str, Any], practice: Practice, minor: Client
) -> None:
    for on in (DOC_DATE, DOC_DATE + timedelta(days=30)):
        decision = reconsent_check(manifest, practice, minor, on=on)
        assert decision.reasons == (), decision.reasons
        assert not decision.required


def test_a_changed_template_fires_template_changed(
    tmp_path: Path, manifest: dict[str, Any], practice: Practice, minor: Client
) -> None:
    custom = tmp_path / "templates"
    shutil.copytree(templates_root() / "en-US", custom)
    docx = custom / "fees_policy.docx"
    with zipfile.ZipFile(docx, "a") as archive:
        archive.comment = b"x"  # the same document, one byte more
    decision = reconsent_check(manifest, practice, minor, on=DOC_DATE, templates=load_template_set(custom))
    assert decision.codes == ("template_changed",)
    assert [r.subject for r in decision.reasons] == ["fees_policy"]


def test_a_rule_override_that_changes_a_clause_fires_rule_changed(
    manifest: dict[str, Any], practice: Practice, minor: Client
) -> None:
    longer = {"adult_years": 10, "minor_years_past_majority": 10, "from": "termination"}
    changed = attrs.evolve(practice, rule_overrides=(override("US-MS.record_retention", longer),))
    decision = reconsent_check(manifest, changed, minor, on=DOC_DATE)
    assert decision.codes == ("rule_changed",)
    assert [r.subject for r in decision.reasons] == ["retention"]
    assert "US-MS.record_retention" in decision.reasons[0].message


def test_an_override_that_leaves_the_packet_s_words_unchanged_needs_no_reconsent(
    manifest: dict[str, Any], practice: Practice, minor: Client
) -> None:
    """An overridden rule is the practice's policy: the recording clause stays the neutral sentence."""
    changed = attrs.evolve(practice, rule_overrides=(override("US-MS.recording", {"consent": "all_party"}),))
    assert reconsent_check(manifest, changed, minor, on=DOC_DATE).codes == ()


def test_a_new_state_fires_location_state_changed(
    manifest: dict[str, Any], practice: Practice, minor: Client
) -> None:
    moved = attrs.evolve(
        minor,
        session_address=Address(line1="1 Court Square", city="Montgomery", state="AL", postal_code="36104"),
    )
    decision = reconsent_check(manifest, practice, moved, on=DOC_DATE)
    # The clinician holds a counseling compact privilege in AL, so only the move itself fires; the
    # clauses that differ under Alabama's rules are named in its message.
    assert decision.codes == ("location_state_changed",)
    assert "Alabama" in decision.reasons[0].message
    assert "age of majority" in decision.reasons[0].message


def test_turning_eighteen_fires_came_of_age(
    manifest: dict[str, Any], practice: Practice, minor: Client
) -> None:
    # Born 2011-05-20; Mississippi's age of majority is 18.
    assert reconsent_check(manifest, steady(practice), minor, on=date(2029, 5, 19)).reasons == ()
    decision = reconsent_check(manifest, steady(practice), minor, on=date(2029, 5, 20))
    assert decision.codes == ("came_of_age",)


def test_reaching_the_self_consent_age_fires(
    manifest: dict[str, Any], practice: Practice, minor: Client
) -> None:
    # A practice override gives Mississippi a self-consent age of 16; the client was 15 when signing.
    # (An overridden rule is worded as the practice's policy, not as Mississippi law, so the minor
    # consent clause reads differently too: rule_changed comes with it.)
    rule = override("US-MS.minor_consent", {"age_of_majority": 18, "self_consent_age": 16})
    changed = attrs.evolve(steady(practice), rule_overrides=(rule,))
    assert (
        "reached_self_consent_age"
        not in reconsent_check(manifest, changed, minor, on=date(2027, 5, 19)).codes
    )
    decision = reconsent_check(manifest, changed, minor, on=date(2027, 5, 20))
    assert "reached_self_consent_age" in decision.codes


def test_the_renewal_period_passing_fires_renewal_due(
    manifest: dict[str, Any], practice: Practice, minor: Client
) -> None:
    yearly = attrs.evolve(steady(practice), consent_renewal_days=365)
    assert reconsent_check(manifest, yearly, minor, on=DOC_DATE + timedelta(days=364)).reasons == ()
    decision = reconsent_check(manifest, yearly, minor, on=DOC_DATE + timedelta(days=365))
    assert decision.codes == ("renewal_due",)


def test_an_expired_license_fires_jurisdiction_with_the_reason(
    manifest: dict[str, Any], practice: Practice, minor: Client
) -> None:
    base = steady(practice)
    dana = base.clinician("dwhitfield")
    expiring = attrs.evolve(dana, licenses=(attrs.evolve(dana.licenses[0], expires=date(2027, 1, 31)),))
    changed = attrs.evolve(base, clinicians=(expiring, base.clinician("jreyes")))
    decision = reconsent_check(manifest, changed, minor, on=date(2027, 2, 1))
    assert decision.codes == ("jurisdiction",)
    assert "expired on 2027-01-31" in decision.reasons[0].message


def test_another_clinician_fires_clinician_changed(
    manifest: dict[str, Any], practice: Practice, minor: Client
) -> None:
    decision = reconsent_check(manifest, practice, attrs.evolve(minor, clinician_id="jreyes"), on=DOC_DATE)
    assert decision.codes == ("clinician_changed",)


def test_a_record_without_clause_texts_cannot_confirm_the_clauses(
    manifest: dict[str, Any], practice: Practice, minor: Client
) -> None:
    record = {k: v for k, v in manifest.items() if k != "clauses"}
    decision = reconsent_check(record, practice, minor, on=DOC_DATE)
    assert decision.codes == ("rule_changed",)


def test_a_packet_of_another_client_is_refused(
    manifest: dict[str, Any], practice: Practice, example_clients: dict[str, Client]
) -> None:
    with pytest.raises(InputError):
        reconsent_check(manifest, practice, example_clients["adult"], on=DOC_DATE)
    with pytest.raises(PacketError):
        reconsent_check(
            {**manifest, "document_date": "soon"}, practice, example_clients["minor"], on=DOC_DATE
        )


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_a_caseload_scan_checks_the_latest_packet_of_each_client(
    tmp_path: Path, manifest: dict[str, Any], practice: Practice, example_clients: dict[str, Client]
) -> None:
    caseload = tmp_path / "packets"
    _write_manifest(caseload / "C-1003-old", {**manifest, "document_date": "2025-11-01"})
    _write_manifest(caseload / "C-1003", manifest)
    _write_manifest(caseload / "C-9999", {**manifest, "client_id": "C-9999"})
    (caseload / "broken").mkdir()
    (caseload / "broken" / "manifest.json").write_text("{")
    clients = {c.id: c for c in (example_clients["minor"], example_clients["adult"])}
    results = {
        (r.folder.name if r.folder else r.client_id): r.status
        for r in reconsent_scan(caseload, practice, clients, DOC_DATE)
    }
    assert results == {
        "C-1003": "current",
        "C-1003-old": "superseded",
        "C-9999": "error",
        "broken": "error",
        "C-1001": "no_packet",
    }


def _cli(*args: str) -> CliResult:
    return run_cli("reconsent-check", "--practice", str(EXAMPLES / "practice.toml"), *args)


def test_cli_exit_status_says_whether_anyone_must_re_consent(packet: Path, tmp_path: Path) -> None:
    client = str(EXAMPLES / "clients" / "minor.toml")
    current = _cli("--client", client, str(packet), "--date", DOC_DATE.isoformat())
    assert current.returncode == 0, current.stderr
    assert "no re-consent needed" in current.stdout
    later = _cli("--client", client, str(packet), "--date", "2028-01-15", "--json")
    assert later.returncode == 1, later.stderr
    codes = {r["code"] for r in json.loads(later.stdout)["reasons"]}
    assert {"renewal_due", "jurisdiction"} <= codes
    caseload = tmp_path / "caseload"
    shutil.copytree(packet, caseload / "C-1003")
    scan = _cli(
        "--clients", str(EXAMPLES / "clients.csv"), "--packets", str(caseload), "--date", DOC_DATE.isoformat()
    )
    assert scan.returncode == 1  # the other clients of the CSV have no packet here
    assert "C-1003: client C-1003: no re-consent needed" in scan.stdout
    unusable = _cli("--client", client, str(tmp_path / "nowhere"))
    assert unusable.returncode == 2
    assert "no manifest.json" in unusable.stderr
