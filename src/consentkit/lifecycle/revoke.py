"""Revoke a signed consent packet: a new archival packet records the withdrawal.

The original archive is never changed. :func:`revoke_packet` reads it and writes a new PDF/A-3
file: a revocation page (drawn with the audit certificate's embedded fonts), ``revocation.json``
(who, when, why, and the SHA-256 of the original), the Consents as FHIR with status
``inactive``, and the original itself, byte for byte, as ``original.pdf``. The new file is
optionally sealed like an archive, the seal being the last write. ``consentkit verify`` reports
the revocation and verifies the original inside it.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pikepdf

from .._files import write_new
from .._version import __version__
from ..errors import InputError, OutputExistsError, PacketError, SigningError
from ..formatting import format_datetime
from ..signing import SealConfig
from ..signing._archive import attach_associated_files, page_sizes
from ..signing._audit import (
    AUDIT_NAME,
    AUDIT_SCHEMA,
    NOT_LEGAL_ADVICE,
    _Writer,
    certificate_document,
    utc_text,
)
from ..signing._finalize import CLOCK_SKEW
from ..signing._fonts import font_set
from ..signing._revocation import ORIGINAL_NAME, REVOCATION_NAME, REVOCATION_SCHEMA
from ..signing._seal import SEAL_FIELD, load_seal, seal_pdf
from .fhir import FHIR_MIME, FHIR_NAME, archive_bundle, bundle_json

__all__ = ["RevocationResult", "revoke_packet"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_REASON = 1000
_MAX_BY = 200


@attrs.frozen
class RevocationResult:
    """What :func:`revoke_packet` wrote."""

    #: The new revocation packet.
    path: Path
    packet_id: str
    revoked_at: datetime
    #: SHA-256 of the revocation packet as written.
    sha256: str
    #: SHA-256 of the original archive (unchanged, embedded as ``original.pdf``).
    original_sha256: str
    #: The seal's certificate subject, or ``None`` when not sealed.
    sealed_by: str | None
    #: The record embedded as ``revocation.json``.
    record: dict[str, Any] = attrs.field(repr=False, eq=False)


def _text(value: str, field: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise InputError("must not be empty", field=field)
    if len(text) > limit:
        raise InputError(f"is longer than {limit} characters", field=field)
    if _CONTROL.search(text):
        raise InputError("contains control characters (write it on one line)", field=field)
    return text


def _original_parts(data: bytes, name: str) -> tuple[dict[str, Any], tuple[float, float]]:
    """The original's audit record and page size, after checking it can be revoked."""
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PdfError as exc:
        raise PacketError(f"{name} is not a readable PDF ({exc})") from exc
    with pdf:
        if REVOCATION_NAME in pdf.attachments:
            raise PacketError(f"{name} is already a revocation packet; revoke the original packet")
        if AUDIT_NAME not in pdf.attachments:
            raise PacketError(f"{name} is not a finalized consentkit packet (no {AUDIT_NAME})")
        try:
            audit = json.loads(pdf.attachments[AUDIT_NAME].get_file().read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PacketError(f"{name}: {AUDIT_NAME} is not valid JSON") from exc
        if not isinstance(audit, dict) or audit.get("schema") != AUDIT_SCHEMA:
            raise PacketError(f"{name}: {AUDIT_NAME} is not a {AUDIT_SCHEMA} record")
        intents = pdf.Root.get("/OutputIntents")
        if not isinstance(intents, pikepdf.Array) or len(intents) == 0:
            raise PacketError(f"{name} has no PDF/A OutputIntent to carry over")
        return audit, page_sizes(pdf)[0]


def _local(value: datetime, time_zone: str) -> str:
    return format_datetime(value, time_zone, "en-US").replace("\u202f", " ")


def _page(record: dict[str, Any], audit: dict[str, Any], *, page_size: tuple[float, float]) -> bytes:
    """The revocation page (reportlab, embedded fonts only)."""
    fonts = font_set()
    buffer = io.BytesIO()
    doc, width = certificate_document(
        buffer, fonts, page_size=page_size, title=f"Revocation of consent packet {record['packet_id']}"
    )
    w = _Writer(fonts)
    original = record["original"]
    revoked = datetime.fromisoformat(record["revoked_at"])
    zone = str(record["time_zone"])
    when = f"{record['revoked_at'].replace('T', ' ').replace('Z', ' UTC')}  ({_local(revoked, zone)})"
    signed = [d for d in audit.get("documents", []) if d.get("signature_places")]
    signers = ", ".join(f"{s.get('full_name')} ({s.get('key')})" for s in audit.get("signers", []))
    seal = record.get("seal")
    story: list[Any] = [
        w.para("Revocation of consent", w.title),
        w.para(f"Packet {record['packet_id']} · {record.get('practice_name') or ''}", w.subheading),
        w.para(
            f"The consent given in packet {record['packet_id']} was withdrawn. From the time below, the "
            "consents the packet records are no longer in effect. The signed packet is embedded in this "
            f"file unchanged as {ORIGINAL_NAME}; this record is embedded as {REVOCATION_NAME}, and the "
            f"consents, now inactive, as FHIR resources in {FHIR_NAME}."
        ),
        w.para("Revocation", w.heading),
        w.rows(
            [
                ("Revoked", when),
                ("Recorded by", str(record["revoked_by"])),
                ("Reason", str(record["reason"])),
                ("Client id", str(record.get("client_id") or "")),
            ],
            width,
        ),
        w.para("The revoked packet", w.heading),
        w.rows(
            [
                ("Packet id", str(record["packet_id"])),
                ("File", f"{original['file']} (embedded as {ORIGINAL_NAME})"),
                ("SHA-256", str(original["sha256"])),
                ("Size", f"{original['size']} bytes, {original['pages']} pages"),
                ("Finalized", str(original.get("finalized_at") or "")),
                ("Sealed by", str(original.get("sealed_by") or "not sealed")),
                ("Signed by", signers),
                ("Documents", "; ".join(str(d.get("title")) for d in signed)),
            ],
            width,
        ),
        w.para("Seal", w.heading),
        w.para(
            f"This file is sealed with a PAdES certification signature by {seal['signer']}. It covers "
            "the whole file; any later change breaks it."
            if seal
            else "This file is not sealed. Changes made after it was written cannot be detected from "
            "the file alone."
        ),
        w.para(
            f"Verify this file with: consentkit verify FILE.pdf --trust CA.pem. {NOT_LEGAL_ADVICE}", w.small
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


def _assemble(
    page: bytes,
    *,
    original: bytes,
    files: list[tuple[str, bytes, str, pikepdf.Name, str]],
    title: str,
    subject: str,
    now: datetime,
) -> bytes:
    try:
        with pikepdf.open(io.BytesIO(page)) as pdf, pikepdf.open(io.BytesIO(original)) as source:
            # The original's ICC output profile (from the PDF/A converter) serves this file too.
            pdf.Root.OutputIntents = pikepdf.Array(
                [pdf.copy_foreign(source.make_indirect(intent)) for intent in source.Root.OutputIntents]
            )
            attach_associated_files(pdf, files, now)
            for key in list(pdf.docinfo.keys()):  # reportlab's; the XMP below writes its own
                del pdf.docinfo[key]
            with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
                meta["pdfaid:part"] = "3"
                meta["pdfaid:conformance"] = "B"
                meta["dc:title"] = title
                meta["dc:description"] = subject
                meta["xmp:CreatorTool"] = f"consentkit {__version__}"
                meta["pdf:Producer"] = f"consentkit {__version__}"
                for key in ("xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate"):
                    meta[key] = now.isoformat()
            out = io.BytesIO()
            pdf.save(out, deterministic_id=True)
    except pikepdf.PdfError as exc:
        raise PacketError(f"cannot assemble the revocation packet ({exc})") from exc
    return out.getvalue()


def revoke_packet(
    archive: str | Path,
    *,
    reason: str,
    by: str,
    out: str | Path,
    now: datetime | None = None,
    seal: SealConfig | None = None,
    timestamp_url: str | None = None,
) -> RevocationResult:
    """Write a revocation packet for a finalized archive; the archive itself is only read.

    Args:
        archive: the finalized (usually sealed) archive whose consent is withdrawn.
        reason: why, in one line (e.g. ``client withdrew consent by phone``).
        by: who records the revocation (a name, as it should appear on the page).
        out: the revocation packet to create; an existing file is never replaced.
        now: the revocation time (default: now, UTC); timezone-aware.
        seal: the practice's sealing certificate; ``None`` leaves the packet unsealed.
        timestamp_url: an RFC 3161 timestamp server for the seal (PAdES B-T).

    Returns:
        What was written.

    Raises:
        OutputExistsError: ``out`` exists.
        InputError: ``reason`` or ``by`` is empty, too long or has control characters, or
            ``now`` has no time zone or lies before the packet was finalized.
        PacketError: ``archive`` cannot be read or is not a finalized consentkit packet.
        SigningError: sealing failed (or a timestamp URL was given without a seal).
    """
    archive, out = Path(archive), Path(out)
    reason, by = _text(reason, "reason", _MAX_REASON), _text(by, "by", _MAX_BY)
    if now is not None and now.tzinfo is None:
        raise InputError("must carry a time zone", field="now")
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    if timestamp_url and seal is None:
        raise SigningError("a timestamp URL needs a seal certificate (the timestamp is part of the seal)")
    if out.exists():
        raise OutputExistsError(f"{out.name} already exists; refusing to overwrite it")
    try:
        original = archive.read_bytes()
    except OSError as exc:
        raise PacketError(f"cannot read {archive.name} ({exc.strerror})") from exc
    audit, page_size = _original_parts(original, archive.name)
    packet_id = str(audit.get("packet_id") or "")
    try:
        finalized = datetime.fromisoformat(str(audit["finalized_at"]))
    except (KeyError, ValueError) as exc:
        raise PacketError(f"{archive.name}: {AUDIT_NAME} has no valid finalized_at") from exc
    if now < finalized - CLOCK_SKEW:
        raise InputError("lies before the packet was finalized", field="now")
    bundle = archive_bundle(original, source=archive.name, revoked_at=now)
    loaded = load_seal(seal) if seal is not None else None
    zone = str(audit.get("time_zone") or "UTC")
    record: dict[str, Any] = {
        "schema": REVOCATION_SCHEMA,
        "packet_id": packet_id,
        "client_id": audit.get("client_id"),
        "practice_name": audit.get("practice_name"),
        "revoked_at": utc_text(now),
        "revoked_at_local": _local(now, zone),
        "time_zone": zone,
        "revoked_by": by,
        "reason": reason,
        "original": {
            "file": archive.name,
            "embedded_as": ORIGINAL_NAME,
            "sha256": hashlib.sha256(original).hexdigest(),
            "size": len(original),
            "pages": audit.get("pages"),
            "finalized_at": audit.get("finalized_at"),
            "sealed_by": (audit.get("seal") or {}).get("signer"),
        },
        "fhir": {"embedded_as": FHIR_NAME, "status": "inactive"},
        "seal": None
        if loaded is None
        else {
            "signer": loaded.subject,
            "level": "PAdES B-T" if timestamp_url else "PAdES B-B",
            "timestamp_url": timestamp_url,
            "field": SEAL_FIELD,
            "certificates": list(loaded.certificates),
        },
        "created_by": f"consentkit {__version__}",
        "note": NOT_LEGAL_ADVICE,
    }
    page = _page(record, audit, page_size=page_size)
    practice = str(audit.get("practice_name") or "")
    data = _assemble(
        page,
        original=original,
        files=[
            (
                REVOCATION_NAME,
                (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
                "application/json",
                pikepdf.Name.Data,
                f"Revocation record: who, when, why, and the original's SHA-256 ({REVOCATION_SCHEMA})",
            ),
            (
                FHIR_NAME,
                bundle_json(bundle),
                FHIR_MIME,
                pikepdf.Name.Data,
                "FHIR R4B Consent resources of the revoked packet, status inactive (a collection Bundle)",
            ),
            (
                ORIGINAL_NAME,
                original,
                "application/pdf",
                pikepdf.Name.Source,
                "The revoked packet's archive, unchanged",
            ),
        ],
        title=f"Revocation of consent packet {packet_id}",
        subject=f"{practice}: revocation of consent packet {packet_id}"
        if practice
        else f"Revocation of consent packet {packet_id}",
        now=now,
    )
    if loaded is not None:
        data = seal_pdf(
            data, loaded, timestamp_url=timestamp_url, reason=f"Revocation of consent packet {packet_id}"
        )
    write_new(out, data)
    return RevocationResult(
        path=out,
        packet_id=packet_id,
        revoked_at=now,
        sha256=hashlib.sha256(data).hexdigest(),
        original_sha256=record["original"]["sha256"],
        sealed_by=loaded.subject if loaded is not None else None,
        record=record,
    )
