"""End to end with the real LibreOffice: every example client's packet is a readable, archival PDF
holding what the client must be told and asked. Checked with qpdf, poppler and pikepdf."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pdfplumber
import pikepdf
import pytest

from consentkit.models import Client, Practice
from consentkit.pdf.archival import check_archival

from .conftest import DOC_DATE, NOW
from .pdf_support import pdf_text

pytestmark = pytest.mark.libreoffice

CLIENTS = ["adult", "couple", "minor"]


def all_pdfs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pdf"))


@pytest.mark.parametrize("name", CLIENTS)
def test_every_pdf_is_archival(rendered_examples: dict[str, Path], name: str) -> None:
    pdfs = all_pdfs(rendered_examples[name])
    assert len(pdfs) == 6  # five documents and the merged packet
    for pdf in pdfs:
        assert check_archival(pdf, part=3) == [], pdf.name
        fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
        rows = fonts.splitlines()[2:]
        assert rows, f"{pdf.name} has no fonts"
        assert all(row.split()[-5] == "yes" for row in rows), fonts  # the 'emb' column
        subprocess.run(["qpdf", "--check", str(pdf)], check=True, capture_output=True)
        with pikepdf.open(pdf) as doc:
            meta = doc.open_metadata()
            assert meta.pdfa_status == "3B"
            intents = doc.Root.OutputIntents
            assert any(intent.S == "/GTS_PDFA1" for intent in intents)


@pytest.mark.parametrize("name", CLIENTS)
def test_packet_text_holds_what_the_client_must_be_told(
    rendered_examples: dict[str, Path], example_clients: dict[str, Client], practice: Practice, name: str
) -> None:
    client = example_clients[name]
    text = pdf_text(rendered_examples[name] / "packet.pdf", flat=True)
    address = client.session_address
    for expected in [
        address.line1,
        address.city,
        address.postal_code,
        client.emergency_contact.name,
        {"adult": "(601) 555-0177", "couple": "(228) 555-0150", "minor": "(662) 555-0134"}[name],
        {"computer": "computer", "tablet": "tablet", "phone": "smartphone"}[client.device.value],
        {"home_wifi": "home Wi-Fi", "cellular": "cellular data"}[client.connection.value],
        "(601) 555-0101",  # the phone fallback of the reconnect plan
        "$150.00",
        "$75.00",
        "$175.00",
        "911",
        "988",
        practice.platform.name,
        "PKT-" + client.id,
    ]:
        assert expected in text, f"{expected!r} missing from {name}'s packet"
    assert "{{" not in text and "{%" not in text


def test_signature_places_match_the_signers(rendered_examples: dict[str, Path]) -> None:
    expected = {
        "adult": {"client", "clinician"},
        "couple": {"client", "co_client-1", "clinician"},
        "minor": {"client", "guardian-1", "clinician"},
        "spanish": {"client", "clinician"},
    }
    for name, folder in rendered_examples.items():
        manifest = json.loads((folder / "manifest.json").read_text())
        places = {p for d in manifest["documents"] for p in d["signature_places"]}
        assert places == expected[name]
        # The anchors were read and removed: no PDF a person receives keeps their text, and the
        # manifest records each place once, on a page of its document, just above its signature line.
        for pdf in [folder / "packet.pdf", *(folder / d["pdf"] for d in manifest["documents"])]:
            assert "ck-sig" not in pdf_text(pdf, flat=True), pdf.name
        with pdfplumber.open(folder / "packet.pdf") as packet:
            for document in manifest["documents"]:
                first, last = document["packet_pages"]
                recorded = [a["key"] for a in document["signature_anchors"]]
                assert sorted(recorded) == sorted(document["signature_places"]), document["id"]
                for anchor in document["signature_anchors"]:
                    assert first <= anchor["page"] <= last, (document["id"], anchor)
                    page = packet.pages[anchor["page"] - 1]
                    top = page.height - anchor["y"]
                    assert any(
                        e["orientation"] == "h"
                        and top - 1 <= e["top"] <= top + 10
                        and e["x0"] - 3 <= anchor["x"]
                        for e in page.edges
                    ), (document["id"], anchor)


def test_manifest_hashes_match_the_files(rendered_examples: dict[str, Path]) -> None:
    import hashlib

    folder = rendered_examples["adult"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["packet_id"] == "PKT-C-1001"
    assert manifest["state"] == "MS" and manifest["locale"] == "en-US"
    for document in manifest["documents"]:
        for kind in ("docx", "pdf"):
            data = (folder / document[kind]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == document[f"{kind}_sha256"]
    packet = (folder / "packet.pdf").read_bytes()
    assert hashlib.sha256(packet).hexdigest() == manifest["packet"]["sha256"]
    assert sum(d["pages"] for d in manifest["documents"]) == manifest["packet"]["pages"]
    with pikepdf.open(folder / "packet.pdf") as doc:
        assert len(doc.pages) == manifest["packet"]["pages"]
    raw = json.dumps(manifest)
    assert "Maria" not in raw and "Magnolia Street" not in raw  # no client PHI in the manifest


def test_outputs_are_private_to_the_owner(rendered_examples: dict[str, Path]) -> None:
    folder = rendered_examples["adult"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert not list(folder.parent.glob(".*staging*"))


def test_minor_packet_shows_guardian_and_emergency_plan_is_one_page(
    rendered_examples: dict[str, Path],
) -> None:
    folder = rendered_examples["minor"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["minor"] is True
    plan = next(d for d in manifest["documents"] if d["id"] == "emergency_plan")
    assert plan["pages"] == 1
    assert "Rebecca Carter" in pdf_text(folder / "packet.pdf", flat=True)


def test_hostile_and_non_latin_names_reach_the_pdf_intact(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client], converter: object
) -> None:
    import attrs

    from consentkit import render_packet
    from consentkit.models import FieldValueError

    hostile_practice = attrs.evolve(practice, name="O'Brien & Sons <LLC>; DROP TABLE clients")
    name = "Zoë Ångström-Ωμέγα Дмитрий Nguyễn"
    client = attrs.evolve(example_clients["adult"], legal_name=name, preferred_name="Zoë \\ ' \" \t")
    with pytest.raises(FieldValueError, match="template delimiters"):
        attrs.evolve(client, preferred_name="{{ 7*7 }}")
    result = render_packet(
        hostile_practice,
        client,
        tmp_path / "hostile",
        on=DOC_DATE,
        now=NOW,
        converter=converter,
        template_ids=["fees_policy"],
    )  # type: ignore[arg-type]
    pdf = result.out_dir / "fees_policy.pdf"
    text = pdf_text(pdf, flat=True)
    assert name in text
    assert "O'Brien & Sons <LLC>; DROP TABLE clients" in text
    assert check_archival(pdf, part=3) == []
