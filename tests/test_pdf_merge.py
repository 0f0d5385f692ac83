"""The packet merge keeps every document's pages, resources and bookmarks, on real LibreOffice PDFs.

The merge opens documents without pikepdf's push-down of inherited page attributes (for speed)
and copies pages and outlines with ``copy_foreign``; these tests show what that must preserve:
each page's own fonts and size even when they are inherited in its source document, and each
bookmark's exact target in the right document.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from docx import Document

from consentkit.convert import LibreOfficeConverter
from consentkit.errors import PacketError
from consentkit.pdf import check_archival, pdffonts_all_embedded
from consentkit.pdf.merge import merge_documents, page_count

from .pdf_support import page_texts

pytestmark = pytest.mark.libreoffice

#: (document name, [(heading, paragraph), ...]); a page break after each section.
DOCUMENTS = {
    "alpha": [("Alpha one", "Text of alpha one"), ("Alpha two", "Text of alpha two")],
    "beta": [("Beta one", "Text of beta one"), ("Beta two", "Text of beta two"), ("Beta three", "Beta end")],
    "gamma": [("Gamma one", "Text of gamma one")],
}


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory, converter: LibreOfficeConverter) -> list[Path]:
    folder = tmp_path_factory.mktemp("assemble")
    docs = []
    for name, sections in DOCUMENTS.items():
        document = Document()
        for number, (heading, text) in enumerate(sections):
            if number:
                document.add_page_break()
            document.add_heading(heading, level=1)
            document.add_paragraph(text)
        path = folder / f"{name}.docx"
        document.save(str(path))
        docs.append(path)
    return converter.convert(docs, folder / "pdf")


def outline(path: Path) -> list[tuple[str, int, str]]:
    """(title, 0-based page, destination kind) of every top-level bookmark, in order."""
    with pikepdf.open(path) as pdf:
        pages = {page.objgen: number for number, page in enumerate(pdf.pages)}
        entries = []
        item = pdf.Root.Outlines.get("/First")
        while item is not None:
            destination = item.Dest
            entries.append((str(item.Title), pages[destination[0].objgen], str(destination[1])))
            item = item.get("/Next")
        return entries


def test_pages_text_and_archival_claims_survive_the_merge(pdfs: list[Path], tmp_path: Path) -> None:
    packet, counts = merge_documents(pdfs, title="Packet", subject="Practice")
    path = tmp_path / "packet.pdf"
    path.write_bytes(packet)
    assert counts == [page_count(p) for p in pdfs] == [2, 3, 1]
    texts = page_texts(path)
    assert len(texts) == 6
    expected = [text for sections in DOCUMENTS.values() for _heading, text in sections]
    for page, text in zip(texts, expected, strict=True):
        assert text in page
    assert check_archival(path) == []
    assert pdffonts_all_embedded(path) == []
    with pikepdf.open(path) as pdf:
        assert pdf.open_metadata().pdfa_status == "3B"
        assert str(pdf.open_metadata()["dc:title"]) == "Packet"


def test_every_bookmark_keeps_its_exact_target_in_its_own_document(pdfs: list[Path], tmp_path: Path) -> None:
    path = tmp_path / "packet.pdf"
    path.write_bytes(merge_documents(pdfs, title="Packet")[0])
    texts = page_texts(path)
    entries = outline(path)
    headings = [heading for sections in DOCUMENTS.values() for heading, _text in sections]
    assert [title for title, _page, _kind in entries] == headings
    for title, page, kind in entries:
        assert title in texts[page], title
        assert kind == "/XYZ"  # LibreOffice's position on the page, not just the page
    # The source documents' own bookmarks point where the packet's copies point, page for page.
    offset = 0
    for pdf in pdfs:
        for title, page, _kind in outline(pdf):
            assert (title, page + offset) in [(t, p) for t, p, _k in entries]
        offset += page_count(pdf)


def test_pages_that_inherit_their_resources_keep_them(pdfs: list[Path], tmp_path: Path) -> None:
    # The same document, but its pages inherit fonts and size from the page tree, as PDF allows;
    # appended to another document's page tree they would otherwise pick up that tree's fonts.
    inheriting = tmp_path / "beta-inheriting.pdf"
    with pikepdf.open(pdfs[1]) as pdf:
        tree = pdf.Root.Pages
        for page in pdf.pages:
            tree.Resources = page.obj.Resources
            tree.MediaBox = page.obj.MediaBox
            del page.obj["/Resources"]
            del page.obj["/MediaBox"]
        pdf.save(inheriting)
    with pikepdf.open(inheriting, inherit_page_attributes=False) as pdf:
        assert all("/Resources" not in page.obj for page in pdf.pages)
    path = tmp_path / "packet.pdf"
    path.write_bytes(merge_documents([pdfs[0], inheriting], title="Packet")[0])
    texts = page_texts(path)
    assert "Text of beta one" in texts[2] and "Beta end" in texts[4]
    with pikepdf.open(path, inherit_page_attributes=False) as pdf:
        appended = list(pdf.pages)[2:]
        assert all("/Resources" in page.obj and "/MediaBox" in page.obj for page in appended)
    assert pdffonts_all_embedded(path) == []


def test_a_bookmark_without_a_page_target_goes_to_its_documents_first_page(
    pdfs: list[Path], tmp_path: Path
) -> None:
    named = tmp_path / "gamma-named.pdf"
    with pikepdf.open(pdfs[2]) as pdf:
        pdf.Root.Outlines.First.Dest = pikepdf.String("somewhere-else")
        pdf.save(named)
    path = tmp_path / "packet.pdf"
    path.write_bytes(merge_documents([pdfs[0], named], title="Packet")[0])
    assert outline(path)[-1] == ("Gamma one", 2, "/Fit")


def test_an_unreadable_document_is_a_packet_error(pdfs: list[Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.6\nnot really\n")
    with pytest.raises(PacketError, match="cannot merge"):
        merge_documents([pdfs[0], broken], title="Packet")
