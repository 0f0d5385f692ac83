"""Join PDF/A documents into one PDF/A packet without losing what makes them archival.

A naive merge (pypdf's ``PdfWriter().append()``) drops the XMP metadata, the OutputIntent and the
trailer ID (pypdf#1012), and pypdf's XMP setters corrupt LibreOffice's XMP; the packet is therefore
built on the first document's catalog with pikepdf, which also edits the XMP correctly.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pikepdf

from ..errors import PacketError
from .metadata import edit_metadata
from .tagging import adopt_structure, ensure_parts

__all__ = ["merge_documents", "merge_pdfs", "page_count", "page_sizes"]


def page_count(path: Path) -> int:
    """Number of pages of a PDF.

    Raises:
        PacketError: the file is not a readable PDF.
    """
    try:
        with _open(path) as doc:
            return len(doc.pages)
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise PacketError(f"{path.name}: not a readable PDF ({exc})") from exc


def page_sizes(pdf: pikepdf.Pdf) -> list[tuple[float, float]]:
    """(width, height) of each page's media box."""
    sizes = []
    for page in pdf.pages:
        box = page.mediabox
        sizes.append((float(box[2]) - float(box[0]), float(box[3]) - float(box[1])))
    return sizes


#: Page attributes a page inherits from its ancestors in the page tree (ISO 32000-1, 7.7.3.4).
_INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


def _open(path: Path) -> pikepdf.Pdf:
    # pikepdf's default pushes inherited attributes down to every page on opening, which costs
    # ten times the rest of the opening; the merge does it itself for the pages it moves.
    return pikepdf.open(path, inherit_page_attributes=False)


def _make_self_contained(page: pikepdf.Dictionary) -> None:
    """Copy onto ``page`` what it inherits from its page-tree ancestors, so that it keeps its
    resources, size and rotation when moved into another document's page tree."""
    missing = [key for key in _INHERITABLE if key not in page]
    node = page.get("/Parent")
    depth = 0
    while missing and isinstance(node, pikepdf.Dictionary) and depth < 64:
        for key in list(missing):
            if key in node:
                page[key] = node[key]
                missing.remove(key)
        node = node.get("/Parent")
        depth += 1


def _siblings(first: Any) -> list[pikepdf.Dictionary]:
    """An outline level as a list, following ``/Next`` (guarded against cycles)."""
    items: list[pikepdf.Dictionary] = []
    seen: set[tuple[int, int]] = set()
    item = first
    while isinstance(item, pikepdf.Dictionary) and item.objgen not in seen and len(items) < 100_000:
        if item.objgen != (0, 0):
            seen.add(item.objgen)
        items.append(item)
        item = item.get("/Next")
    return items


def _append_outline(packet: pikepdf.Pdf, theirs: Any, pages: set[tuple[int, int]], first_page: Any) -> None:
    """Append a copy of another document's outline (bookmarks) to the packet's, top level after
    top level, keeping each entry's exact destination.

    ``theirs`` is the other document's ``/Outlines`` already copied into ``packet`` (after its
    pages, so destinations point at the copied pages). A destination that does not point at one of
    ``pages`` (a named destination, an action) is replaced by the document's first page.
    """
    if not isinstance(theirs, pikepdf.Dictionary):
        return
    items = _siblings(theirs.get("/First"))
    if not items:
        return
    stack = list(items)
    while stack:
        item = stack.pop()
        destination = item.get("/Dest")
        if not (
            isinstance(destination, pikepdf.Array)
            and len(destination)
            and isinstance(destination[0], pikepdf.Dictionary)
            and destination[0].objgen in pages
        ):
            item.Dest = pikepdf.Array([first_page, pikepdf.Name.Fit])
            if "/A" in item:
                del item["/A"]
        stack.extend(_siblings(item.get("/First")))
    root = packet.Root.get("/Outlines")
    if not isinstance(root, pikepdf.Dictionary):
        root = packet.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines, Count=0))
        packet.Root.Outlines = root
    for item in items:
        item.Parent = root
    last = root.get("/Last")
    if isinstance(last, pikepdf.Dictionary):
        last.Next = items[0]
        items[0].Prev = last
    else:
        root.First = items[0]
    root.Last = items[-1]
    visible = int(theirs.get("/Count", len(items)))
    root.Count = int(root.get("/Count", 0)) + max(visible, len(items))


def merge_pdfs(pdfs: Sequence[Path], *, title: str, subject: str = "") -> bytes:
    """Merge PDF/A-3 documents into one PDF/A-3 packet (see :func:`merge_documents`).

    Raises:
        PacketError: no input, or an input is not a readable PDF.
    """
    return merge_documents(pdfs, title=title, subject=subject)[0]


def merge_documents(pdfs: Sequence[Path], *, title: str, subject: str = "") -> tuple[bytes, list[int]]:
    """Merge PDF/A-3 documents (all from the same converter) into one PDF/A-3 packet and return
    it with each document's page count.

    The first document's catalog is kept (XMP with the PDF/A identification, OutputIntent,
    trailer ID); the pages of the others are appended with their outlines (bookmarks), each keeping
    its exact target.
    Every document's structure tree is kept, each under a ``/Part`` element in its own language,
    its parent-tree keys renumbered (:mod:`consentkit.pdf.tagging`), so the packet reads in a
    screen reader as its documents do.

    Documents are opened without pikepdf's push-down of inherited page attributes (the pages that
    move get theirs copied onto them), and pages and outlines are moved with ``copy_foreign``:
    about 5 ms for a five-document packet, against about 50 ms for a pypdf merge
    (``bench/batch_ideas.py``, ``docs/batch.md``), which matters in batch generation.

    Raises:
        PacketError: no input, or an input is not a readable PDF.
    """
    if not pdfs:
        raise PacketError("nothing to merge")
    try:
        with _open(pdfs[0]) as packet:
            counts = [len(packet.pages)]
            ensure_parts(packet)
            for path in pdfs[1:]:
                with _open(path) as other:
                    copied: set[tuple[int, int]] = set()
                    moved = []
                    first_page = None
                    for page in other.pages:
                        _make_self_contained(page.obj)
                        # copy_foreign and a plain append cost half of pages.extend.
                        local = packet.copy_foreign(page.obj)
                        packet.pages.append(pikepdf.Page(local))
                        copied.add(local.objgen)
                        moved.append(local)
                        first_page = first_page if first_page is not None else local
                    # The document's tags, renumbered, under a /Part of its own (after its pages:
                    # the same copier maps the tree's page references onto the copies).
                    adopt_structure(packet, other, moved)
                    counts.append(len(other.pages))
                    outline = other.Root.get("/Outlines")
                    if first_page is not None and isinstance(outline, pikepdf.Dictionary):
                        # Copied by the same copier as the pages: destinations map onto them.
                        _append_outline(packet, packet.copy_foreign(outline), copied, first_page)
            edit_metadata(packet, title=title, subject=subject)
            out = io.BytesIO()
            packet.save(out)
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise PacketError(f"cannot merge the documents ({exc})") from exc
    return out.getvalue(), counts
