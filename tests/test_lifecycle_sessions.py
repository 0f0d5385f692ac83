"""Session location checks: what is flagged, the append-only log, and its PDF/A rendering."""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from consentkit import InputError
from consentkit.lifecycle import (
    SessionCheck,
    append_session,
    check_session,
    read_session_log,
    render_session_log_pdf,
)
from consentkit.models import Address, Client, Practice
from consentkit.pdf.archival import check_archival

from .cli_support import CliResult, run_cli
from .conftest import EXAMPLES
from .pdf_support import pdf_text

SESSION = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
AUSTIN = Address(line1="500 Congress Avenue", city="Austin", state="TX", postal_code="78701")


def reported(client: Client, address: Address, *, confirmed: bool = True, **changes: Any) -> SessionCheck:
    check = SessionCheck(
        session_time=SESSION,
        client_id=client.id,
        clinician_id=client.clinician_id or "dwhitfield",
        reported_address=address,
        emergency_contact_confirmed=confirmed,
    )
    return attrs.evolve(check, **changes)


@pytest.fixture
def adult(example_clients: dict[str, Client]) -> Client:
    return example_clients["adult"]


def test_the_plan_on_file_needs_nothing(practice: Practice, adult: Client) -> None:
    same = attrs.evolve(adult.session_address, line1=" 418  magnolia street. ")
    result = check_session(practice, adult, reported(adult, same))
    assert result.findings == ()
    assert result.allowed
    assert result.authorization is not None and "LPC-2841" in result.authorization


def test_a_session_from_a_state_without_license_is_not_allowed_with_the_reason(
    practice: Practice, adult: Client
) -> None:
    result = check_session(practice, adult, reported(adult, AUSTIN))
    assert not result.allowed
    assert result.codes == ("not_allowed", "state_changed", "address_changed")
    reason = result.findings[0].message
    assert "no license or compact privilege" in reason and "Texas" in reason
    assert "22 Tex. Admin. Code" in reason  # the state rule's citation


def test_another_state_where_the_clinician_holds_a_privilege_is_allowed_but_flagged(
    practice: Practice, adult: Client
) -> None:
    montgomery = Address(line1="1 Court Square", city="Montgomery", state="AL", postal_code="36104")
    result = check_session(practice, adult, reported(adult, montgomery))
    assert result.allowed
    assert result.codes == ("state_changed", "address_changed")
    assert result.authorization is not None and "compact privilege (AL)" in result.authorization


def test_another_address_asks_for_the_emergency_plan_to_be_updated(practice: Practice, adult: Client) -> None:
    office = Address(line1="1 Hardy Street", city="Hattiesburg", state="MS", postal_code="39401")
    result = check_session(practice, adult, reported(adult, office))
    assert result.codes == ("address_changed",)
    assert "emergency plan" in result.findings[0].message


def test_an_unconfirmed_emergency_contact_is_flagged(practice: Practice, adult: Client) -> None:
    result = check_session(practice, adult, reported(adult, adult.session_address, confirmed=False))
    assert result.codes == ("emergency_contact_unconfirmed",)


def test_a_check_of_another_client_or_clinician_is_refused(practice: Practice, adult: Client) -> None:
    with pytest.raises(InputError):
        check_session(practice, adult, reported(adult, AUSTIN, client_id="C-0000"))
    with pytest.raises(InputError):
        check_session(practice, adult, reported(adult, AUSTIN, clinician_id="nobody"))


def test_the_log_is_private_and_reads_back_what_was_appended(
    tmp_path: Path, practice: Practice, adult: Client
) -> None:
    log = tmp_path / "logs" / "C-1001.jsonl"
    first = check_session(practice, adult, reported(adult, adult.session_address))
    second = check_session(practice, adult, reported(adult, AUSTIN, notes="visiting family"))
    assert append_session(log, first).line == 1
    assert append_session(log, second).line == 2
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    entries = read_session_log(log)
    assert [e.check for e in entries] == [first.check, second.check]
    assert entries[1].findings == second.findings
    assert all(json.loads(line)["schema"] == "consentkit.session/1" for line in log.read_text().splitlines())


def test_a_corrupt_line_is_reported_with_its_line_number(
    tmp_path: Path, practice: Practice, adult: Client
) -> None:
    log = tmp_path / "C-1001.jsonl"
    for address in (adult.session_address, AUSTIN, adult.session_address):
        append_session(log, reported(adult, address))
    lines = log.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace('"state":"TX"', '"state":"ZZ"', 1)
    log.write_text("".join(lines))
    with pytest.raises(InputError) as caught:
        read_session_log(log)
    assert caught.value.row == 2
    assert caught.value.field == "reported_address.state"
    assert "C-1001.jsonl row 2" in str(caught.value)
    lines[1] = "{not json\n"
    log.write_text("".join(lines))
    with pytest.raises(InputError) as caught:
        append_session(log, reported(adult, AUSTIN))  # a damaged log is never extended
    assert caught.value.row == 2
    log.write_text("".join(lines[:1]) + lines[2][:40])
    with pytest.raises(InputError, match="incomplete") as caught:
        read_session_log(log)
    assert caught.value.row == 2


def test_a_log_of_another_client_is_not_extended(
    tmp_path: Path, practice: Practice, adult: Client, example_clients: dict[str, Client]
) -> None:
    log = tmp_path / "log.jsonl"
    append_session(log, reported(adult, adult.session_address))
    other = example_clients["couple"]
    with pytest.raises(InputError, match="another client"):
        append_session(log, reported(other, other.session_address))


@pytest.mark.libreoffice
def test_the_session_log_pdf_is_archival_and_shows_the_addresses(
    tmp_path: Path, practice: Practice, adult: Client, converter: Any
) -> None:
    log = tmp_path / "C-1001.jsonl"
    append_session(log, check_session(practice, adult, reported(adult, adult.session_address)))
    append_session(log, check_session(practice, adult, reported(adult, AUSTIN, confirmed=False)))
    out = render_session_log_pdf(
        log, tmp_path / "C-1001-sessions.pdf", practice=practice, client=adult, converter=converter
    )
    assert check_archival(out) == []
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = re.sub(r"\s+", " ", pdf_text(out))
    assert "418 Magnolia Street" in text
    assert "500 Congress Avenue" in text and "Austin, TX 78701" in text
    assert "NOT ALLOWED" in text


@pytest.mark.libreoffice
def test_the_session_log_of_a_spanish_speaking_client_is_in_spanish(
    tmp_path: Path, practice: Practice, adult: Client, converter: Any
) -> None:
    """The report's words come from the word catalogue in the client's language (issue 17), its
    times from babel in that language; a check that found no local emergency resources is named
    too (it had no words before and stopped the report)."""
    from consentkit.models import LocalResources

    client = attrs.evolve(adult, preferred_language="es-US", local_resources=LocalResources())
    log = tmp_path / "C-1001.jsonl"
    append_session(log, check_session(practice, client, reported(client, client.session_address)))
    append_session(log, check_session(practice, client, reported(client, AUSTIN, confirmed=False)))
    out = render_session_log_pdf(
        log, tmp_path / "C-1001-sesiones.pdf", practice=practice, client=client, converter=converter
    )
    assert check_archival(out) == []
    text = re.sub(r"\s+", " ", pdf_text(out))
    for expected in [
        "Registro de ubicación en las sesiones",
        "Plan registrado: 418 Magnolia Street",
        "Ubicación indicada",
        "NO PERMITIDO",
        "otro estado",
        "NO confirmado",
        "faltan recursos locales de emergencia",
        "3 de diciembre de 2026",
        "consentkit no constituye asesoría legal",
    ]:
        assert expected in text, expected
    for english in (
        "Session location log",
        "Reported location",
        "NOT ALLOWED",
        "December",
        "not legal advice",
    ):
        assert english not in text, english
    english = render_session_log_pdf(
        log,
        tmp_path / "C-1001-sessions.pdf",
        practice=practice,
        client=client,
        converter=converter,
        language="en-US",
    )
    assert "local emergency resources missing" in re.sub(r"\s+", " ", pdf_text(english))


def _cli(*args: str) -> CliResult:
    return run_cli("session", *args)


def test_cli_session_check_logs_and_exits_1_when_not_allowed(tmp_path: Path) -> None:
    log = tmp_path / "C-1001.jsonl"
    common = [
        "check",
        "--practice",
        str(EXAMPLES / "practice.toml"),
        "--client",
        str(EXAMPLES / "clients" / "adult.toml"),
    ]
    home = ["--address-line1", "418 Magnolia Street", "--address-line2", "Apt 2B", "--city", "Hattiesburg"]
    allowed = _cli(*common, *home, "--state", "MS", "--zip", "39401", "--emergency-contact-confirmed",
                   "--time", "2026-12-03T09:00", "--log", str(log))  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    assert "nothing to do" in allowed.stdout
    refused = _cli(*common, "--address-line1", "500 Congress Avenue", "--city", "Austin", "--state", "TX",
                   "--zip", "78701", "--log", str(log), "--json")  # fmt: skip
    assert refused.returncode == 1, refused.stderr
    assert json.loads(refused.stdout)["allowed"] is False
    entries = read_session_log(log)
    assert [e.check.reported_state for e in entries] == ["MS", "TX"]
    assert entries[0].check.session_time == datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 09:00 in Chicago
    bad_zip = _cli(*common, "--address-line1", "1 Main", "--city", "Austin", "--state", "TX", "--zip", "7870")
    assert bad_zip.returncode == 2
    assert "postal_code" in bad_zip.stderr
