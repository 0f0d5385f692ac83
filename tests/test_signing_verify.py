"""verify: a finalized packet is intact until anything in it changes; the CLI's exit codes."""

# ruff: noqa: F811 (pytest fixtures are imported, then requested by name)
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfWriter
from pypdf.annotations import FreeText

from consentkit.errors import VerificationError
from consentkit.signing import finalize_packet, verify_packet

from .conftest import EXAMPLES
from .signing_fixtures import FINALIZED_AT, Finalized, Pki, example_signatures, pki, sealed_examples  # noqa: F401 (fixtures)

pytestmark = pytest.mark.libreoffice


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consentkit.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def sealed(sealed_examples: dict[str, Finalized], tmp_path: Path) -> Path:
    """A private copy of a sealed archive to tamper with."""
    target = tmp_path / "archive.pdf"
    target.write_bytes(sealed_examples["C-1002"].archive.read_bytes())
    return target


@pytest.fixture(scope="module")
def unsealed(rendered_examples: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = rendered_examples["adult"]
    out = tmp_path_factory.mktemp("unsealed") / "archive.pdf"
    finalize_packet(folder, example_signatures("C-1001", folder), out, now=FINALIZED_AT)
    return out.read_bytes()


def failed(path: Path, pki: Pki, check: str) -> str:
    report = verify_packet(path, trust=pki.ca_pem)
    assert not report.intact
    details = [c.detail for c in report.checks if c.name == check and c.ok is False]
    assert details, report.problems
    return details[0]


def test_the_untouched_archive_is_intact(sealed: Path, pki: Pki) -> None:
    report = verify_packet(sealed, trust=pki.ca_pem)
    assert report.intact and report.sealed and report.trusted
    assert [c.name for c in report.checks] == [
        "structure",
        "archival",
        "audit record",
        "reviewed packet",
        "page content",
        "seal",
    ]
    assert report.packet_id == "PKT-C-1002"


def _signature_container(data: bytes) -> tuple[int, int]:
    """Where the seal's hex-encoded signature container lies in the file (start, end)."""
    matches = list(re.finditer(rb"<([0-9a-fA-F]{2000,})>", data))
    assert len(matches) == 1
    return matches[0].start(1), matches[0].end(1)


@pytest.mark.parametrize("where", ["start", "quarter", "middle", "three quarters", "end"])
def test_changing_any_single_byte_breaks_it(sealed: Path, pki: Pki, where: str) -> None:
    data = bytearray(sealed.read_bytes())
    offset = {
        "start": 12,
        "quarter": len(data) // 4,
        "middle": len(data) // 2,
        "three quarters": 3 * len(data) // 4,
        "end": len(data) - 30,
    }[where]
    data[offset] ^= 0x01
    sealed.write_bytes(bytes(data))
    assert not verify_packet(sealed, trust=pki.ca_pem).intact


@pytest.mark.parametrize("position", [0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.999])
def test_changing_a_byte_of_the_seal_itself_breaks_it(sealed: Path, pki: Pki, position: float) -> None:
    """The signature container lies outside what the seal signs, so verify checks it on its own:
    certificates it carries but does not need, its encoding and its zero padding included."""
    data = bytearray(sealed.read_bytes())
    start, end = _signature_container(bytes(data))
    offset = start + int((end - start) * position)
    data[offset] = ord("0") if data[offset] != ord("0") else ord("7")
    sealed.write_bytes(bytes(data))
    assert not verify_packet(sealed, trust=pki.ca_pem).intact


def test_an_incremental_update_breaks_it(sealed: Path, pki: Pki) -> None:
    writer = PdfWriter(str(sealed), incremental=True)
    writer.add_annotation(0, FreeText(text="added later", rect=(50, 50, 200, 100)))
    buffer = io.BytesIO()
    writer.write(buffer)
    before = sealed.stat().st_size
    sealed.write_bytes(buffer.getvalue())
    assert sealed.stat().st_size > before  # appended, not rewritten
    assert "data was appended after the seal" in failed(sealed, pki, "seal")


def test_swapping_the_embedded_audit_record_breaks_it(sealed: Path, pki: Pki) -> None:
    # An incremental update that replaces audit.json with an edited copy.
    writer = PdfWriter(str(sealed), incremental=True)
    names = writer.root_object["/Names"]["/EmbeddedFiles"]["/Names"]
    spec = names[names.index("audit.json") + 1].get_object()
    stream = spec["/EF"]["/F"].get_object()
    record = json.loads(stream.get_data())
    record["signers"][0]["ip_address"] = "198.51.100.99"
    stream.set_data(json.dumps(record).encode())
    buffer = io.BytesIO()
    writer.write(buffer)
    sealed.write_bytes(buffer.getvalue())
    assert "data was appended after the seal" in failed(sealed, pki, "seal")


def test_rewriting_the_file_with_another_audit_record_breaks_it(sealed: Path, pki: Pki) -> None:
    with pikepdf.open(sealed) as pdf:
        record = json.loads(pdf.attachments["audit.json"].get_file().read_bytes())
        record["signers"][0]["full_name"] = "Somebody Else"
        pdf.attachments["audit.json"] = pikepdf.AttachedFileSpec(
            pdf,
            json.dumps(record).encode(),
            filename="audit.json",
            mime_type="application/json",
            relationship=pikepdf.Name.Data,
            mod_date="D:20261127200000Z",
        )
        pdf.save(sealed.with_name("rewritten.pdf"))
    assert "the sealed bytes were changed" in failed(sealed.with_name("rewritten.pdf"), pki, "seal")


def test_an_untrusted_seal_fails_only_when_trust_is_asked_for(sealed: Path, pki: Pki) -> None:
    report = verify_packet(sealed)
    assert report.intact and report.trusted is None
    assert "signer not checked" in next(c.detail for c in report.checks if c.name == "seal")
    report = verify_packet(sealed, trust=pki.other_ca_pem)
    assert not report.intact and report.trusted is False
    assert "does not chain to the given trust roots" in " ".join(report.problems)


# --- unsealed archives: the hashes still catch changes to what was signed ---------------------------


def _rewrite(data: bytes, target: Path, edit: object) -> Path:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        edit(pdf)  # type: ignore[operator]
        pdf.save(target)
    return target


def test_unsealed_a_changed_page_is_found(unsealed: bytes, tmp_path: Path) -> None:
    def edit(pdf: pikepdf.Pdf) -> None:
        stream = pdf.pages[2].obj.Contents[1]
        stream.write(stream.read_bytes().replace(b"Tj", b"Tj ", 1))

    report = verify_packet(_rewrite(unsealed, tmp_path / "a.pdf", edit))
    assert not report.intact
    assert "page(s) 3 differ from what was reviewed" in " ".join(report.problems)


def test_unsealed_a_swapped_audit_record_is_found(unsealed: bytes, tmp_path: Path) -> None:
    def edit(pdf: pikepdf.Pdf) -> None:
        record = json.loads(pdf.attachments["audit.json"].get_file().read_bytes())
        record["documents"][1]["page_fingerprints"][0] = "0" * 64
        pdf.attachments["audit.json"] = pikepdf.AttachedFileSpec(
            pdf,
            json.dumps(record).encode(),
            filename="audit.json",
            mime_type="application/json",
            relationship=pikepdf.Name.Data,
            mod_date="D:20261127200000Z",
        )

    report = verify_packet(_rewrite(unsealed, tmp_path / "a.pdf", edit))
    assert not report.intact
    assert any(c.name in {"reviewed packet", "page content"} and c.ok is False for c in report.checks)


def test_unsealed_a_swapped_reviewed_packet_is_found(unsealed: bytes, tmp_path: Path) -> None:
    def edit(pdf: pikepdf.Pdf) -> None:
        reviewed = pdf.attachments["reviewed-packet.pdf"].get_file().read_bytes()
        pdf.attachments["reviewed-packet.pdf"] = pikepdf.AttachedFileSpec(
            pdf,
            reviewed + b"\n",
            filename="reviewed-packet.pdf",
            mime_type="application/pdf",
            relationship=pikepdf.Name.Source,
            mod_date="D:20261127200000Z",
        )

    report = verify_packet(_rewrite(unsealed, tmp_path / "a.pdf", edit))
    assert "does not match the SHA-256 in audit.json" in " ".join(report.problems)


def test_a_pdf_without_an_audit_record_is_not_intact(rendered_examples: dict[str, Path]) -> None:
    report = verify_packet(rendered_examples["adult"] / "packet.pdf")
    assert not report.intact
    assert "no audit.json attached" in " ".join(report.problems)


# --- unusable input --------------------------------------------------------------------------------


def test_unusable_input_raises(tmp_path: Path, sealed: Path) -> None:
    with pytest.raises(VerificationError, match="cannot read"):
        verify_packet(tmp_path / "missing.pdf")
    (tmp_path / "notes.pdf").write_text("hello")
    with pytest.raises(VerificationError, match="is not a PDF"):
        verify_packet(tmp_path / "notes.pdf")
    (tmp_path / "ca.pem").write_text("not a certificate")
    with pytest.raises(VerificationError, match=r"trust file ca\.pem"):
        verify_packet(sealed, trust=tmp_path / "ca.pem")


# --- the command line ------------------------------------------------------------------------------


def test_cli_verify_exit_codes(sealed: Path, pki: Pki, tmp_path: Path) -> None:
    good = run("verify", str(sealed), "--trust", str(pki.ca_pem))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("archive.pdf: INTACT (packet PKT-C-1002)")
    assert "Traceback" not in good.stderr and good.stderr == ""
    as_json = run("verify", str(sealed), "--json")
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout)["intact"] is True
    data = bytearray(sealed.read_bytes())
    data[len(data) // 2] ^= 0x01
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(bytes(data))
    bad = run("verify", str(broken), "--trust", str(pki.ca_pem))
    assert bad.returncode == 1 and "NOT INTACT" in bad.stdout
    assert "Traceback" not in bad.stderr
    missing = run("verify", str(tmp_path / "missing.pdf"))
    assert missing.returncode == 2 and "cannot read missing.pdf" in missing.stderr


def test_cli_finalize_seals_with_a_password_file_and_refuses_to_overwrite(
    rendered_examples: dict[str, Path], pki: Pki, tmp_path: Path
) -> None:
    # The command finalizes at the real time, so the scenario's times move to the last hours.
    folder = shutil.copytree(rendered_examples["adult"], tmp_path / "C-1001")
    manifest = json.loads((folder / "manifest.json").read_text())
    now = datetime.now(UTC).replace(microsecond=0)
    manifest["generated_at"] = (now - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    data = json.loads((EXAMPLES / "signatures" / "C-1001.json").read_text())
    data["review_pdf_sha256"] = manifest["packet"]["sha256"]
    for minutes, signer in enumerate(data["signers"], start=1):
        signer["esign_consent_at"] = (now - timedelta(minutes=60)).isoformat().replace("+00:00", "Z")
        signer["signed_at"] = (now - timedelta(minutes=60 - minutes)).isoformat().replace("+00:00", "Z")
    data["events"] = []
    signatures = tmp_path / "signatures.json"
    signatures.write_text(json.dumps(data))
    password = tmp_path / "password.txt"
    password.write_bytes((pki.seal.password or b"") + b"\n")
    out = tmp_path / "archive.pdf"
    args = [
        "finalize",
        str(folder),
        "--signatures",
        str(signatures),
        "--out",
        str(out),
        "--seal",
        str(pki.seal.pkcs12),
        "--seal-password-file",
        str(password),
    ]
    done = run(*args)
    assert done.returncode == 0, done.stderr
    pages = manifest["packet"]["pages"]
    assert "sealed by" in done.stdout and f"audit certificate on pages {pages + 1}-" in done.stdout
    assert verify_packet(out, trust=pki.ca_pem).intact
    again = run(*args)
    assert again.returncode == 1
    assert again.stderr.strip() == "consentkit: error: archive.pdf already exists; refusing to overwrite it"
