"""Edit a PDF's XMP metadata with pikepdf, which keeps DocInfo in sync (PDF/A-1 requires both to
agree) and writes namespaces correctly (pypdf 7's XMP setters do not: pipeline notes §4)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import pikepdf

__all__ = ["edit_metadata", "set_xmp"]


def edit_metadata(
    doc: pikepdf.Pdf,
    *,
    title: str,
    subject: str = "",
    creator_tool: str = "consentkit",
    producer: str | None = None,
    dates: Sequence[str] = (),
    when: datetime | None = None,
    pdfa_part: int | None = None,
    lang: str | None = None,
) -> None:
    """Set the title, the subject (``dc:description``, when given), the creator tool and the
    producer (when given); ``dates`` (e.g. ``xmp:ModifyDate``) are set to ``when``; with
    ``pdfa_part`` the PDF/A identification is written too (conformance B). Other properties (the
    identification a converter wrote) stay as they are.

    Viewers are asked to show the title rather than the file name (``/DisplayDocTitle``, as PDF/UA
    requires); with ``lang`` the document's language (``/Lang``) is set too."""
    preferences = doc.Root.get("/ViewerPreferences")
    if not isinstance(preferences, pikepdf.Dictionary):
        preferences = doc.Root.ViewerPreferences = pikepdf.Dictionary()
    preferences.DisplayDocTitle = True
    if lang:
        doc.Root.Lang = pikepdf.String(lang)
    with doc.open_metadata(set_pikepdf_as_editor=False) as meta:
        if pdfa_part is not None:
            meta["pdfaid:part"] = str(pdfa_part)
            meta["pdfaid:conformance"] = "B"
        meta["dc:title"] = title
        if subject:
            meta["dc:description"] = subject
        meta["xmp:CreatorTool"] = creator_tool
        if producer is not None:
            meta["pdf:Producer"] = producer
        if dates and when is not None:
            for key in dates:
                meta[key] = when.isoformat()


def set_xmp(pdf: bytes, *, title: str, subject: str = "", creator_tool: str = "consentkit") -> bytes:
    """``pdf`` with its title, subject and creator tool set (see :func:`edit_metadata`)."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        edit_metadata(doc, title=title, subject=subject, creator_tool=creator_tool)
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()
