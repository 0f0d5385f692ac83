# ruff: noqa: F811 (pytest fixtures are imported, then requested by name)
"""Accessible packets (issue 18): the machine-checkable part of PDF/UA-1 on every PDF the library
makes (each document, the review packet, the sealed archive, the revocation packet) in both
languages, the structure tree of a joined packet, figures with alternative text, reading order.

The checker (:mod:`consentkit.pdf.accessibility`) is itself tested on PDFs made to fail it.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pikepdf
import pytest
from reportlab.pdfgen.canvas import Canvas

from consentkit.lifecycle import revoke_packet
from consentkit.pdf.accessibility import accessibility_problems, struct_elements
from consentkit.rendering._docx import ANCHOR_PREFIX

from .signing_fixtures import (  # noqa: F401 (fixtures)
    Finalized,
    Pki,
    pki,
    sealed_examples,
)

pytestmark = pytest.mark.libreoffice


def problems_of(path: Path | bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(path) if isinstance(path, bytes) else path) as pdf:
        return accessibility_problems(pdf)


# --- the checker can fail ----------------------------------------------------------------------


def _untagged() -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.drawString(72, 720, "Hello")
    canvas.line(72, 700, 300, 700)
    canvas.save()
    return out.getvalue()


def test_the_checker_finds_an_untagged_pdf() -> None:
    found = problems_of(_untagged())
    assert "no structure tree (/StructTreeRoot)" in found
    assert "no document language (/Lang)" in found
    assert any("content outside marked content or an artifact (Tj)" in p for p in found)
    assert any("content outside marked content or an artifact (S)" in p for p in found)
    assert any("is not embedded" in p for p in found)  # reportlab's default Helvetica


def test_the_checker_finds_a_figure_without_alternative_text(sealed_examples: dict[str, Finalized]) -> None:
    archive = sealed_examples["C-1002"].archive
    with pikepdf.open(archive) as pdf:
        figure = next(e for e in struct_elements(pdf) if str(e.get("/S")) == "/Figure")
        del figure["/Alt"]
        del pdf.Root.ViewerPreferences["/DisplayDocTitle"]
        found = accessibility_problems(pdf)
    assert "1 figure(s) without alternative text (/Alt)" in found
    assert any("DisplayDocTitle" in p for p in found)


# --- every PDF the library makes ---------------------------------------------------------------


def test_every_document_and_review_packet_passes(rendered_examples: dict[str, Path]) -> None:
    checked = 0
    for folder in rendered_examples.values():
        for pdf in sorted(folder.glob("*.pdf")):
            assert problems_of(pdf) == [], f"{folder.name}/{pdf.name}"
            checked += 1
    assert checked >= 4 * 6  # four clients (one Spanish), five documents and the packet each


def test_every_archive_passes_with_one_part_per_document_and_the_certificate(
    sealed_examples: dict[str, Finalized],
) -> None:
    for client_id, finalized in sealed_examples.items():
        assert problems_of(finalized.archive) == [], client_id
        documents = finalized.manifest["documents"]
        with pikepdf.open(finalized.archive) as pdf:
            document = pdf.Root.StructTreeRoot.K[0]
            parts = list(document.K)
            assert str(document.S) == "/Document"
            assert len(parts) == len(documents) + 1, client_id  # then the audit certificate
            locale = finalized.manifest["locale"]
            assert str(pdf.Root.Lang) == locale
            assert [str(p.Lang) for p in parts] == [d.get("locale") or locale for d in documents] + [locale]
            # Reading order: each part starts on its document's first page, the certificate last.
            pages = {page.objgen: number for number, page in enumerate(pdf.pages, start=1)}
            starts = [_first_page(part, pages) for part in parts]
            assert starts == [d["packet_pages"][0] for d in documents] + [finalized.audit["audit_pages"][0]]


def _first_page(part: pikepdf.Dictionary, pages: dict[tuple[int, int], int]) -> int:
    stack = [part]
    while stack:
        item = stack.pop(0)
        page = item.get("/Pg")
        if isinstance(page, pikepdf.Dictionary):
            return pages[page.objgen]
        kids = item.get("/K")
        stack += [
            k
            for k in (kids if isinstance(kids, pikepdf.Array) else [kids])
            if isinstance(k, pikepdf.Dictionary)
        ]
    raise AssertionError("a part reaches no page")


def test_signature_stamps_are_figures_with_alternative_text(sealed_examples: dict[str, Finalized]) -> None:
    for client_id in ("C-1002", "C-1004"):  # a couple in English, a client in Spanish
        finalized = sealed_examples[client_id]
        with pikepdf.open(finalized.archive) as pdf:
            alts = [str(e.Alt) for e in struct_elements(pdf) if str(e.S) == "/Figure" and "/Stm" in e.K]
        signers = finalized.audit["signers"]
        stamped = sum(len(s["documents"]) for s in signers)
        assert len(alts) == stamped, client_id
        for signer in signers:
            assert any(signer["full_name"] in alt for alt in alts)
        prefix = "Firma de " if finalized.manifest["locale"] == "es-US" else "Signature of "
        assert all(alt.startswith(prefix) for alt in alts), alts[:2]


def test_archive_title_is_shown_and_in_the_packet_language(sealed_examples: dict[str, Finalized]) -> None:
    for finalized in sealed_examples.values():
        with pikepdf.open(finalized.archive) as pdf:
            assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle)
            with pdf.open_metadata() as meta:
                title = meta["dc:title"]
        spanish = finalized.manifest["locale"] == "es-US"
        assert title.startswith("Paquete de consentimiento firmado" if spanish else "Signed consent packet")


def test_reading_order_text_has_the_documents_then_the_certificate_and_no_anchor(
    sealed_examples: dict[str, Finalized],
) -> None:
    finalized = sealed_examples["C-1001"]
    text = subprocess.run(
        ["pdftotext", "-layout", str(finalized.archive), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert ANCHOR_PREFIX not in text
    # Each document's title, in order, then the certificate's heading after all of them.
    position = 0
    for document in finalized.manifest["documents"]:
        found = text.find(document["title"], position)
        assert found >= 0, document["id"]
        position = found
    assert text.find("Audit certificate", position) > position
    with pikepdf.open(finalized.archive) as pdf:
        headings = [e for e in struct_elements(pdf) if str(e.S) in ("/H1", "/H2")]
        assert headings  # the certificate's headings are tagged
        attributes = [e.A for e in struct_elements(pdf) if str(e.S) == "/TH" and "/A" in e]
        scopes = {
            str(a.get("/Scope"))
            for value in attributes
            for a in (value if isinstance(value, pikepdf.Array) else [value])
            if isinstance(a, pikepdf.Dictionary) and "/Scope" in a
        }
        assert {"/Row", "/Column"} <= scopes  # the certificate's header cells


def test_the_revocation_packet_passes(sealed_examples: dict[str, Finalized], tmp_path: Path) -> None:
    from datetime import UTC, datetime

    for client_id in ("C-1001", "C-1004"):
        out = tmp_path / f"{client_id}-revoked.pdf"
        revoke_packet(
            sealed_examples[client_id].archive,
            reason="the client withdrew consent",
            by="front desk",
            out=out,
            now=datetime(2026, 11, 28, 12, tzinfo=UTC),
        )
        assert problems_of(out) == [], client_id


# --- templates ---------------------------------------------------------------------------------


def test_templates_check_warns_when_a_template_has_no_heading_style(tmp_path: Path) -> None:
    from docx import Document

    from consentkit.rendering import check_template, load_template_set

    plain = Document()
    plain.add_paragraph("Our telehealth policy")
    plain.add_paragraph('Signed: {{r signature_place("client") }}')
    plain.save(tmp_path / "plain.docx")
    report = check_template(tmp_path / "plain.docx")
    assert report.ok and any("no heading styles" in w for w in report.warnings)

    headed = Document()
    headed.add_heading("Our telehealth policy", level=1)
    headed.add_paragraph('Signed: {{r signature_place("client") }}')
    headed.save(tmp_path / "headed.docx")
    assert check_template(tmp_path / "headed.docx").warnings == ()
    for stock in sorted(load_template_set("en-US").root.glob("*.docx")):
        assert check_template(stock).warnings == (), stock.name


# --- marking untagged drawing as artifacts -----------------------------------------------------

LIBREOFFICE_LIKE = (
    b"/P<</MCID 0>>BDC BT /F1 12 Tf 72 700 Td <00410042>Tj ET\nEMC\n"
    b"q 0.5 w 0 J 72 72.55 m\n539.95 72.55 l S Q\n"
    b"/Artifact BMC q 1 0 0 RG 10 10 m 20 20 l S Q EMC\n"
    b"10 10 100 20 re W n\n"
    b"q 10 10 100 20 re f Q /Im1 Do\n"
    b"/Span<</MCID 1>>BDC BT <0043>Tj ET EMC"
)


def test_the_byte_path_marks_exactly_what_the_parser_marks() -> None:
    from consentkit.pdf.tagging import _wrap_bytes, _wrap_untagged

    with pikepdf.new() as pdf:
        stream = pdf.make_stream(LIBREOFFICE_LIKE)
        expected, changed = _wrap_untagged(list(pikepdf.parse_content_stream(stream)))
        fast = _wrap_bytes(LIBREOFFICE_LIKE)
        assert changed and fast is not None
        got = list(pikepdf.parse_content_stream(pdf.make_stream(fast)))

        def shown(ops: list[object]) -> list[str]:
            return [str(op) for _, op in ops]  # type: ignore[misc]

        assert shown(got) == shown(expected)
        assert shown(got).count("BMC") == 4  # the rule, the rectangle and the image; one was there
        # Literal strings may hold any word: the parser reads such streams.
        assert _wrap_bytes(b"BT (EMC S) Tj ET") is None
