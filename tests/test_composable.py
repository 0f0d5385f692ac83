"""Which packets can be composed into one DOCX for one LibreOffice conversion (issue 16 part 2).

The check decides the fallback to separate conversion: documents of another page size,
orientation or margins, several sections, or page fields of their own outside the footer that
composition replaces, are converted separately.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from consentkit.rendering._composable import composable_reason, page_geometry

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("en-US", "es-US")


def _stock(language: str) -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in sorted((TEMPLATES / language).glob("*.docx"))]


def _edit(docx: bytes, part: str, old: str, new: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == part:
                text = data.decode("utf-8")
                assert old in text, f"{old!r} not in {part}"
                data = text.replace(old, new, 1).encode("utf-8")
            target.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_stock_packet_is_composable(language: str) -> None:
    documents = _stock(language)
    assert len(documents) == 5
    assert composable_reason(documents) is None


def test_stock_geometry_is_one_letter_section() -> None:
    geometry, sections = page_geometry(
        zipfile.ZipFile(TEMPLATES / "en-US" / "fees_policy.docx").read("word/document.xml")
    )
    assert sections == 1
    assert geometry is not None
    assert (geometry.width, geometry.height) == (12240, 15840)


def test_a_landscape_document_falls_back_naming_it() -> None:
    documents = _stock("en-US")
    name, docx = documents[2]
    landscape = _edit(
        docx,
        "word/document.xml",
        '<w:pgSz w:w="12240" w:h="15840"/>',
        '<w:pgSz w:w="15840" w:h="12240" w:orient="landscape"/>',
    )
    documents[2] = (name, landscape)
    assert composable_reason(documents) == f"{name}: orientation differs from {documents[0][0]}"


def test_other_margins_fall_back() -> None:
    documents = _stock("es-US")
    name, docx = documents[1]
    documents[1] = (name, _edit(docx, "word/document.xml", 'w:left="1440"', 'w:left="720"'))
    assert composable_reason(documents) == f"{name}: page size or margins differs from {documents[0][0]}"


def test_sectionpages_in_a_footer_falls_back() -> None:
    documents = _stock("en-US")
    name, docx = documents[0]
    documents[0] = (name, _edit(docx, "word/footer1.xml", 'instr=" NUMPAGES "', 'instr=" SECTIONPAGES "'))
    assert composable_reason(documents) == f"{name}: own page field SECTIONPAGES in word/footer1.xml"


def test_a_page_field_in_the_body_falls_back() -> None:
    documents = _stock("en-US")
    name, docx = documents[3]
    body_field = '<w:p><w:fldSimple w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple></w:p><w:sectPr>'
    documents[3] = (name, _edit(docx, "word/document.xml", "<w:sectPr>", body_field))
    assert composable_reason(documents) == f"{name}: own page field PAGE in word/document.xml"


def test_a_second_section_falls_back() -> None:
    documents = _stock("en-US")
    name, docx = documents[4]
    extra = '<w:p><w:pPr><w:sectPr><w:pgSz w:w="12240" w:h="15840"/></w:sectPr></w:pPr></w:p><w:sectPr>'
    documents[4] = (name, _edit(docx, "word/document.xml", "<w:sectPr>", extra))
    assert composable_reason(documents) == f"{name}: 2 sections; only one-section documents are composed"


def test_an_unreadable_document_falls_back_without_its_bytes() -> None:
    reason = composable_reason([("broken.docx", b"PK\x03\x04 not a zip, client Jane Roe")])
    assert reason == "broken.docx: not a readable DOCX"


def _add(docx: bytes, part: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr(part, data)
    return out.getvalue()


def test_documents_with_other_styles_fall_back() -> None:
    # English reference copies after Spanish documents: the styles name another language.
    documents = [*_stock("es-US")[:2], _stock("en-US")[0]]
    reason = composable_reason(documents)
    assert reason is not None and "styles, numbering or settings differ" in reason


def test_a_document_with_an_image_falls_back() -> None:
    documents = _stock("en-US")
    name, docx = documents[1]
    image_rel = (
        '<Relationship Id="rIdImage1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/image" Target="media/logo.png"/></Relationships>'
    )
    documents[1] = (name, _edit(docx, "word/_rels/document.xml.rels", "</Relationships>", image_rel))
    reason = composable_reason(documents)
    assert reason is not None and reason.startswith(name) and "image" in reason


def test_a_footer_with_parts_of_its_own_falls_back() -> None:
    documents = _stock("en-US")
    name, docx = documents[3]
    documents[3] = (name, _add(docx, "word/_rels/footer1.xml.rels", b"<Relationships/>"))
    reason = composable_reason(documents)
    assert reason is not None and reason.startswith(name) and "header or footer" in reason


def test_numbered_lists_fall_back_on_every_document() -> None:
    documents = [
        (name, _edit(docx, "word/numbering.xml", 'w:numFmt w:val="bullet"', 'w:numFmt w:val="decimal"'))
        for name, docx in _stock("en-US")
    ]
    reason = composable_reason(documents)
    assert reason is not None and "numbered lists" in reason
