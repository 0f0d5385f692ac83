"""verify against a seal removed by an incremental update, and PHI in its output (issue 15)."""
# ruff: noqa: F811 (pytest fixtures are imported, then requested by name)

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfWriter

from consentkit.signing import verify_packet

from .cli_support import CliResult, run_cli
from .signing_fixtures import Finalized, Pki, pki, sealed_examples  # noqa: F401 (fixtures)

pytestmark = pytest.mark.libreoffice


def run(*args: str) -> CliResult:
    return run_cli(*args)


@pytest.fixture
def sealed(sealed_examples: dict[str, Finalized], tmp_path: Path) -> Path:
    target = tmp_path / "archive.pdf"
    target.write_bytes(sealed_examples["C-1002"].archive.read_bytes())
    return target


def _remove_the_seal(path: Path) -> None:
    """An incremental update dropping /AcroForm and /Perms and swapping in an audit.json that
    says the file was never sealed, with another IP address and signing time."""
    writer = PdfWriter(str(path), incremental=True)
    root = writer.root_object
    for key in ("/AcroForm", "/Perms"):
        if key in root:
            del root[key]
    names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    spec = names[names.index("audit.json") + 1].get_object()
    stream = spec["/EF"]["/F"].get_object()
    record = json.loads(stream.get_data())
    assert record["seal"] is not None
    record["seal"] = None
    record["signers"][0]["ip_address"] = "198.51.100.99"
    record["signers"][0]["signed_at"] = "2026-11-27T18:00:00Z"
    stream.set_data(json.dumps(record).encode())
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    # A tidy attacker: the appended trailer's /Size is set to what qpdf expects, so that
    # qpdf --check has nothing to say about the file's structure.
    path.with_suffix(".tmp").write_bytes(data)
    check = subprocess.run(
        ["qpdf", "--check", str(path.with_suffix(".tmp"))], capture_output=True, check=False
    )
    found = re.search(rb"highest object number \((\d+)\)", check.stdout + check.stderr)
    if found is not None:
        head, _, tail = data.rpartition(b"/Size ")
        digits = re.match(rb"\d+", tail)
        assert digits is not None
        data = head + b"/Size " + str(int(found.group(1)) + 1).encode() + tail[digits.end() :]
    before = path.stat().st_size
    path.write_bytes(data)
    assert path.stat().st_size > before  # appended: the sealed revision is still in the file


def test_a_seal_removed_by_an_incremental_update_is_found_without_trust(sealed: Path) -> None:
    _remove_the_seal(sealed)
    report = verify_packet(sealed)
    structure = next(c for c in report.checks if c.name == "structure")
    assert structure.ok is True, structure.detail  # the update itself is tidy
    assert not report.intact, report.summary()
    assert any("seal" in p and "removed" in p for p in report.problems), report.problems
    done = run("verify", str(sealed))
    assert done.returncode == 1 and "NOT INTACT" in done.stdout


def test_a_seal_removed_by_an_incremental_update_is_found_with_trust(sealed: Path, pki: Pki) -> None:
    _remove_the_seal(sealed)
    report = verify_packet(sealed, trust=pki.ca_pem)
    assert not report.intact
    assert any("removed" in p for p in report.problems), report.problems


def test_verify_prints_no_signer_names_unless_asked(
    sealed: Path, sealed_examples: dict[str, Finalized]
) -> None:
    names = [s["full_name"] for s in sealed_examples["C-1002"].audit["signers"]]
    assert names
    for args in (["verify", str(sealed)], ["verify", "--json", str(sealed)]):
        done = run(*args)
        assert done.returncode == 0, done.stdout + done.stderr
        assert not any(name in done.stdout for name in names), args
    shown = run("verify", "--show-names", str(sealed))
    assert all(name in shown.stdout for name in names)
    shown_json = json.loads(run("verify", "--json", "--show-names", str(sealed)).stdout)
    assert sorted(s["full_name"] for s in shown_json["signers"]) == sorted(names)
