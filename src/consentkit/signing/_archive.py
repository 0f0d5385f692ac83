"""Assemble the archival PDF/A-3 packet with pikepdf (before the seal).

The reviewed packet is opened as it is, so its XMP, OutputIntent, trailer ID and structure tree
stay; the audit pages are appended; every page gets the overlay as one extra content stream
(``[q, <original streams...>, Q q /ConsentKitOverlay Do Q]``); ``audit.json`` and the reviewed
packet itself are attached as PDF/A-3 associated files; the XMP is edited with pikepdf.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs
import pikepdf

from ..errors import SigningError
from ._audit import AUDIT_NAME, REVIEWED_NAME
from ._fingerprint import OVERLAY_NAME, OVERLAY_PREFIX

__all__ = ["AssociatedFile", "assemble_archive", "page_sizes"]


@attrs.frozen(kw_only=True)
class AssociatedFile:
    """One more PDF/A-3 associated file to embed (e.g. ``consent.fhir.json``)."""

    name: str
    data: bytes = attrs.field(repr=False)
    mime_type: str
    #: ``Data``, ``Source``, ``Alternative``, ``Supplement`` or ``Unspecified``.
    relationship: str
    description: str


def _pdf_date(value: datetime) -> str:
    return "D:" + value.strftime("%Y%m%d%H%M%S") + "Z"


def page_sizes(pdf: pikepdf.Pdf) -> list[tuple[float, float]]:
    """(width, height) of each page's media box."""
    sizes = []
    for page in pdf.pages:
        box = page.mediabox
        sizes.append((float(box[2]) - float(box[0]), float(box[3]) - float(box[1])))
    return sizes


def _own_resources(page: pikepdf.Page) -> pikepdf.Dictionary:
    """A resource dictionary of this page alone (shallow copies; the objects inside stay shared)."""
    node: object = page.obj
    resources: object = None
    for _ in range(64):
        if not isinstance(node, pikepdf.Dictionary):
            break
        if "/Resources" in node:
            resources = node["/Resources"]
            break
        node = node.get("/Parent")
    own = pikepdf.Dictionary()
    if isinstance(resources, pikepdf.Dictionary):
        for key in resources.keys():  # noqa: SIM118 (pikepdf API)
            own[key] = resources[key]
    xobjects = pikepdf.Dictionary()
    existing = own.get("/XObject")
    if isinstance(existing, pikepdf.Dictionary):
        for key in existing.keys():  # noqa: SIM118
            xobjects[key] = existing[key]
    if OVERLAY_NAME in xobjects:
        raise SigningError(
            f"packet.pdf already uses the resource name {OVERLAY_NAME}; it cannot be finalized"
        )
    own["/XObject"] = xobjects
    return own


def _stack_overlay(pdf: pikepdf.Pdf, page: pikepdf.Page, form: pikepdf.Object) -> None:
    resources = _own_resources(page)
    resources["/XObject"][OVERLAY_NAME] = form
    page.obj["/Resources"] = pdf.make_indirect(resources)
    contents = page.obj.get("/Contents")
    originals = (
        list(contents) if isinstance(contents, pikepdf.Array) else ([] if contents is None else [contents])
    )
    box = page.mediabox
    origin = f"{float(box[0]):g} {float(box[1]):g}"
    draw = f"Q\nq 1 0 0 1 {origin} cm {OVERLAY_NAME} Do Q\n".encode()
    page.obj["/Contents"] = pikepdf.Array(
        [pdf.make_stream(OVERLAY_PREFIX), *originals, pdf.make_stream(draw)]
    )


def assemble_archive(
    review: bytes,
    *,
    audit_pages: bytes,
    overlay: bytes,
    audit_json: bytes,
    title: str,
    subject: str,
    creator_tool: str,
    now: datetime,
    extra_files: Sequence[AssociatedFile] = (),
) -> bytes:
    """Build the unsealed archive.

    Args:
        review: the reviewed packet PDF (PDF/A-3b).
        audit_pages: the audit certificate pages (reportlab PDF).
        overlay: one overlay page per page of the result.
        audit_json: the audit record.
        title, subject, creator_tool: XMP metadata.
        now: the finalize time (attachment and metadata dates).
        extra_files: more associated files, embedded after ``audit.json`` and the reviewed packet.

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
            pdf.pages.extend(audit.pages)
            if len(stamps.pages) != len(pdf.pages):
                raise SigningError("internal error: the overlay does not match the page count")
            for page, stamp in zip(pdf.pages, stamps.pages, strict=True):
                form = pdf.copy_foreign(stamp.as_form_xobject())
                _stack_overlay(pdf, page, form)
            attach_associated_files(
                pdf,
                (
                    (
                        AUDIT_NAME,
                        audit_json,
                        "application/json",
                        pikepdf.Name.Data,
                        "Audit record: documents, signers, evidence and hashes (consentkit.audit/1)",
                    ),
                    (
                        REVIEWED_NAME,
                        review,
                        "application/pdf",
                        pikepdf.Name.Source,
                        "The packet exactly as the signers reviewed it",
                    ),
                    *(
                        (f.name, f.data, f.mime_type, pikepdf.Name("/" + f.relationship), f.description)
                        for f in extra_files
                    ),
                ),
                now,
            )
            with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
                meta["dc:title"] = title
                meta["dc:description"] = subject
                meta["xmp:CreatorTool"] = creator_tool
                meta["xmp:ModifyDate"] = now.isoformat()
                meta["xmp:MetadataDate"] = now.isoformat()
            out = io.BytesIO()
            pdf.save(out)
    except pikepdf.PdfError as exc:
        raise SigningError(f"cannot assemble the archive ({exc})") from exc
    return out.getvalue()


def attach_associated_files(
    pdf: pikepdf.Pdf,
    files: Iterable[tuple[str, bytes, str, pikepdf.Name, str]],
    now: datetime,
) -> None:
    """Embed PDF/A-3 associated files: each (name, data, MIME type, /AFRelationship, description)
    gets /F and /UF, its MIME /Subtype, /Params with dates, and a place in the catalog's /AF."""
    when = _pdf_date(now)
    specs = []
    for name, data, mime, relationship, description in files:
        pdf.attachments[name] = pikepdf.AttachedFileSpec(
            pdf,
            data,
            description=description,
            filename=name,
            mime_type=mime,
            creation_date=when,
            mod_date=when,
            relationship=relationship,
        )
        specs.append(pdf.attachments[name].obj)
    pdf.Root["/AF"] = pikepdf.Array([_indirect(pdf, spec) for spec in specs])


def _indirect(pdf: pikepdf.Pdf, obj: pikepdf.Object) -> pikepdf.Object:
    return obj if obj.is_indirect else pdf.make_indirect(obj)
