"""Assemble the archival PDF/A-3 packet with pikepdf (before the seal).

The reviewed packet is opened as it is, so its XMP, OutputIntent, trailer ID and structure tree
stay; the audit pages are appended; every page gets the overlay as one extra content stream
(``[q, <original streams...>, Q q /ConsentKitOverlay Do Q]``); ``audit.json`` and the reviewed
packet itself are attached as PDF/A-3 associated files; the XMP is edited with pikepdf.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import pikepdf

from ..errors import LayoutError, SigningError
from ..pdf.embed import AssociatedFile, attach_associated_files
from ..pdf.metadata import edit_metadata
from ..pdf.overlay import OVERLAY_NAME, stack_overlay
from ..pdf.tagging import FigureTag, add_figures, adopt_structure, ensure_parts
from ._audit import AUDIT_NAME, REVIEWED_NAME

__all__ = ["assemble_archive"]


def assemble_archive(
    review: bytes,
    *,
    audit_pages: bytes,
    overlay: bytes,
    figures: Sequence[FigureTag] = (),
    audit_json: bytes,
    title: str,
    subject: str,
    creator_tool: str,
    now: datetime,
    extra_files: Sequence[AssociatedFile] = (),
    lang: str | None = None,
) -> bytes:
    """Build the unsealed archive.

    Args:
        review: the reviewed packet PDF (PDF/A-3b).
        audit_pages: the audit certificate pages (reportlab PDF).
        overlay: one overlay page per page of the result.
        figures: the stamps drawn in the overlay, tagged as figures with alternative text.
        audit_json: the audit record.
        title, subject, creator_tool: XMP metadata.
        now: the finalize time (attachment and metadata dates).
        extra_files: more associated files, embedded after ``audit.json`` and the reviewed packet.
        lang: the packet's language (``/Lang`` of the archive).

    Raises:
        SigningError: a PDF cannot be processed, or an extra file takes a name already used.
    """
    names = [AUDIT_NAME, REVIEWED_NAME, *(f.name for f in extra_files)]
    if len(set(names)) != len(names):
        raise SigningError("two associated files would have the same name")
    try:
        with (
            pikepdf.open(io.BytesIO(review)) as pdf,
            pikepdf.open(io.BytesIO(audit_pages)) as audit,
            pikepdf.open(io.BytesIO(overlay)) as stamps,
        ):
            # The certificate's pages and its tags (a /Part after the documents' parts).
            ensure_parts(pdf)
            moved = []
            for page in audit.pages:
                local = pdf.copy_foreign(page.obj)
                pdf.pages.append(pikepdf.Page(local))
                moved.append(local)
            adopt_structure(pdf, audit, moved)
            if len(stamps.pages) != len(pdf.pages):
                raise SigningError("internal error: the overlay does not match the page count")
            forms = {}
            for index, (page, stamp) in enumerate(zip(pdf.pages, stamps.pages, strict=True)):
                form = pdf.copy_foreign(stamp.as_form_xobject())
                forms[index] = form
                try:
                    stack_overlay(pdf, page, form)
                except LayoutError as exc:
                    raise SigningError(
                        f"packet.pdf already uses the resource name {OVERLAY_NAME}; it cannot be finalized"
                    ) from exc
            own = (
                AssociatedFile(
                    name=AUDIT_NAME,
                    data=audit_json,
                    mime_type="application/json",
                    relationship="Data",
                    description="Audit record: documents, signers, evidence and hashes (consentkit.audit/1)",
                ),
                AssociatedFile(
                    name=REVIEWED_NAME,
                    data=review,
                    mime_type="application/pdf",
                    relationship="Source",
                    description="The packet exactly as the signers reviewed it",
                ),
            )
            add_figures(pdf, figures, forms)
            attach_associated_files(pdf, (*own, *extra_files), now)
            edit_metadata(
                pdf,
                title=title,
                subject=subject,
                creator_tool=creator_tool,
                dates=("xmp:ModifyDate", "xmp:MetadataDate"),
                when=now,
                lang=lang,
            )
            out = io.BytesIO()
            pdf.save(out)
    except pikepdf.PdfError as exc:
        raise SigningError(f"cannot assemble the archive ({exc})") from exc
    return out.getvalue()
