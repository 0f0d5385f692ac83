"""finalize with the real pipeline: every example packet rendered by LibreOffice, signed, sealed, and
checked with qpdf, poppler, pdfplumber, pikepdf and pyHanko."""

# ruff: noqa: F811 (pytest fixtures are imported, then requested by name)
from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pdfplumber
import pikepdf
import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from consentkit.errors import InputError, OutputExistsError, PacketError, SigningError
from consentkit.pdf.archival import check_archival, pdffonts_all_embedded
from consentkit.rendering import load_template_set
from consentkit.signing import SealConfig, finalize_packet, verify_packet

from .pdf_support import pdf_text
from .signing_fixtures import (  # noqa: F401 (fixtures)
    FINALIZED_AT,
    Finalized,
    Pki,
    example_signature_data,
    example_signatures,
    pki,
    sealed_examples,
    tsa_url,
)

pytestmark = pytest.mark.libreoffice

CLIENT_IDS = ["C-1001", "C-1002", "C-1003", "C-1004"]


def anchors_in(packet: Path, manifest: dict[str, Any]) -> dict[tuple[int, str], dict[str, Any]]:
    """Every signature place the manifest records, as pdfplumber-style boxes on the reviewed packet.

    The anchor text itself is gone from the PDF (read and removed at rendering); test_render_e2e
    checks independently that each recorded place sits just above its signature line.
    """
    found = {}
    with pdfplumber.open(packet) as pdf:
        for document in manifest["documents"]:
            for anchor in document["signature_anchors"]:
                height = pdf.pages[anchor["page"] - 1].height
                found[(anchor["page"], anchor["key"])] = {"x0": anchor["x"], "bottom": height - anchor["y"]}
    return found


# --- the archive is archival, complete and sealed ---------------------------------------------------


@pytest.mark.parametrize("client_id", CLIENT_IDS)
def test_the_sealed_archive_passes_every_archival_check(
    sealed_examples: dict[str, Finalized], pki: Pki, client_id: str, tmp_path: Path
) -> None:
    archive = sealed_examples[client_id].archive
    subprocess.run(["qpdf", "--check", str(archive)], check=True, capture_output=True)
    # No signature anchor text in the archive, nor in the reviewed packet embedded in it.
    assert "ck-sig" not in pdf_text(archive)
    with pikepdf.open(archive) as pdf:
        reviewed = tmp_path / "reviewed.pdf"
        reviewed.write_bytes(pdf.attachments["reviewed-packet.pdf"].get_file().read_bytes())
    assert "ck-sig" not in pdf_text(reviewed)
    assert pdffonts_all_embedded(archive) == []
    assert check_archival(archive, part=3) == []
    with pikepdf.open(archive) as pdf:
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "3B"
        assert client_id in str(meta["dc:title"])
        assert str(meta["xmp:CreatorTool"]).startswith("consentkit")
        assert any(intent.S == "/GTS_PDFA1" for intent in pdf.Root.OutputIntents)
        assert "/JavaScript" not in pdf.Root.get("/Names", {})
        assert str(pdf.Root.get("/Version", "/1.7")) <= "/1.7"
        assert set(pdf.attachments) == {"audit.json", "reviewed-packet.pdf"}
        listed = {item.objgen for item in pdf.Root.AF}
        for name, relationship, mime in [
            ("audit.json", "/Data", "/application/json"),
            ("reviewed-packet.pdf", "/Source", "/application/pdf"),
        ]:
            spec = pdf.attachments[name].obj
            assert spec.objgen in listed
            assert str(spec.AFRelationship) == relationship
            assert str(spec.F) == str(spec.UF) == name
            stream = spec.EF.F
            assert str(stream.Subtype) == mime and "/ModDate" in stream.Params


@pytest.mark.parametrize("client_id", CLIENT_IDS)
def test_pyhanko_finds_the_seal_intact_valid_and_trusted(
    sealed_examples: dict[str, Finalized], pki: Pki, client_id: str
) -> None:
    data = sealed_examples[client_id].archive.read_bytes()
    ((_, _, der),) = pem.unarmor(pki.ca_pem.read_bytes(), multiple=True)
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)], allow_fetching=False)
    signatures = PdfFileReader(io.BytesIO(data)).embedded_signatures
    assert len(signatures) == 1
    status = validate_pdf_signature(signatures[0], context)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.docmdp_ok
    report = verify_packet(sealed_examples[client_id].archive, trust=pki.ca_pem)
    assert report.intact and report.sealed and report.trusted, report.problems


def test_finalize_and_seal_is_quick(sealed_examples: dict[str, Finalized]) -> None:
    slowest = max(item.seconds for item in sealed_examples.values())
    assert slowest < 20, f"finalize + seal took {slowest:.1f} s"


# --- stamping ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("client_id", CLIENT_IDS)
def test_every_signature_lands_at_its_place_in_every_stock_template(
    sealed_examples: dict[str, Finalized], client_id: str
) -> None:
    item = sealed_examples[client_id]
    anchors = anchors_in(item.folder / "packet.pdf", item.manifest)
    signers = {s["key"]: s for s in item.audit["signers"]}
    # The caption is in the packet's language ("Firmado electrónicamente por" for C-1004).
    signed_by = load_template_set(item.manifest["locale"]).text("stamp", "signed_by")
    expected_places = 0
    with pdfplumber.open(item.archive) as pdf:
        for document in item.manifest["documents"]:
            first, last = document["packet_pages"]
            for key in document["signature_places"]:
                expected_places += 1
                pages = [n for (n, k) in anchors if k == key and first <= n <= last]
                assert len(pages) == 1, (document["id"], key)
                number = pages[0]
                anchor = anchors[(number, key)]
                page = pdf.pages[number - 1]
                signer = signers[key]
                caption = page.search(f"{signed_by} {signer['full_name']}", regex=False)
                if signer["method"] == "drawn":
                    caption = page.search(signed_by, regex=False)
                    images = [
                        im
                        for im in page.images
                        if abs(im["x0"] - anchor["x0"]) < 2
                        and anchor["bottom"] - 50 < im["top"]
                        and im["bottom"] <= anchor["bottom"] + 0.5
                    ]
                    assert len(images) == 1, (document["id"], key)
                # The caption sits in the signature area: from the anchor up to 48 pt above it.
                near = [
                    c
                    for c in caption
                    if anchor["x0"] - 2 <= c["x0"] <= anchor["x0"] + 200
                    and anchor["bottom"] - 48 <= c["top"]
                    and c["bottom"] <= anchor["bottom"] + 0.5
                ]
                assert near, (document["id"], key, number)
    assert expected_places == sum(len(d["signature_places"]) for d in item.manifest["documents"])


@pytest.mark.parametrize("client_id", ["C-1001", "C-1002"])
def test_a_signature_appears_only_at_its_places(
    sealed_examples: dict[str, Finalized], client_id: str
) -> None:
    item = sealed_examples[client_id]
    count = int(item.manifest["packet"]["pages"])
    for signer in item.audit["signers"]:
        if signer["method"] != "typed":
            continue
        stamped = 0
        with pdfplumber.open(item.archive) as pdf:
            for page in pdf.pages[:count]:
                stamped += len(page.search(f"Electronically signed by {signer['full_name']},", regex=False))
        assert stamped == len(signer["documents"])


def test_every_page_has_the_footer(sealed_examples: dict[str, Finalized]) -> None:
    item = sealed_examples["C-1003"]
    with pdfplumber.open(item.archive) as pdf:
        total = len(pdf.pages)
        for number, page in enumerate(pdf.pages, start=1):
            bottom = page.crop((0, page.height - 45, page.width, page.height)).extract_text()
            assert (
                f"Packet PKT-C-1003 · Page {number} of {total} · Electronically signed · November 27, 2026"
                in bottom
            )


@pytest.mark.parametrize("client_id", ["C-1001", "C-1002"])
def test_the_reviewed_page_content_is_kept_byte_for_byte(
    sealed_examples: dict[str, Finalized], client_id: str
) -> None:
    item = sealed_examples[client_id]
    with pikepdf.open(item.folder / "packet.pdf") as reviewed, pikepdf.open(item.archive) as archive:
        for original, signed in zip(reviewed.pages, archive.pages, strict=False):
            before = original.obj.Contents
            before_streams = list(before) if isinstance(before, pikepdf.Array) else [before]
            after = list(signed.obj.Contents)
            assert [s.read_bytes() for s in after[1:-1]] == [s.read_bytes() for s in before_streams]
            assert after[0].read_bytes() == b"q\n"
            assert b"/ConsentKitOverlay Do" in after[-1].read_bytes()


# --- the audit record and certificate ---------------------------------------------------------------


def test_the_audit_record_holds_the_hashes_of_the_packet_folder(
    sealed_examples: dict[str, Finalized],
) -> None:
    item = sealed_examples["C-1002"]
    with pikepdf.open(item.archive) as pdf:
        record = json.loads(pdf.attachments["audit.json"].get_file().read_bytes())
        reviewed = pdf.attachments["reviewed-packet.pdf"].get_file().read_bytes()
    packet = (item.folder / "packet.pdf").read_bytes()
    assert reviewed == packet
    assert record["review_pdf"]["sha256"] == hashlib.sha256(packet).hexdigest()
    for entry, document in zip(record["documents"], item.manifest["documents"], strict=True):
        assert entry["pdf_sha256"] == hashlib.sha256((item.folder / document["pdf"]).read_bytes()).hexdigest()
        assert entry["template_sha256"] == document["template_sha256"]
        assert entry["archive_pages"] == document["packet_pages"]
        assert len(entry["page_fingerprints"]) == document["pages"]
    assert record["time_zone"] == "America/Chicago"
    client = next(s for s in record["signers"] if s["key"] == "client")
    assert client["method"] == "drawn" and client["image"]["width"] == 600
    assert client["signed_at"] == "2026-11-27T17:10:45Z"
    assert client["signed_at_local"] == "November 27, 2026, 11:10 AM CST"
    assert client["ip_address"] == "2001:db8:4a1:22::15"
    assert record["seal"]["level"] == "PAdES B-B"
    assert record["finalized_at"] == "2026-11-27T20:00:00Z"
    assert [e["at"] for e in record["events"]] == sorted(e["at"] for e in record["events"])
    assert record["note"] == "consentkit is not legal advice."


def test_the_audit_certificate_shows_documents_signers_and_history(
    sealed_examples: dict[str, Finalized],
) -> None:
    item = sealed_examples["C-1003"]
    _, last = item.audit["audit_pages"]
    with pikepdf.open(item.archive) as pdf:
        assert len(pdf.pages) == last
    text = " ".join(pdf_text(item.archive).split())
    data = example_signature_data("C-1003", item.folder)
    expected = [
        "Audit certificate",
        "Consent to Electronic Records and Signatures",
        "Template version SHA-256",
        item.manifest["packet"]["sha256"],
        item.manifest["documents"][0]["pdf_sha256"],
        "Guardian: Rebecca Carter",
        "Client: Ethan James Carter",
        "(assent)",
        "192.0.2.77",
        "1204 University Avenue, Oxford, MS 38655 (MS)",
        "photo ID shown to the clinician on video",
        "signing link sent to the guardian by email",
        "12:20 PM CST",
        "consentkit is not legal advice.",
        "PAdES certification signature",
    ]
    for signer in data["signers"]:
        expected.append(signer["user_agent"])
    for value in expected:
        assert value in text, value


# --- refusals: a clear error and no file ------------------------------------------------------------


def _no_output(out: Path) -> None:
    assert not out.exists()
    assert list(out.parent.iterdir()) == []


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["signers"] = [s for s in data["signers"] if s["role"] != key]

    return change


def _add_signer(role: str, index: int | None) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        extra = dict(data["signers"][0], role=role, full_name="Someone Else")
        extra.pop("index", None)
        extra.pop("image", None)
        extra["method"] = "typed"
        if index is not None:
            extra["index"] = index
        data["signers"].append(extra)

    return change


@pytest.mark.parametrize(
    ("name", "client_id", "change", "message"),
    [
        ("missing clinician", "C-1001", _drop("clinician"), "missing signature: clinician"),
        (
            "missing guardian",
            "C-1003",
            _drop("guardian"),
            "missing signature: guardian-1 (needed by informed_consent",
        ),
        ("missing co-client", "C-1002", _drop("co_client"), "missing signature: co_client-1"),
        (
            "guardian for an adult",
            "C-1001",
            _add_signer("guardian", 1),
            "this packet has no signer guardian-1",
        ),
        ("second co-client", "C-1002", _add_signer("co_client", 2), "this packet has no signer co_client-2"),
        (
            "another packet",
            "C-1001",
            lambda d: d.update(packet_id="PKT-9999"),
            "the signatures are for packet",
        ),
        (
            "another review pdf",
            "C-1001",
            lambda d: d.update(review_pdf_sha256="0" * 64),
            "the signers reviewed a different packet.pdf",
        ),
    ],
)
def test_wrong_signers_are_refused_and_nothing_is_written(
    rendered_examples: dict[str, Path],
    tmp_path: Path,
    name: str,
    client_id: str,
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    folder = next(f for f in rendered_examples.values() if f.name == client_id)
    out = tmp_path / "out" / "archive.pdf"
    out.parent.mkdir()
    with pytest.raises(SigningError, match=message.replace("(", r"\(")):
        finalize_packet(folder, example_signatures(client_id, folder, change), out, now=FINALIZED_AT)
    _no_output(out)


def test_a_review_pdf_changed_since_rendering_is_refused(
    rendered_examples: dict[str, Path], tmp_path: Path
) -> None:
    folder = shutil.copytree(rendered_examples["adult"], tmp_path / "C-1001")
    signatures = example_signatures("C-1001", folder)
    with (folder / "packet.pdf").open("ab") as handle:
        handle.write(b"\n% edited\n")
    out = tmp_path / "out" / "archive.pdf"
    out.parent.mkdir()
    with pytest.raises(SigningError, match=r"packet\.pdf has changed since it was rendered"):
        finalize_packet(folder, signatures, out, now=FINALIZED_AT)
    _no_output(out)


def test_a_bad_drawn_signature_is_refused(rendered_examples: dict[str, Path], tmp_path: Path) -> None:
    folder = rendered_examples["couple"]
    data = example_signature_data("C-1002", folder)
    (tmp_path / "C-1002-client.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really")
    path = tmp_path / "signatures.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out" / "archive.pdf"
    out.parent.mkdir()
    with pytest.raises(InputError, match=r"signatures\.json, signers\.1\.image: the PNG image is truncated"):
        finalize_packet(folder, path, out, now=FINALIZED_AT)
    _no_output(out)


def test_an_existing_archive_is_never_overwritten(rendered_examples: dict[str, Path], tmp_path: Path) -> None:
    folder = rendered_examples["adult"]
    out = tmp_path / "archive.pdf"
    out.write_bytes(b"an earlier archive")
    with pytest.raises(OutputExistsError, match=r"archive\.pdf already exists"):
        finalize_packet(folder, example_signatures("C-1001", folder), out, now=FINALIZED_AT)
    assert out.read_bytes() == b"an earlier archive"


@pytest.mark.parametrize(
    ("seal", "message"),
    [
        (
            lambda pki: SealConfig(pkcs12=pki.seal.pkcs12, password=b"wrong"),
            "not PKCS#12, or the password is wrong",
        ),
        (lambda pki: pki.ec_seal, "has a EC key; a PDF/A-3 archive needs an RSA seal key"),
        (lambda pki: SealConfig(pkcs12=pki.folder / "missing.p12"), "cannot read the seal certificate"),
    ],
)
def test_an_unusable_seal_is_refused(
    rendered_examples: dict[str, Path],
    pki: Pki,
    tmp_path: Path,
    seal: Callable[[Pki], SealConfig],
    message: str,
) -> None:
    folder = rendered_examples["adult"]
    out = tmp_path / "out" / "archive.pdf"
    out.parent.mkdir()
    with pytest.raises(SigningError, match=message):
        finalize_packet(folder, example_signatures("C-1001", folder), out, seal=seal(pki), now=FINALIZED_AT)
    _no_output(out)


def test_signatures_from_the_future_or_before_rendering_are_refused(
    rendered_examples: dict[str, Path], tmp_path: Path
) -> None:
    folder = rendered_examples["adult"]
    out = tmp_path / "archive.pdf"
    with pytest.raises(SigningError, match=r"signers\.1\.signed_at: lies in the future"):
        finalize_packet(folder, example_signatures("C-1001", folder), out, now=FINALIZED_AT.replace(hour=10))

    def early(data: dict[str, Any]) -> None:
        data["signers"][0].update(signed_at="2026-11-27T09:00:00Z", esign_consent_at="2026-11-27T08:59:00Z")

    with pytest.raises(SigningError, match="is before the packet was rendered"):
        finalize_packet(folder, example_signatures("C-1001", folder, early), out, now=FINALIZED_AT)
    assert not out.exists()


def test_a_folder_that_is_not_a_packet_is_refused(tmp_path: Path, rendered_examples: dict[str, Path]) -> None:
    with pytest.raises(PacketError, match=r"no manifest\.json"):
        finalize_packet(
            tmp_path, example_signatures("C-1001", rendered_examples["adult"]), tmp_path / "a.pdf"
        )


# --- unsealed and timestamped -----------------------------------------------------------------------


def test_an_unsealed_archive_verifies_as_intact_but_not_sealed(
    rendered_examples: dict[str, Path], tmp_path: Path, pki: Pki
) -> None:
    folder = rendered_examples["adult"]
    result = finalize_packet(
        folder, example_signatures("C-1001", folder), tmp_path / "a.pdf", now=FINALIZED_AT
    )
    assert not result.sealed
    assert check_archival(result.path, part=3) == []
    report = verify_packet(result.path)
    assert report.intact and not report.sealed
    seal = next(c for c in report.checks if c.name == "seal")
    assert seal.ok is None and "not sealed" in seal.detail
    # Asking for a trusted seal makes an unsealed archive fail.
    assert not verify_packet(result.path, trust=pki.ca_pem).intact


def test_a_timestamp_server_makes_the_seal_pades_b_t(
    rendered_examples: dict[str, Path], tmp_path: Path, pki: Pki, tsa_url: str
) -> None:
    folder = rendered_examples["minor"]
    result = finalize_packet(
        folder,
        example_signatures("C-1003", folder),
        tmp_path / "a.pdf",
        seal=pki.seal,
        timestamp_url=tsa_url,
        now=FINALIZED_AT,
    )
    assert result.audit.seal is not None and result.audit.seal.level == "PAdES B-T"
    assert check_archival(result.path, part=3) == []
    report = verify_packet(result.path, trust=pki.ca_pem)
    assert report.intact, report.problems
    assert report.seal is not None and report.seal.timestamp is not None and report.seal.timestamp_ok


def test_an_unreachable_timestamp_server_writes_nothing(
    rendered_examples: dict[str, Path], tmp_path: Path, pki: Pki
) -> None:
    folder = rendered_examples["minor"]
    out = tmp_path / "out" / "a.pdf"
    out.parent.mkdir()
    with pytest.raises(SigningError, match="timestamp server"):
        finalize_packet(
            folder,
            example_signatures("C-1003", folder),
            out,
            seal=pki.seal,
            timestamp_url="http://127.0.0.1:9/tsa",
            now=FINALIZED_AT,
        )
    _no_output(out)
