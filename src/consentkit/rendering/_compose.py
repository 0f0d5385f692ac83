"""Join a packet's rendered documents into one DOCX, for one LibreOffice conversion per packet.

LibreOffice spends most of a short document's conversion on loading it, so converting a packet's
five documents as one saves about half of its time (``docs/batch.md``). The joined DOCX is built
so that each document lays out as it does alone:

* it starts with a **lead page** (an empty section) that is dropped after conversion.
  LibreOffice 7.4 stops honouring keep-with-next on the first page of a long document (a heading
  left alone at the foot of page 1, ``docs/batch.md``); with the lead page no document starts on
  the first page;
* every document is a section of its own that starts on a new page, with its page numbers
  restarting at 1 and its own copies of its footer and header parts;
* "of N" in a footer (``NUMPAGES``) becomes ``PAGEREF`` to a bookmark at the end of the
  document, which LibreOffice prints as the document's own last page number (its
  ``SECTIONPAGES`` prints 1);
* the end of each document carries an invisible marker, ``ck-end-<n>`` (white, 2 pt, like the
  signature anchors), from which the PDF is cut back into documents, and which is then removed.

Only documents that :func:`~consentkit.rendering._composable.composable_reason` accepts may be
joined; the caller converts the others separately.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import PurePosixPath

from lxml import etree

from ._composable import Package, parse_part, read_package

__all__ = ["END_MARKER", "compose_docx"]

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PR = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_RELS = "word/_rels/document.xml.rels"
_TYPES = "[Content_Types].xml"
#: The marker at the end of document ``n`` (1-based) of a joined DOCX; read and removed from the PDF.
END_MARKER = "ck-end-"
_NUMPAGES = re.compile(r"\bNUMPAGES\b")
_REFERENCES = ("headerReference", "footerReference")
#: Section properties the lead page must not take from the first document.
_NOT_FOR_LEAD = ("headerReference", "footerReference", "pgNumType", "titlePg")


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


def _bytes(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def _max_id(packages: Sequence[Package]) -> int:
    highest = 0
    for package in packages:
        for value in re.findall(rb'w:id="(\d+)"', package["word/document.xml"]):
            highest = max(highest, int(value))
    return highest


def _end_paragraph(content: list[etree._Element], number: int, bookmark_id: int) -> None:
    """Give the document's last paragraph the end bookmark and the end marker (appending an empty
    paragraph when the document ends with a table)."""
    last = content[-1] if content else None
    if last is None or last.tag != _w("p"):
        last = etree.Element(_w("p"))
        content.append(last)
    start = etree.SubElement(last, _w("bookmarkStart"))
    start.set(_w("id"), str(bookmark_id))
    start.set(_w("name"), f"ck_end_{number}")
    run = etree.SubElement(last, _w("r"))
    properties = etree.SubElement(run, _w("rPr"))
    etree.SubElement(properties, _w("color")).set(_w("val"), "FFFFFF")
    etree.SubElement(properties, _w("sz")).set(_w("val"), "4")
    etree.SubElement(properties, _w("szCs")).set(_w("val"), "4")
    text = etree.SubElement(run, _w("t"))
    text.text = f"{END_MARKER}{number}"
    etree.SubElement(last, _w("bookmarkEnd")).set(_w("id"), str(bookmark_id))


def _own_page_count(part: bytes, number: int) -> bytes:
    """A header or footer whose ``NUMPAGES`` counts document ``number``'s pages only."""
    root = parse_part(part)
    for field in root.iter(_w("fldSimple")):
        instruction = field.get(_w("instr")) or ""
        field.set(_w("instr"), _NUMPAGES.sub(f"PAGEREF ck_end_{number}", instruction))
    for instruction in root.iter(_w("instrText")):
        instruction.text = _NUMPAGES.sub(f"PAGEREF ck_end_{number}", instruction.text or "")
    return _bytes(root)


def compose_docx(documents: Sequence[bytes | Package]) -> bytes:
    """Join rendered DOCX documents (accepted by ``composable_reason``) into one DOCX.

    The first document's shared parts (styles, numbering, settings) are used for all: the
    documents of one template set share them, which ``composable_reason`` checks. A document is
    its DOCX bytes, or its members as :func:`~._composable.read_package` read them.

    The joined DOCX is stored without compression: it only goes to LibreOffice, once.

    Raises:
        ValueError: no documents, or a document without a body section.
    """
    if not documents:
        raise ValueError("nothing to compose")
    packages = [read_package(docx) if isinstance(docx, bytes) else docx for docx in documents]
    first = packages[0]
    rels = parse_part(first[_RELS])
    types = parse_part(first[_TYPES])
    members = dict(first)
    # The first document's own header and footer parts are replaced by numbered copies below.
    for relationship in list(rels):
        if relationship.get("Type", "").endswith(("/header", "/footer")):
            rels.remove(relationship)
            part = f"word/{relationship.get('Target', '')}"
            members.pop(part, None)
            for override in types.findall(f"{{{_CT}}}Override"):
                if override.get("PartName") == f"/{part}":
                    types.remove(override)
    next_id = _max_id(packages) + 1
    body_parts: list[etree._Element] = []
    lead = etree.Element(_w("p"))
    body_parts.append(lead)
    for number, package in enumerate(packages, start=1):
        document = parse_part(package["word/document.xml"])
        own_rels = {rel.get("Id"): rel for rel in parse_part(package[_RELS])}
        own_types = {o.get("PartName"): o for o in parse_part(package[_TYPES]).findall(f"{{{_CT}}}Override")}
        body = document.find(_w("body"))
        if body is None or not len(body) or body[-1].tag != _w("sectPr"):
            raise ValueError(f"document {number} has no body section")
        children = list(body)
        section = children[-1]
        if number == 1:
            lead_section = copy.deepcopy(section)
            for child in list(lead_section):
                if etree.QName(child).localname in _NOT_FOR_LEAD:
                    lead_section.remove(child)
            etree.SubElement(lead, _w("pPr")).append(lead_section)
        for reference in section:
            if etree.QName(reference).localname not in _REFERENCES:
                continue
            relationship = own_rels[reference.get(f"{{{_R}}}id")]
            target = relationship.get("Target", "")
            name = f"ck{number}-{PurePosixPath(target).name}"
            members[f"word/{name}"] = _own_page_count(package[f"word/{target}"], number)
            rid = f"rIdCk{number}-{PurePosixPath(target).stem}"
            kind = relationship.get("Type", "")
            etree.SubElement(rels, f"{{{_PR}}}Relationship", Id=rid, Type=kind, Target=name)
            override = own_types.get(f"/word/{target}")
            if override is not None:
                content = override.get("ContentType", "")
                etree.SubElement(types, f"{{{_CT}}}Override", PartName=f"/word/{name}", ContentType=content)
            reference.set(f"{{{_R}}}id", rid)
        numbering = section.find(_w("pgNumType"))
        if numbering is None:
            numbering = etree.Element(_w("pgNumType"))
            # CT_SectPr's order: references, footnotePr, endnotePr, type, pgSz, pgMar, ..., pgNumType.
            anchor = section.find(_w("pgMar"))
            anchor = anchor if anchor is not None else section.find(_w("pgSz"))
            if anchor is not None:
                anchor.addnext(numbering)
            else:
                section.append(numbering)
        numbering.set(_w("start"), "1")
        for kind in ("bookmarkStart", "bookmarkEnd"):
            for mark in body.iter(_w(kind)):
                mark.set(_w("id"), str(int(mark.get(_w("id"), "0")) + number * 1_000_000))
        content = children[:-1]
        _end_paragraph(content, number, next_id + number)
        body_parts.extend(content)
        if number < len(packages):
            holder = etree.Element(_w("p"))
            etree.SubElement(holder, _w("pPr")).append(section)
            body_parts.append(holder)
        else:
            body_parts.append(section)
    document = parse_part(first["word/document.xml"])
    body = document.find(_w("body"))
    assert body is not None
    for child in list(body):
        body.remove(child)
    body.extend(body_parts)
    members["word/document.xml"] = _bytes(document)
    members[_RELS] = _bytes(rels)
    members[_TYPES] = _bytes(types)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as joined:
        for name, data in members.items():
            joined.writestr(name, data)
    return out.getvalue()
