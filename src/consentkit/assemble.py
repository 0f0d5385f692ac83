"""Join PDF/A documents into one PDF/A packet without losing what makes them archival.

pypdf's plain ``PdfWriter().append()`` drops the XMP metadata, the OutputIntent and the trailer ID
(pypdf#1012), so the writer is cloned from the first document. pypdf's XMP setters corrupt
LibreOffice's XMP, so the metadata is edited with pikepdf.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pikepdf
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from .errors import PacketError

__all__ = ["merge_pdfs", "page_count", "set_xmp"]


def page_count(path: Path) -> int:
    """Number of pages of a PDF.

    Raises:
        PacketError: the file is not a readable PDF.
    """
    try:
        return len(PdfReader(path).pages)
    except (PyPdfError, OSError, ValueError) as exc:
        raise PacketError(f"{path.name}: not a readable PDF ({exc})") from exc


def set_xmp(pdf: bytes, *, title: str, subject: str = "", creator_tool: str = "consentkit") -> bytes:
    """Set title, subject and creator tool in the XMP (and DocInfo, kept in sync) with pikepdf.

    The PDF/A identification LibreOffice wrote is kept as it is.
    """
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        with doc.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = title
            if subject:
                meta["dc:description"] = subject
            meta["xmp:CreatorTool"] = creator_tool
        out = io.BytesIO()
        doc.save(out, deterministic_id=False)
    return out.getvalue()


def merge_pdfs(pdfs: Sequence[Path], *, title: str, subject: str = "") -> bytes:
    """Merge PDF/A-3 documents (all from the same converter) into one PDF/A-3 packet.

    Raises:
        PacketError: no input, or an input is not a readable PDF.
    """
    if not pdfs:
        raise PacketError("nothing to merge")
    try:
        writer = PdfWriter(clone_from=pdfs[0])
        for pdf in pdfs[1:]:
            writer.append(pdf)
        buffer = io.BytesIO()
        writer.write(buffer)
    except (PyPdfError, OSError, ValueError) as exc:
        raise PacketError(f"cannot merge the documents ({exc})") from exc
    return set_xmp(buffer.getvalue(), title=title, subject=subject)
