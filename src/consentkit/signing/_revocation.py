"""Revocation packets: written by :func:`revoke_archive`, read by
:func:`~consentkit.signing.verify_packet`.

The original archive is never changed. A revocation packet is an archival PDF/A-3 file of its
own: a revocation page (drawn like the audit certificate, in the packet's language),
``revocation.json`` (the record: who withdrew the consent, when, why, and the SHA-256 of the
original archive), the consents with status ``inactive`` (``consent.fhir.json``, built by the
caller: :func:`consentkit.lifecycle.revoke_packet` passes the FHIR Consents), and the original
archive, byte for byte, as ``original.pdf``. It is optionally sealed like an archive, the seal
being the last write.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import attrs
import pikepdf

from .._files import write_new
from .._version import __version__
from ..errors import InputError, OutputExistsError, PacketError, SigningError
from ..pdf.embed import AssociatedFile, attach_associated_files, read_associated_file
from ..pdf.fonts import font_set
from ..pdf.merge import page_sizes
from ..pdf.metadata import edit_metadata
from ..records import AUDIT_NAME, AUDIT_SCHEMA, AuditRecord, RecordError, utc_text
from ._audit import NOT_LEGAL_ADVICE, local_text
from ._certificate import CertificateWriter, utc_shown
from ._finalize import CLOCK_SKEW
from ._seal import SealConfig, load_seal, seal_info, seal_pdf
from ._words import words_for

__all__ = [
    "ORIGINAL_NAME",
    "REVOCATION_NAME",
    "REVOCATION_SCHEMA",
    "Consents",
    "RevocationResult",
    "check_original",
    "describe",
    "read_revocation",
    "revoke_archive",
]

REVOCATION_SCHEMA = "consentkit.revocation/1"
#: The names of the associated files in a revocation packet.
REVOCATION_NAME = "revocation.json"
ORIGINAL_NAME = "original.pdf"


class _Report(Protocol):
    @property
    def intact(self) -> bool: ...
    @property
    def problems(self) -> list[str]: ...
    @property
    def packet_id(self) -> str | None: ...


def read_revocation(pdf: pikepdf.Pdf) -> tuple[dict[str, Any] | None, bytes | None, str | None]:
    """The revocation record, the embedded original archive, and what is wrong with them.

    Checks that ``revocation.json`` is a ``consentkit.revocation/1`` record attached as
    ``/Data``, that ``original.pdf`` is attached as ``/Source`` and that its SHA-256 is the one
    the record names.

    Returns:
        ``(record, original, problem)``: ``record`` is ``None`` when it cannot be read;
        ``original`` is ``None`` unless it matches the record; ``problem`` is ``None`` when all
        is consistent, else one line saying what is not.
    """
    found = read_associated_file(pdf, REVOCATION_NAME)
    if found is None:
        return None, None, f"no {REVOCATION_NAME} attached"
    data, relationship = found
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, None, f"{REVOCATION_NAME} is not valid JSON"
    if not isinstance(record, dict) or record.get("schema") != REVOCATION_SCHEMA:
        return None, None, f"{REVOCATION_NAME} is not a {REVOCATION_SCHEMA} record"
    try:
        for key in ("packet_id", "revoked_by", "reason"):
            if not isinstance(record[key], str) or not record[key]:
                raise ValueError(key)
        datetime.fromisoformat(str(record["revoked_at"]))
        expected = str(record["original"]["sha256"])
    except (KeyError, TypeError, ValueError) as exc:
        return record, None, f"{REVOCATION_NAME} is incomplete ({exc})"
    if relationship != "/Data":
        return record, None, f"{REVOCATION_NAME} is not attached as /Data"
    original = read_associated_file(pdf, ORIGINAL_NAME)
    if original is None:
        return record, None, f"no {ORIGINAL_NAME} attached: the revoked packet is missing"
    content, relationship = original
    if hashlib.sha256(content).hexdigest() != expected:
        return record, None, f"the attached {ORIGINAL_NAME} does not match the SHA-256 in {REVOCATION_NAME}"
    if relationship != "/Source":
        return record, None, f"{ORIGINAL_NAME} is not attached as /Source"
    return record, content, None


def describe(record: dict[str, Any]) -> str:
    """``revoked on 2026-12-01 14:00:00 UTC: REASON`` (who revoked is a name: kept out; ``verify
    --show-names`` prints it)."""
    when = str(record["revoked_at"]).replace("T", " ").replace("Z", " UTC")
    return f"revoked on {when}: {record['reason']}"


def check_original(original: bytes, verify: Callable[[Path], _Report]) -> tuple[bool, str]:
    """Verify the embedded original archive with ``verify`` (from a private temporary file).

    Returns:
        Whether it is intact, and one line saying so (or what failed).
    """
    with tempfile.TemporaryDirectory(prefix="consentkit-verify-") as folder:
        path = Path(folder) / ORIGINAL_NAME
        path.write_bytes(original)  # the folder is private (mode 0700)
        report = verify(path)
    digest = hashlib.sha256(original).hexdigest()
    if report.intact:
        return True, (
            f"{ORIGINAL_NAME} (packet {report.packet_id}, SHA-256 {digest[:16]}…) is kept unchanged "
            "and verifies as intact"
        )
    problems = "; ".join(report.problems) or "not intact"
    return False, f"the embedded {ORIGINAL_NAME} does not verify: {problems}"


# --- writing ------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_REASON = 1000
_MAX_BY = 200

#: Builds the revoked packet's consents, status ``inactive``, as one associated file from the
#: original archive's bytes, its file name (for messages) and the revocation time.
Consents = Callable[[bytes, str, datetime], AssociatedFile]


@attrs.frozen
class RevocationResult:
    """What :func:`revoke_archive` wrote."""

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


def _original_parts(data: bytes, name: str) -> tuple[AuditRecord, tuple[float, float]]:
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
            raw = json.loads(pdf.attachments[AUDIT_NAME].get_file().read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PacketError(f"{name}: {AUDIT_NAME} is not valid JSON") from exc
        if not isinstance(raw, dict) or raw.get("schema") != AUDIT_SCHEMA:
            raise PacketError(f"{name}: {AUDIT_NAME} is not a {AUDIT_SCHEMA} record")
        try:
            audit = AuditRecord.from_json(raw)
        except RecordError as exc:
            raise PacketError(f"{name}: {AUDIT_NAME} is incomplete or malformed ({exc})") from exc
        intents = pdf.Root.get("/OutputIntents")
        if not isinstance(intents, pikepdf.Array) or len(intents) == 0:
            raise PacketError(f"{name} has no PDF/A OutputIntent to carry over")
        return audit, page_sizes(pdf)[0]


def _page(record: dict[str, Any], audit: AuditRecord, *, page_size: tuple[float, float]) -> bytes:
    """The revocation page, in the language of the revoked packet."""
    words = words_for(audit.locale)
    text, label = words.revocation, words.revocation_label
    w = CertificateWriter(
        font_set(),
        page_size=page_size,
        title=text("pdf_title", packet_id=record["packet_id"]),
        lang=words.locale,
    )
    original = record["original"]
    zone = str(record["time_zone"])
    moment = words.moment(datetime.fromisoformat(record["revoked_at"]), zone)
    revoked = f"{utc_shown(record['revoked_at'])}  ({moment})"
    signed = [d for d in audit.documents if d.signature_places]
    signers = ", ".join(f"{s.full_name} ({s.key})" for s in audit.signers)
    seal = record.get("seal")
    intro = text(
        "intro",
        packet_id=record["packet_id"],
        original_file=ORIGINAL_NAME,
        record_file=REVOCATION_NAME,
        consents_file=(record.get("fhir") or {}).get("embedded_as", ""),
    )
    return w.build(
        [
            w.para(text("title"), w.title),
            w.para(
                text(
                    "packet_line", packet_id=record["packet_id"], practice=record.get("practice_name") or ""
                ),
                w.subheading,
            ),
            w.para(intro),
            w.para(text("heading_revocation"), w.heading),
            w.rows(
                [
                    (label("revoked"), revoked),
                    (label("recorded_by"), str(record["revoked_by"])),
                    (label("reason"), str(record["reason"])),
                    (label("client_id"), str(record.get("client_id") or "")),
                ]
            ),
            w.para(text("heading_packet"), w.heading),
            w.rows(
                [
                    (label("packet_id"), str(record["packet_id"])),
                    (label("file"), text("file_value", file=original["file"], embedded_as=ORIGINAL_NAME)),
                    (label("sha256"), str(original["sha256"])),
                    (label("size"), text("size_value", size=original["size"], pages=original["pages"])),
                    (label("finalized"), str(original.get("finalized_at") or "")),
                    (label("sealed_by"), str(original.get("sealed_by") or text("not_sealed_by"))),
                    (label("signed_by"), signers),
                    (label("documents"), "; ".join(d.title for d in signed)),
                ]
            ),
            w.para(text("heading_seal"), w.heading),
            w.para(text("sealed", signer=seal["signer"]) if seal else text("not_sealed")),
            w.para(f"{text('verify')} {words.audit('not_legal_advice')}", w.small),
        ]
    )


def _assemble(
    page: bytes, *, original: bytes, files: list[AssociatedFile], title: str, subject: str, now: datetime
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
            edit_metadata(
                pdf,
                title=title,
                subject=subject,
                creator_tool=f"consentkit {__version__}",
                producer=f"consentkit {__version__}",
                dates=("xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate"),
                when=now,
                pdfa_part=3,
            )
            out = io.BytesIO()
            pdf.save(out, deterministic_id=True)
    except pikepdf.PdfError as exc:
        raise PacketError(f"cannot assemble the revocation packet ({exc})") from exc
    return out.getvalue()


def revoke_archive(
    archive: str | Path,
    *,
    reason: str,
    by: str,
    out: str | Path,
    consents: Consents,
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
        consents: builds the revoked consents as one associated file (see :data:`Consents`).
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
    packet_id = audit.packet_id
    if now < audit.finalized_at - CLOCK_SKEW:
        raise InputError("lies before the packet was finalized", field="now")
    inactive = consents(original, archive.name, now)
    loaded = load_seal(seal) if seal is not None else None
    zone = audit.time_zone or "UTC"
    record: dict[str, Any] = {
        "schema": REVOCATION_SCHEMA,
        "packet_id": packet_id,
        "client_id": audit.client_id,
        "practice_name": audit.practice_name,
        "revoked_at": utc_text(now),
        "revoked_at_local": local_text(now, zone),
        "time_zone": zone,
        "revoked_by": by,
        "reason": reason,
        "original": {
            "file": archive.name,
            "embedded_as": ORIGINAL_NAME,
            "sha256": hashlib.sha256(original).hexdigest(),
            "size": len(original),
            "pages": audit.pages,
            "finalized_at": utc_text(audit.finalized_at),
            "sealed_by": audit.seal.signer if audit.seal is not None else None,
        },
        "fhir": {"embedded_as": inactive.name, "status": "inactive"},
        "seal": seal_info(loaded, timestamp_url).to_json() if loaded is not None else None,
        "created_by": f"consentkit {__version__}",
        "note": NOT_LEGAL_ADVICE,
    }
    page = _page(record, audit, page_size=page_size)
    practice = audit.practice_name or ""
    title = f"Revocation of consent packet {packet_id}"
    data = _assemble(
        page,
        original=original,
        files=[
            AssociatedFile(
                name=REVOCATION_NAME,
                data=(json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
                mime_type="application/json",
                relationship="Data",
                description="Revocation record: who, when, why, and the original's SHA-256 "
                f"({REVOCATION_SCHEMA})",
            ),
            inactive,
            AssociatedFile(
                name=ORIGINAL_NAME,
                data=original,
                mime_type="application/pdf",
                relationship="Source",
                description="The revoked packet's archive, unchanged",
            ),
        ],
        title=title,
        subject=f"{practice}: revocation of consent packet {packet_id}" if practice else title,
        now=now,
    )
    if loaded is not None:
        data = seal_pdf(data, loaded, timestamp_url=timestamp_url, reason=title)
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
