"""The command line: one-line errors and exit codes, never a traceback for an expected error."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .cli_support import CliResult, run_cli
from .conftest import EXAMPLES


def run(*args: str) -> CliResult:
    return run_cli(*args)


def write_toml_like(path: Path, data: dict[str, object]) -> Path:
    path.write_text(json.dumps(data, default=str))
    return path


@pytest.mark.libreoffice
def test_render_writes_a_packet_folder(tmp_path: Path) -> None:
    result = run(
        "render",
        "--practice",
        str(EXAMPLES / "practice.toml"),
        "--client",
        str(EXAMPLES / "clients" / "couple.toml"),
        "--out",
        str(tmp_path / "C-1002"),
        "--date",
        "2026-11-27",
    )
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "C-1002").iterdir())
    assert "packet.pdf" in names and "manifest.json" in names
    assert len([n for n in names if n.endswith(".docx")]) == 5


def test_bad_client_field_is_one_line_without_traceback(tmp_path: Path) -> None:
    data = tomllib.loads((EXAMPLES / "clients" / "adult.toml").read_text())
    data["emergency_contact"]["phone"] = "12"
    client = write_toml_like(tmp_path / "client.json", data)
    # A real process: what a user's shell sees (``python -m consentkit.cli``), traceback or not.
    command = ["render", "--practice", str(EXAMPLES / "practice.toml"), "--client", str(client)]
    result = subprocess.run(
        [sys.executable, "-m", "consentkit.cli", *command, "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "consentkit: error: client.json, emergency_contact.phone: not a valid phone number"
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_missing_file_and_usage_errors(tmp_path: Path) -> None:
    result = run("render", "--practice", str(tmp_path / "nope.toml"), "--client", "x.toml", "--out", "o")
    assert result.returncode == 1 and "nope.toml: cannot read file" in result.stderr
    assert "Traceback" not in result.stderr
    assert run("render").returncode == 2


def test_refuses_to_render_over_unrelated_files(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.docx").write_text("precious")
    result = run(
        "render",
        "--practice",
        str(EXAMPLES / "practice.toml"),
        "--client",
        str(EXAMPLES / "clients" / "adult.toml"),
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 1 and "not a consentkit packet folder" in result.stderr
    assert (tmp_path / "out" / "thesis.docx").read_text() == "precious"


def test_templates_check_passes_the_stock_templates() -> None:
    stock = sorted((EXAMPLES.parent / "templates" / "en-US").glob("*.docx"))
    assert len(stock) == 5
    result = run("templates", "check", *map(str, stock))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(re.findall(r": ok \(signature places: ", result.stdout)) == 5


def test_templates_check_fails_on_a_bad_template(tmp_path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.add_paragraph("Hello {{ client.shoe_size }}")
    doc.save(tmp_path / "mine.docx")
    result = run("templates", "check", str(tmp_path / "mine.docx"))
    assert result.returncode == 1
    assert "mine.docx: unknown variable shoe_size" in result.stdout
    (tmp_path / "junk.docx").write_bytes(b"junk")
    result = run("templates", "check", str(tmp_path / "junk.docx"))
    assert result.returncode == 1 and "not a DOCX" in result.stderr and "Traceback" not in result.stderr


def test_exit_codes_come_from_one_table_keyed_by_error_class() -> None:
    """The most specific listed class of an error decides its exit code; an error a command
    reports as unusable input exits 2 whatever its class, with the library error's message."""
    from consentkit.cli._errors import EXIT_CODES, UnusableInput, UsageError, exit_code, unusable_input
    from consentkit.errors import ConsentKitError, InputError, VerificationError

    assert exit_code(InputError("bad")) == 1
    assert exit_code(VerificationError("unreadable")) == 1
    assert exit_code(UsageError("--a needs --b")) == 2
    assert exit_code(KeyboardInterrupt()) == 130
    assert exit_code(BrokenPipeError()) == 141
    assert exit_code(RuntimeError("a bug")) is None
    assert set(EXIT_CODES) >= {ConsentKitError, UnusableInput}
    with pytest.raises(UnusableInput) as caught, unusable_input():
        raise InputError("cannot read file", source="practice.toml")
    assert exit_code(caught.value) == 2
    assert str(caught.value) == "practice.toml: cannot read file"
    assert isinstance(caught.value.cause, InputError)


def test_no_exception_carries_an_exit_code_attribute() -> None:
    """Exit codes are not patched onto exceptions any more (they come from the table)."""
    source = (EXAMPLES.parent / "src" / "consentkit" / "cli").glob("*.py")
    assert not [p.name for p in source if "exit_code =" in p.read_text() or ".exit_code" in p.read_text()]
