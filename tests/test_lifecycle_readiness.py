"""Practice readiness: platform, BAA, malpractice cover, licenses and state training per clinician
and state."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path

import attrs
import pytest

from consentkit import InputError
from consentkit.lifecycle import check_practice
from consentkit.models import Practice

from .cli_support import CliResult, run_cli
from .conftest import DOC_DATE, EXAMPLES


def with_license_expiry(practice: Practice, clinician_id: str, expires: date) -> Practice:
    clinicians = tuple(
        attrs.evolve(c, licenses=tuple(attrs.evolve(lic, expires=expires) for lic in c.licenses))
        if c.id == clinician_id
        else c
        for c in practice.clinicians
    )
    return attrs.evolve(practice, clinicians=clinicians)


def test_the_example_practice_is_ready_with_warnings(practice: Practice) -> None:
    report = check_practice(practice, DOC_DATE)
    assert report.ready, report.errors
    assert report.clinician_states == {"dwhitfield": ("AL", "MS"), "jreyes": ("MS",)}
    assert {f.code for f in report.warnings} == {"training_required", "rules_unverified"}


def test_a_missing_baa_is_an_error(practice: Practice) -> None:
    no_baa = attrs.evolve(practice, platform=attrs.evolve(practice.platform, baa_in_place=False))
    report = check_practice(no_baa, DOC_DATE)
    assert not report.ready
    assert [f.code for f in report.errors] == ["no_baa"]


def test_a_platform_that_is_not_hipaa_compliant_and_no_malpractice_cover_are_errors(
    practice: Practice,
) -> None:
    bad = attrs.evolve(
        practice,
        platform=attrs.evolve(practice.platform, hipaa_compliant=False),
        malpractice_covers_telehealth=False,
    )
    assert [f.code for f in check_practice(bad, DOC_DATE).errors] == [
        "platform_not_hipaa_compliant",
        "malpractice_excludes_telehealth",
    ]


def test_an_expired_license_is_an_error_naming_the_clinician_and_state(practice: Practice) -> None:
    report = check_practice(with_license_expiry(practice, "jreyes", date(2026, 10, 31)), DOC_DATE)
    assert not report.ready
    [error] = report.errors
    assert (error.code, error.clinician_id, error.state) == ("license_expired", "jreyes", "MS")
    assert "expired on 2026-10-31" in error.message


def test_a_license_expiring_within_60_days_is_a_warning(practice: Practice) -> None:
    report = check_practice(with_license_expiry(practice, "jreyes", date(2027, 1, 15)), DOC_DATE)
    assert report.ready
    expiring = [f for f in report.warnings if f.code == "license_expiring"]
    assert [(f.clinician_id, f.state) for f in expiring] == [("jreyes", "MS")]


def test_state_training_comes_from_the_rule_data_and_can_be_attested(practice: Practice) -> None:
    report = check_practice(practice, DOC_DATE)
    training = [f for f in report.findings if f.code == "training_required" and f.clinician_id == "jreyes"]
    assert len(training) == 1
    assert "9 hours" in training[0].message
    assert training[0].citation == "30 Miss. Code R. 2201-7.5(3)"
    attested = check_practice(practice, DOC_DATE, training_hours={"jreyes": 9, "dwhitfield": 12})
    assert not [f for f in attested.findings if f.code.startswith("training")]
    short = check_practice(practice, DOC_DATE, training_hours={"jreyes": 6})
    assert [(f.code, f.clinician_id) for f in short.errors] == [("training_insufficient", "jreyes")]


def test_a_client_state_no_clinician_may_serve_is_an_error(practice: Practice) -> None:
    report = check_practice(practice, DOC_DATE, states=["tx", "AL"])
    assert [(f.code, f.state) for f in report.errors] == [("state_not_covered", "TX")]
    # A clinician without a privilege in a state another clinician covers is only a warning.
    assert ("not_authorized", "jreyes", "AL") in {(f.code, f.clinician_id, f.state) for f in report.warnings}


def test_bad_inputs_are_refused(practice: Practice) -> None:
    with pytest.raises(InputError):
        check_practice(practice, DOC_DATE, states=["XX"])
    with pytest.raises(InputError):
        check_practice(practice, DOC_DATE, training_hours={"nobody": 9})


def test_cli_exit_status_and_json(tmp_path: Path) -> None:
    data = tomllib.loads((EXAMPLES / "practice.toml").read_text())
    data["platform"]["baa_in_place"] = False
    broken = tmp_path / "practice.json"
    broken.write_text(json.dumps(data))

    def run(*args: str) -> CliResult:
        return run_cli("practice", "check", *args, "--date", "2026-11-27")

    ready = run(str(EXAMPLES / "practice.toml"), "--training-hours", "jreyes=9")
    assert ready.returncode == 0, ready.stderr
    assert "READY" in ready.stdout
    not_ready = run(str(broken), "--json", "--state", "AL,MS")
    assert not_ready.returncode == 1, not_ready.stderr
    report = json.loads(not_ready.stdout)
    assert report["ready"] is False
    assert "no_baa" in {f["code"] for f in report["findings"]}
    assert run(str(tmp_path / "missing.toml")).returncode == 2
