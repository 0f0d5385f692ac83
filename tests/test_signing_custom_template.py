"""A practice's own template whose signature places sit inside table cells: the signatures land in
their cells."""

# ruff: noqa: F811 (pytest fixtures are imported, then requested by name)
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pdfplumber
import pytest
from docx import Document
from docx.shared import Pt

from consentkit import render_packet
from consentkit.models import Client, Practice
from consentkit.pdf.archival import check_archival
from consentkit.rendering import load_template_set
from consentkit.signing import finalize_packet, verify_packet

from .conftest import DOC_DATE, NOW, ROOT
from .signing_fixtures import FINALIZED_AT, Pki, example_signature_data, pki  # noqa: F401 (fixtures)

pytestmark = pytest.mark.libreoffice


def custom_set(folder: Path) -> Path:
    """A template set with one DOCX whose signature places are in the cells of a bordered table."""
    folder.mkdir()
    doc = Document()
    doc.add_heading("Agreement for Counseling by Video", level=1)
    doc.add_paragraph("I, {{ client.legal_name }}, agree to counseling by video with {{ practice.name }}.")
    doc.add_paragraph("Please sign in the table below.")
    table = doc.add_table(rows=2, cols=2)
    table.style = "Table Grid"
    for column, (label, role) in enumerate([("Client", "client"), ("Clinician", "clinician")]):
        table.cell(0, column).text = label
        cell = table.cell(1, column)
        cell.paragraphs[0].text = ""
        for _ in range(3):
            cell.add_paragraph("").paragraph_format.space_after = Pt(6)
        anchor = cell.add_paragraph(f'{{{{r signature_place("{role}") }}}}')
        anchor.paragraph_format.space_after = Pt(0)
        cell.add_paragraph("Signature")
    doc.add_paragraph("Thank you.")
    doc.core_properties.title = "Agreement for Counseling by Video"
    doc.save(str(folder / "video_agreement.docx"))
    (folder / "templates.toml").write_text(
        'locale = "en-US"\n\n[[templates]]\nid = "video_agreement"\n'
        'title = "Agreement for Counseling by Video"\nfile = "video_agreement.docx"\norder = 1\n'
        'signers = ["client", "clinician"]\n',
        encoding="utf-8",
    )
    shutil.copy(ROOT / "templates" / "en-US" / "clauses.toml", folder / "clauses.toml")
    return folder


def test_signatures_land_inside_their_table_cells(
    practice: Practice, example_clients: dict[str, Client], converter: object, pki: Pki, tmp_path: Path
) -> None:
    templates = load_template_set(custom_set(tmp_path / "custom"))
    rendered = render_packet(
        practice,
        example_clients["adult"],
        tmp_path / "C-1001",
        template_set=templates,
        on=DOC_DATE,
        now=NOW,
        packet_id="PKT-C-1001",
        converter=converter,  # type: ignore[arg-type]
    )
    assert rendered.manifest.documents[0].signature_places == ("client", "clinician")
    data = example_signature_data("C-1001", rendered.out_dir)
    signatures = tmp_path / "signatures.json"
    signatures.write_text(json.dumps(data), encoding="utf-8")
    result = finalize_packet(
        rendered.out_dir, signatures, tmp_path / "archive.pdf", seal=pki.seal, now=FINALIZED_AT
    )
    assert check_archival(result.path, part=3) == []
    assert verify_packet(result.path, trust=pki.ca_pem).intact

    names = {s["role"]: s["full_name"] for s in data["signers"]}
    with (
        pdfplumber.open(rendered.out_dir / "packet.pdf") as reviewed,
        pdfplumber.open(result.path) as archive,
    ):
        page, signed = reviewed.pages[0], archive.pages[0]
        cells = [cell for table in page.find_tables() for cell in table.cells]
        assert len(cells) == 4
        recorded = {a.key: a for d in rendered.manifest.documents for a in d.signature_anchors or ()}
        for role, name in names.items():
            place = recorded[role]
            anchor = {
                "x0": place.x,
                "top": page.height - place.y - 2,
                "bottom": page.height - place.y,
            }
            (cell,) = [c for c in cells if c[0] <= anchor["x0"] <= c[2] and c[1] <= anchor["top"] <= c[3]]
            caption = rf"Electronically signed by {re.escape(name)}, 2026-11-27 \d\d:\d\d UTC"
            stamped = signed.search(caption)
            assert stamped, role
            for word in stamped:
                # Inside the anchor's cell, in the area above the anchor.
                assert cell[0] <= word["x0"] and word["x1"] <= cell[2] + 1, (role, word, cell)
                assert cell[1] <= word["top"] and word["bottom"] <= anchor["bottom"] + 0.5, (role, word, cell)
            signature = signed.search(name, regex=False)
            assert any(
                cell[1] <= w["top"] < anchor["top"] and cell[0] <= w["x0"] <= cell[2] for w in signature
            )
