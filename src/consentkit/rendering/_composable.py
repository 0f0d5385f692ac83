"""Decide whether a packet's documents can be joined into one DOCX for one LibreOffice conversion.

Composed conversion (issue 16, part 2) converts a packet's documents as one DOCX and cuts the PDF
back into documents, drawing "Page N of M" per document after conversion. That is only faithful
when every document lays out the same way on its own and joined: the same page size, orientation
and margins, one section each, and no page fields that would count the joined document's pages
instead of the document's own. A footer's ``PAGE``/``NUMPAGES`` is allowed because composition
replaces footers with the drawn per-document page numbers; the same fields in the body or a header,
or ``SECTIONPAGES`` anywhere, are the template's own page logic and send the packet to separate
conversion.

This module only reads the DOCX parts; it never sees client data beyond the XML it is given and
its reasons name documents and parts, never text.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence

import attrs
from lxml import etree

__all__ = ["PageGeometry", "composable_reason", "page_geometry"]

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS = {"w": _W}
_FOOTER = re.compile(r"^word/footer\d*\.xml$")
_OTHER_PARTS = re.compile(r"^word/(document|header\d*|footnotes|endnotes)\.xml$")
_FIELD_NAME = re.compile(r"^\s*([A-Za-z]+)")
_PAGE_FIELDS = frozenset({"PAGE", "NUMPAGES", "SECTIONPAGES", "PAGEREF"})
_FOOTER_ALLOWED = frozenset({"PAGE", "NUMPAGES"})


@attrs.frozen(kw_only=True)
class PageGeometry:
    """The page of a one-section document, in twentieths of a point (as DOCX stores it)."""

    width: int
    """Page width; larger than ``height`` for landscape."""
    height: int
    """Page height."""
    margins: tuple[int, int, int, int]
    """Top, right, bottom and left margins."""


def _int(element: etree._Element | None, name: str) -> int:
    if element is None:
        return 0
    value = element.get(f"{{{_W}}}{name}")
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return -1


def page_geometry(document_xml: bytes) -> tuple[PageGeometry | None, int]:
    """Return the body's page geometry and how many sections the document has.

    Args:
        document_xml: the bytes of ``word/document.xml``.

    Returns:
        The geometry of the last (body) section, or None when it has none, and the section count.
    """
    root = etree.fromstring(document_xml, parser=etree.XMLParser(resolve_entities=False))
    sections = root.findall(".//w:sectPr", _NS)
    body = root.find("w:body/w:sectPr", _NS)
    if body is None:
        return None, len(sections)
    size = body.find("w:pgSz", _NS)
    margin = body.find("w:pgMar", _NS)
    geometry = PageGeometry(
        width=_int(size, "w"),
        height=_int(size, "h"),
        margins=tuple(_int(margin, side) for side in ("top", "right", "bottom", "left")),  # type: ignore[arg-type]
    )
    return geometry, len(sections)


def _fields(part_xml: bytes) -> set[str]:
    root = etree.fromstring(part_xml, parser=etree.XMLParser(resolve_entities=False))
    found: set[str] = set()
    instructions = [el.get(f"{{{_W}}}instr") or "" for el in root.iter(f"{{{_W}}}fldSimple")]
    instructions += [el.text or "" for el in root.iter(f"{{{_W}}}instrText")]
    for instruction in instructions:
        match = _FIELD_NAME.match(instruction)
        if match:
            found.add(match.group(1).upper())
    return found


def _document_reason(name: str, docx: bytes) -> tuple[PageGeometry | None, str | None]:
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as package:
            parts = {info.filename: package.read(info) for info in package.infolist()}
    except (zipfile.BadZipFile, KeyError, OSError):
        return None, f"{name}: not a readable DOCX"
    if "word/document.xml" not in parts:
        return None, f"{name}: not a readable DOCX"
    try:
        geometry, sections = page_geometry(parts["word/document.xml"])
        for part, xml in sorted(parts.items()):
            if _FOOTER.match(part):
                extra = (_fields(xml) & _PAGE_FIELDS) - _FOOTER_ALLOWED
            elif _OTHER_PARTS.match(part):
                extra = _fields(xml) & _PAGE_FIELDS
            else:
                continue
            if extra:
                return None, f"{name}: own page field {', '.join(sorted(extra))} in {part}"
    except etree.XMLSyntaxError:
        return None, f"{name}: not a readable DOCX"
    if geometry is None or sections != 1:
        return None, f"{name}: {sections} sections; only one-section documents are composed"
    return geometry, None


def composable_reason(documents: Sequence[tuple[str, bytes]]) -> str | None:
    """Say why a packet's rendered documents cannot be composed, or None when they can.

    Args:
        documents: (document name, DOCX bytes) in packet order.

    Returns:
        None when the documents can be joined for one conversion; otherwise a reason naming the
        first document (and part) that prevents it, for the fallback to separate conversion.
    """
    first: tuple[str, PageGeometry] | None = None
    for name, docx in documents:
        geometry, reason = _document_reason(name, docx)
        if reason is not None:
            return reason
        assert geometry is not None
        if first is None:
            first = (name, geometry)
        elif geometry != first[1]:
            orientation = (geometry.width > geometry.height) != (first[1].width > first[1].height)
            what = "orientation" if orientation else "page size or margins"
            return f"{name}: {what} differs from {first[0]}"
    return None
