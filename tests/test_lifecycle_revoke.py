"""Revocation: a new archival packet records the withdrawal, the original stays byte-identical,
verify reports the revocation and the FHIR Consents become inactive."""

# ruff: noqa: F811 (pytest fixtures are imported, then requested by name)
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pikepdf
import pytest

from consentkit.cli import _fhir_revoke, main
from consentkit.errors import InputError, OutputExistsError, PacketError
from consentkit.lifecycle import FHIR_NAME, RevocationResult, bundle_json, read_consent_bundle, revoke_packet
from consentkit.pdf.archival import check_archival
from consentkit.signing import verify_packet

from .lifecycle_fixtures import Archive, lifecycle_archives  # noqa: F401 (fixture)
from .pdf_support import pdf_text
from .signing_fixtures import FINALIZED_AT, Pki, pki  # noqa: F401 (fixture)

pytestmark = pytest.mark.libreoffice

REVOKED_AT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
REASON = "Guardian withdrew consent by phone"
BY = "Dana Whitfield, PhD, LPC"


@dataclass
class Revoked:
    original: Archive
    result: RevocationResult


@pytest.fixture(scope="module")
def revoked(
    lifecycle_archives: dict[str, Archive], pki: Pki, tmp_path_factory: pytest.TempPathFactory
) -> Revoked:
    """The minor's sealed archive, revoked with a seal."""
    original = lifecycle_archives["C-1003"]
    result = revoke_packet(
        original.path,
        reason=REASON,
        by=BY,
        out=tmp_path_factory.mktemp("revoked") / "C-1003-revoked.pdf",
        now=REVOKED_AT,
        seal=pki.seal,
    )
    return Revoked(original=original, result=result)


def attachments(path: Path) -> dict[str, tuple[bytes, str]]:
    with pikepdf.open(path) as pdf:
        return {
            name: (spec.get_file().read_bytes(), str(spec.obj["/AFRelationship"]))
            for name, spec in pdf.attachments.items()
        }


def test_the_original_stays_byte_identical(revoked: Revoked) -> None:
    original = revoked.original
    assert original.path.read_bytes() == original.data
    embedded, relationship = attachments(revoked.result.path)["original.pdf"]
    assert embedded == original.data
    assert relationship == "/Source"
    assert revoked.result.original_sha256 == hashlib.sha256(original.data).hexdigest()


def test_an_existing_output_is_never_replaced(lifecycle_archives: dict[str, Archive], tmp_path: Path) -> None:
    original = lifecycle_archives["C-1003"]
    out = tmp_path / "taken.pdf"
    out.write_bytes(b"someone else's file")
    with pytest.raises(OutputExistsError):
        revoke_packet(original.path, reason=REASON, by=BY, out=out, now=REVOKED_AT)
    assert out.read_bytes() == b"someone else's file"
    # Not even the original itself can be named as the output.
    with pytest.raises(OutputExistsError):
        revoke_packet(original.path, reason=REASON, by=BY, out=original.path, now=REVOKED_AT)
    assert original.path.read_bytes() == original.data


def test_the_revocation_packet_is_archival_with_its_record(revoked: Revoked) -> None:
    path = revoked.result.path
    assert check_archival(path) == []
    files = attachments(path)
    assert {name: rel for name, (_, rel) in files.items()} == {
        "revocation.json": "/Data",
        FHIR_NAME: "/Data",
        "original.pdf": "/Source",
    }
    record = json.loads(files["revocation.json"][0])
    assert record == revoked.result.record
    assert record["schema"] == "consentkit.revocation/1"
    assert record["packet_id"] == "PKT-C-1003"
    assert record["revoked_at"] == "2026-12-01T14:00:00Z"
    assert (record["revoked_by"], record["reason"]) == (BY, REASON)
    assert record["original"]["sha256"] == hashlib.sha256(revoked.original.data).hexdigest()
    text = pdf_text(path)
    for expected in ("Revocation of consent", "PKT-C-1003", REASON, record["original"]["sha256"]):
        assert expected in text


def test_verify_reports_the_revocation(
    revoked: Revoked, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    report = verify_packet(revoked.result.path, trust=pki.ca_pem)
    assert report.intact, report.problems
    assert report.packet_id == "PKT-C-1003"
    assert report.revocation == {
        "revoked_at": "2026-12-01T14:00:00Z",
        "revoked_by": BY,
        "reason": REASON,
        "original_sha256": revoked.result.original_sha256,
    }
    checks = {c.name: c for c in report.checks}
    assert checks["revocation"].ok
    assert checks["revocation"].detail == f"revoked on 2026-12-01 14:00:00 UTC: {REASON}"  # no name: PHI
    assert checks["original packet"].ok
    assert checks["seal"].ok
    assert "consent REVOKED" in report.summary()[0]
    # The CLI: an intact revocation packet exits 0, and --json carries the revocation.
    assert main(["verify", str(revoked.result.path), "--trust", str(pki.ca_pem), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["intact"] is True
    assert printed["revocation"]["reason"] == REASON


def test_the_fhir_consents_become_inactive(revoked: Revoked) -> None:
    before = json.loads(bundle_json(read_consent_bundle(revoked.original.path)))
    after = json.loads(bundle_json(read_consent_bundle(revoked.result.path)))
    assert after["timestamp"] == "2026-12-01T14:00:00Z"
    assert [e["resource"]["id"] for e in after["entry"]] == [e["resource"]["id"] for e in before["entry"]]
    for old, new in zip(before["entry"], after["entry"], strict=True):
        assert old["resource"]["status"] == "active"
        consent = new["resource"]
        assert consent["status"] == "inactive"
        assert consent["provision"]["period"] == {"start": consent["dateTime"], "end": "2026-12-01T14:00:00Z"}
        # Otherwise the same resource: an update of the one exported at finalize time.
        for key in ("status", "provision", "text"):
            consent.pop(key)
            old["resource"].pop(key, None)
        assert consent == old["resource"]


def test_an_unsealed_revocation_is_reproducible_and_a_changed_original_is_found(
    lifecycle_archives: dict[str, Archive], tmp_path: Path
) -> None:
    original = lifecycle_archives["C-1001"]  # unsealed, without embedded FHIR
    result = revoke_packet(original.path, reason=REASON, by=BY, out=tmp_path / "revoked.pdf", now=REVOKED_AT)
    report = verify_packet(result.path)
    assert report.intact, report.problems
    # The same inputs give the same file (unsealed: a seal carries its own signing time).
    again = revoke_packet(original.path, reason=REASON, by=BY, out=tmp_path / "again.pdf", now=REVOKED_AT)
    assert again.path.read_bytes() == result.path.read_bytes()
    entries = json.loads(bundle_json(read_consent_bundle(result.path)))["entry"]
    assert [e["resource"]["status"] for e in entries] == ["inactive"] * 5
    with pikepdf.open(result.path) as pdf:
        spec = pdf.attachments["original.pdf"]
        changed = spec.get_file().read_bytes().replace(b"PKT-C-1001", b"PKT-C-1009", 1)
        pdf.attachments["original.pdf"] = pikepdf.AttachedFileSpec(
            pdf,
            changed,
            filename="original.pdf",
            mime_type="application/pdf",
            relationship=pikepdf.Name.Source,
        )
        buffer = io.BytesIO()
        pdf.save(buffer)
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(buffer.getvalue())
    report = verify_packet(tampered)
    assert not report.intact
    assert any("does not match the SHA-256 in revocation.json" in p for p in report.problems)
    assert main(["verify", str(tampered)]) == 1


def test_bad_input_is_refused_before_anything_is_written(
    lifecycle_archives: dict[str, Archive], revoked: Revoked, tmp_path: Path
) -> None:
    path = lifecycle_archives["C-1003"].path
    out = tmp_path / "out.pdf"
    with pytest.raises(InputError, match="reason"):
        revoke_packet(path, reason="  ", by=BY, out=out, now=REVOKED_AT)
    with pytest.raises(InputError, match="by"):
        revoke_packet(path, reason=REASON, by="Dana\nWhitfield", out=out, now=REVOKED_AT)
    with pytest.raises(InputError, match="before the packet was finalized"):
        revoke_packet(path, reason=REASON, by=BY, out=out, now=FINALIZED_AT - timedelta(days=1))
    with pytest.raises(InputError, match="time zone"):
        revoke_packet(path, reason=REASON, by=BY, out=out, now=datetime(2026, 12, 1, 14, 0))
    with pytest.raises(PacketError, match="already a revocation packet"):
        revoke_packet(revoked.result.path, reason=REASON, by=BY, out=out, now=REVOKED_AT)
    with pytest.raises(PacketError, match="not a finalized consentkit packet"):
        revoke_packet(
            lifecycle_archives["C-1003"].folder / "packet.pdf", reason=REASON, by=BY, out=out, now=REVOKED_AT
        )
    assert not out.exists()


def test_cli_revoke(
    lifecycle_archives: dict[str, Archive],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_fhir_revoke, "_now", lambda: REVOKED_AT)  # the example scenario's clock
    original = lifecycle_archives["C-1002"]
    out = tmp_path / "C-1002-revoked.pdf"
    args = [
        "revoke",
        str(original.path),
        "--reason",
        "Couple ended therapy",
        "--by",
        "Jordan Reyes",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    assert "revocation of packet PKT-C-1002, not sealed" in capsys.readouterr().out
    assert original.path.read_bytes() == original.data
    assert verify_packet(out).intact
    assert main(args) == 1  # the output now exists
    assert "already exists" in capsys.readouterr().err
