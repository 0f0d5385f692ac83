"""PDF/A-3 associated files: embed them with every key the standard asks for, and read them back.

pypdf's ``add_attachment`` writes only ``/F``; PDF/A-3 (ISO 19005-3, 6.8) also wants ``/UF``, a
MIME ``/Subtype``, ``/Params`` with dates, an ``/AFRelationship`` and the file spec listed in the
catalog's ``/AF``. pikepdf's :class:`~pikepdf.AttachedFileSpec` writes them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs
import pikepdf

__all__ = ["AssociatedFile", "attach_associated_files", "read_associated_file", "read_associated_files"]


@attrs.frozen(kw_only=True)
class AssociatedFile:
    """One PDF/A-3 associated file to embed (``audit.json``, ``consent.fhir.json`` ...)."""

    name: str
    data: bytes = attrs.field(repr=False)
    mime_type: str
    #: ``Data``, ``Source``, ``Alternative``, ``Supplement`` or ``Unspecified``.
    relationship: str
    description: str


def _pdf_date(value: datetime) -> str:
    return "D:" + value.strftime("%Y%m%d%H%M%S") + "Z"


def attach_associated_files(pdf: pikepdf.Pdf, files: Iterable[AssociatedFile], now: datetime) -> None:
    """Embed ``files``, each with /F and /UF, its MIME /Subtype, /Params with ``now`` as creation
    and modification date, its /AFRelationship and a place in the catalog's /AF (which lists
    exactly these files)."""
    when = _pdf_date(now)
    specs = []
    for file in files:
        pdf.attachments[file.name] = pikepdf.AttachedFileSpec(
            pdf,
            file.data,
            description=file.description,
            filename=file.name,
            mime_type=file.mime_type,
            creation_date=when,
            mod_date=when,
            relationship=pikepdf.Name("/" + file.relationship),
        )
        specs.append(pdf.attachments[file.name].obj)
    pdf.Root["/AF"] = pikepdf.Array([_indirect(pdf, spec) for spec in specs])


def _indirect(pdf: pikepdf.Pdf, obj: pikepdf.Object) -> pikepdf.Object:
    return obj if obj.is_indirect else pdf.make_indirect(obj)


def read_associated_file(pdf: pikepdf.Pdf, name: str) -> tuple[bytes, str] | None:
    """An embedded file's content and its ``/AFRelationship`` (``"/Data"``, ``""`` when it has
    none), or ``None`` when no file of that name is embedded."""
    if name not in pdf.attachments:
        return None
    spec = pdf.attachments[name]
    return spec.get_file().read_bytes(), str(spec.obj.get("/AFRelationship", ""))


def read_associated_files(pdf: pikepdf.Pdf) -> dict[str, tuple[bytes, str]]:
    """Every embedded file: name -> (content, ``/AFRelationship``)."""
    found = {}
    for name in pdf.attachments:
        file = read_associated_file(pdf, name)
        if file is not None:
            found[name] = file
    return found
