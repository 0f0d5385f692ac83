"""The command line as scripts use it (issue 13): --json results on standard output, diagnostics
on standard error, ``-`` for standard input and output, -q/-v, every problem printed, a fast start.

Where pipes are the subject, a real process runs (``python -m consentkit.cli``); the archives
that go through them are checked with pikepdf and verify.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
import pytest

from consentkit.cli import main
from consentkit.cli._batch import packets_per_minute
from consentkit.cli._output import binary_stdout

from .cli_support import run_cli
from .conftest import EXAMPLES

PRACTICE = str(EXAMPLES / "practice.toml")
SIGNATURES = EXAMPLES / "signatures"


def consentkit(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "consentkit.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=600,
        check=False,
    )


# --- start-up ----------------------------------------------------------------------------------

HEAVY = ("fhir.resources", "pyhanko", "docxtpl", "reportlab", "pikepdf", "rich", "uno", "consentkit.packet")


@pytest.mark.parametrize("option", ["--version", "--help"])
def test_version_and_help_import_no_library_module(option: str) -> None:
    probe = (
        "import sys\n"
        "from consentkit.cli import main\n"
        "try:\n"
        f"    main([{option!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "loaded:", done.stdout


def test_help_lists_every_command() -> None:
    from consentkit.cli._commands import COMMANDS

    shown = run_cli("--help").stdout
    for name in COMMANDS:
        assert name in shown


def test_a_command_help_has_its_options() -> None:
    assert "--include-english" in run_cli("render", "--help").stdout


# --- every problem, JSON errors ----------------------------------------------------------------


def _bad_client() -> bytes:
    import tomllib

    with (EXAMPLES / "clients" / "adult.toml").open("rb") as f:
        data = tomllib.load(f)
    data["date_of_birth"] = "1988-13-40"
    data["phone"] = "12"
    data["email"] = "nope"
    data["session_address"]["postal_code"] = "ABCDE"
    return json.dumps(data).encode()


def test_every_problem_is_printed_and_in_json() -> None:
    done = consentkit(
        "render", "--practice", PRACTICE, "--client", "-", "--out", "/nonexistent/x", stdin=_bad_client()
    )
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "consentkit: error: 4 problems:" in err
    for field in ("date_of_birth", "phone", "email", "session_address.postal_code"):
        assert f"<stdin>, {field}: " in err
    assert "nope" not in err and "ABCDE" not in err
    assert done.stdout == b""

    as_json = consentkit(
        "render",
        "--practice",
        PRACTICE,
        "--client",
        "-",
        "--out",
        "/nonexistent/x",
        "--json",
        stdin=_bad_client(),
    )
    error = json.loads(as_json.stdout)["error"]
    assert error["type"] == "InputError" and error["exit_code"] == 1
    assert [p["field"] for p in error["problems"]] == [
        "date_of_birth",
        "phone",
        "email",
        "session_address.postal_code",
    ]


# --- render, finalize, verify, revoke through pipes --------------------------------------------


@pytest.mark.libreoffice
def test_a_scripted_flow_through_json_and_pipes(tmp_path: Path) -> None:
    # render: the client on standard input (TOML), the result as JSON, warnings on stderr only.
    client = (EXAMPLES / "clients" / "adult.toml").read_bytes()
    rendered = consentkit(
        "render",
        "--practice",
        PRACTICE,
        "--client",
        "-",
        "--out",
        str(tmp_path / "pkt"),
        "--date",
        "2026-11-27",
        "--json",
        "-v",
        stdin=client,
    )
    assert rendered.returncode == 0, rendered.stderr
    made = json.loads(rendered.stdout)
    assert made["client_id"] == "C-1001" and made["pages"] > 0 and len(made["documents"]) >= 4
    assert b"pages (en-US)" in rendered.stderr  # -v: a line per document, on standard error

    # The example signatures, with the review hash of this packet, on standard input.
    signatures = json.loads((SIGNATURES / "C-1001.json").read_text(encoding="utf-8"))
    signatures["packet_id"] = made["packet_id"]
    signatures["review_pdf_sha256"] = made["packet_sha256"]
    for signer in signatures["signers"]:
        signer["signed_at"] = signer["esign_consent_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    piped = json.dumps(signatures).encode()

    # finalize --out -: the archive's bytes on standard output, nothing else.
    archive = consentkit("finalize", made["packet_dir"], "--signatures", "-", "--out", "-", stdin=piped)
    assert archive.returncode == 0, archive.stderr
    assert archive.stdout.startswith(b"%PDF-")
    with pikepdf.open(io.BytesIO(archive.stdout)) as pdf:
        assert "audit.json" in pdf.attachments
    assert not (tmp_path / "-").exists() and not Path("-").exists()

    # verify - reads standard input; --json on standard output.
    verified = consentkit("verify", "-", "--json", stdin=archive.stdout)
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["intact"] is True

    # finalize --json to a file; --json and --out - together are refused (one standard output).
    out = tmp_path / "a.pdf"
    as_json = consentkit(
        "finalize", made["packet_dir"], "--signatures", "-", "--out", str(out), "--json", stdin=piped
    )
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["sha256"] and out.is_file()
    both = consentkit(
        "finalize", made["packet_dir"], "--signatures", "-", "--out", "-", "--json", stdin=piped
    )
    assert both.returncode == 2 and b"--json and --out -" in both.stderr

    # revoke: --json, and --out - for the revocation packet itself.
    revoked = run_cli(
        "revoke",
        str(out),
        "--reason",
        "client asked",
        "--by",
        "front desk",
        "--out",
        str(tmp_path / "r.pdf"),
        "--json",
    )
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["packet_id"] == made["packet_id"]
    streamed = consentkit("revoke", str(out), "--reason", "client asked", "--by", "front desk", "--out", "-")
    assert streamed.returncode == 0 and streamed.stdout.startswith(b"%PDF-")
    assert consentkit("verify", "-", stdin=streamed.stdout).returncode == 0


def test_binary_output_is_refused_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from consentkit.cli._errors import UsageError

    class Terminal(io.BytesIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(Terminal()))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    with pytest.raises(UsageError, match="terminal"):
        binary_stdout(argparse.Namespace(json=False), "archive")


# --- quiet and verbose -------------------------------------------------------------------------


def test_quiet_hides_the_rules_warnings_and_keeps_the_summary() -> None:
    loud = run_cli("rules", "check", "--today", "2026-12-05")
    quiet = run_cli("-q", "rules", "check", "--today", "2026-12-05")
    after = run_cli("rules", "check", "--today", "2026-12-05", "-q")
    assert "warning:" in loud.stdout
    assert "warning:" not in quiet.stdout and "rules check" in quiet.stdout
    assert after.stdout == quiet.stdout
    assert run_cli("-q", "-v", "rules", "check").returncode == 2  # one or the other


def test_rules_check_and_templates_check_give_json() -> None:
    rules = json.loads(run_cli("rules", "check", "--today", "2026-12-05", "--json").stdout)
    assert rules["ok"] is True and len(rules["jurisdictions"]) >= 51
    from consentkit.rendering import load_template_set

    stock = sorted(load_template_set("en-US").root.glob("*.docx"))[:1]
    assert stock
    checked = run_cli("templates", "check", *map(str, stock), "--json")
    report = json.loads(checked.stdout)
    assert checked.returncode == 0 and report["ok"] is True and report["templates"][0]["ok"] is True


# --- batch -------------------------------------------------------------------------------------


def test_the_batch_rate_counts_packets_made_over_wall_time() -> None:
    assert packets_per_minute(0, 5.0) is None  # nothing made yet: no rate shown
    assert packets_per_minute(4, 0.0) is None
    assert packets_per_minute(4, 60.0) == pytest.approx(4.0)
    assert packets_per_minute(30, 90.0) == pytest.approx(20.0)


def test_batch_refuses_standard_input_with_a_reason(tmp_path: Path) -> None:
    done = run_cli("batch", "--practice", PRACTICE, "--clients", "-", "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "save standard input to a file" in done.stderr


@pytest.mark.libreoffice
def test_batch_json_lists_every_row(tmp_path: Path) -> None:
    clients = tmp_path / "clients.csv"
    lines = (EXAMPLES / "clients.csv").read_text(encoding="utf-8").splitlines()
    clients.write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    done = run_cli(
        "batch", "--practice", PRACTICE, "--clients", str(clients), "--out", str(tmp_path / "o"), "--json"
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["made"] == 1 and summary["failed"] == 0
    assert [row["status"] for row in summary["rows"]] == ["ok"]
    assert summary["packets_per_minute"] is not None and summary["packets_per_minute"] < 1000
    assert "row 2" in done.stderr  # the per-row line is progress: standard error


# --- option names ------------------------------------------------------------------------------


def test_fhir_release_option_does_not_clash_with_version(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["fhir", str(tmp_path / "x.pdf"), "--version", "r4b"])
    assert caught.value.code == 2
    missing = run_cli("fhir", str(tmp_path / "x.pdf"), "--fhir-version", "r4b")
    assert missing.returncode == 2 and "x.pdf" in missing.stderr
