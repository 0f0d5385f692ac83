"""Decide whether a packet's documents can be joined into one DOCX for one LibreOffice conversion.

Composed conversion (issue 16, part 2) converts a packet's documents as one DOCX and finds each
document's pages in the PDF (:func:`consentkit.packet.finish_composed_packet`). That is only faithful
when every document lays out the same way on its own and joined: the same page size, orientation
and margins, one section each, the same styles, numbering and settings, nothing embedded or linked
that composition would have to carry over, no numbered lists (they would go on counting across
documents), and no page fields that would count the joined document's pages instead of the
document's own. A footer's ``PAGE``/``NUMPAGES`` is allowed because composition restarts page
numbers per document and turns ``NUMPAGES`` into a ``PAGEREF`` to the document's end
(:mod:`consentkit.rendering._compose`); the same fields in the body or a header, or
``SECTIONPAGES`` anywhere, are the template's own page logic and send the packet to separate
conversion.

This module only reads the DOCX parts; it never sees client data beyond the XML it is given and
its reasons name documents and parts, never text.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence

import attrs
from lxml import etree

__all__ = ["Package", "PageGeometry", "composable_reason", "page_geometry", "parse_part", "read_package"]

#: A DOCX's members by name, as :func:`read_package` reads them.
Package = Mapping[str, bytes]

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS = {"w": _W}
_FOOTER = re.compile(r"^word/footer\d*\.xml$")
_OTHER_PARTS = re.compile(r"^word/(document|header\d*|footnotes|endnotes)\.xml$")
_FIELD_NAME = re.compile(r"^\s*([A-Za-z]+)")
_PAGE_FIELDS = frozenset({"PAGE", "NUMPAGES", "SECTIONPAGES", "PAGEREF"})
_FOOTER_ALLOWED = frozenset({"PAGE", "NUMPAGES"})
#: Parts every document has of its own; all the others must be the same in every document.
_OWN_PART = re.compile(
    r"^(word/(document|header\d*|footer\d*)\.xml|word/_rels/(document|header\d*|footer\d*)\.xml\.rels"
    r"|docProps/.*"
    r"|\[Content_Types\]\.xml)$"
)
#: The relationships of ``document.xml`` composition can carry over.
_KNOWN_RELATIONSHIPS = frozenset(
    {
        "styles",
        "stylesWithEffects",
        "settings",
        "webSettings",
        "numbering",
        "fontTable",
        "theme",
        "header",
        "footer",
    }
)
#: List number formats that do not count (a numbered list would go on counting from one
#: document into the next).
_UNCOUNTED = frozenset({"bullet", "none"})


@attrs.frozen(kw_only=True)
class PageGeometry:
    """The page of a one-section document, in twentieths of a point (as DOCX stores it)."""

    width: int
    """Page width; larger than ``height`` for landscape."""
    height: int
    """Page height."""
    margins: tuple[int, int, int, int]
    """Top, right, bottom and left margins."""


def parse_part(data: bytes) -> etree._Element:
    """A DOCX part's XML, entities not resolved (a parser per call: lxml's parsers must not be
    shared between threads, and batches compose in several)."""
    return etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))


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
    return _geometry(parse_part(document_xml))


def _geometry(root: etree._Element) -> tuple[PageGeometry | None, int]:
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


def _fields(root: etree._Element) -> set[str]:
    found: set[str] = set()
    instructions = [el.get(f"{{{_W}}}instr") or "" for el in root.iter(f"{{{_W}}}fldSimple")]
    instructions += [el.text or "" for el in root.iter(f"{{{_W}}}instrText")]
    for instruction in instructions:
        match = _FIELD_NAME.match(instruction)
        if match:
            found.add(match.group(1).upper())
    return found


def _parts_reason(name: str, parts: Package) -> str | None:
    """Why the document's parts other than its body cannot be carried into a joined DOCX."""
    relationships = parse_part(parts.get("word/_rels/document.xml.rels", b"<r/>"))
    for relationship in relationships:
        kind = (relationship.get("Type") or "").rsplit("/", 1)[-1]
        if kind not in _KNOWN_RELATIONSHIPS or relationship.get("TargetMode") == "External":
            return f"{name}: has {kind or 'other'} content (images, links or embedded parts are not composed)"
    for part in parts:
        if re.match(r"^word/_rels/(header|footer)\d*\.xml\.rels$", part):
            return f"{name}: a header or footer has images or links of its own"
    numbering = parts.get("word/numbering.xml")
    if numbering is not None:
        root = parse_part(numbering)
        formats = {el.get(f"{{{_W}}}val") for el in root.iter(f"{{{_W}}}numFmt")}
        if formats - _UNCOUNTED:
            return f"{name}: has numbered lists, which would go on counting across documents"
    return None


def _shared_parts(parts: Package) -> dict[str, bytes]:
    return {part: data for part, data in parts.items() if not _OWN_PART.match(part)}


def read_package(docx: bytes) -> dict[str, bytes]:
    """A DOCX's members by name (read once, for both :func:`composable_reason` and
    :func:`~consentkit.rendering.compose_docx`).

    Raises:
        zipfile.BadZipFile, OSError: not a readable zip.
    """
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return {info.filename: package.read(info) for info in package.infolist()}


def _document_reason(
    name: str, docx: bytes | Package, shared: dict[str, bytes] | None = None
) -> tuple[PageGeometry | None, str | None, dict[str, bytes]]:
    try:
        parts = read_package(docx) if isinstance(docx, bytes) else docx
    except (zipfile.BadZipFile, KeyError, OSError):
        return None, f"{name}: not a readable DOCX", {}
    if "word/document.xml" not in parts:
        return None, f"{name}: not a readable DOCX", {}
    own_shared = _shared_parts(parts)
    if shared is not None and own_shared != shared:
        return None, f"{name}: its styles, numbering or settings differ from the first document's", own_shared
    try:
        reason = _parts_reason(name, parts)
        if reason is not None:
            return None, reason, own_shared
        document = parse_part(parts["word/document.xml"])
        geometry, sections = _geometry(document)
        for part, xml in sorted(parts.items()):
            if _FOOTER.match(part):
                extra = (_fields(parse_part(xml)) & _PAGE_FIELDS) - _FOOTER_ALLOWED
            elif _OTHER_PARTS.match(part):
                root = document if part == "word/document.xml" else parse_part(xml)
                extra = _fields(root) & _PAGE_FIELDS
            else:
                continue
            if extra:
                return None, f"{name}: own page field {', '.join(sorted(extra))} in {part}", own_shared
    except etree.XMLSyntaxError:
        return None, f"{name}: not a readable DOCX", own_shared
    if geometry is None or sections != 1:
        return None, f"{name}: {sections} sections; only one-section documents are composed", own_shared
    return geometry, None, own_shared


def composable_reason(documents: Sequence[tuple[str, bytes | Package]]) -> str | None:
    """Say why a packet's rendered documents cannot be composed, or None when they can.

    Args:
        documents: (document name, DOCX bytes or its members from :func:`read_package`) in
            packet order.

    Returns:
        None when the documents can be joined for one conversion; otherwise a reason naming the
        first document (and part) that prevents it, for the fallback to separate conversion.
    """
    first: tuple[str, PageGeometry] | None = None
    shared: dict[str, bytes] | None = None
    for name, docx in documents:
        geometry, reason, own_shared = _document_reason(name, docx, shared)
        if reason is not None:
            return reason
        assert geometry is not None
        if first is None:
            first = (name, geometry)
            shared = own_shared
        elif geometry != first[1]:
            orientation = (geometry.width > geometry.height) != (first[1].width > first[1].height)
            what = "orientation" if orientation else "page size or margins"
            return f"{name}: {what} differs from {first[0]}"
    return None
