"""Finalize a rendered packet: check the signatures, stamp them, add the audit certificate, seal."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import pikepdf

from .._files import write_new
from .._memory import Packet
from .._version import __version__
from ..errors import InputError, OutputExistsError, PacketError, SigningError
from ..pdf.embed import AssociatedFile
from ..pdf.fingerprint import page_fingerprints
from ..pdf.fonts import font_set
from ..pdf.merge import page_sizes
from ..records import MANIFEST_NAME, PACKET_NAME, AuditRecord, Manifest, PacketFile, SealRecord
from ..records import read_manifest as records_read_manifest
from ._anchors import find_anchors
from ._archive import assemble_archive
from ._audit import audit_record
from ._certificate import audit_pages
from ._load import load_signatures, signatures_from_dict
from ._model import Method, Signatures
from ._seal import SealConfig, load_seal, seal_info, seal_pdf
from ._stamp import Stamp, draw_overlay
from ._words import words_for

__all__ = ["FinalizeResult", "FinalizedArchive", "finalize_archive", "finalize_packet", "read_manifest"]

#: How far signing times may lie outside [rendered, finalized] (clocks of two servers differ).
CLOCK_SKEW = timedelta(minutes=5)
#: Builds more associated files from the audit record, the manifest and the reviewed packet's
#: bytes, e.g. :func:`consentkit.lifecycle.fhir_associated_files`; they are embedded before the seal.
ExtraFiles = Callable[[AuditRecord, Manifest, bytes], Sequence[AssociatedFile]]


@attrs.frozen(kw_only=True)
class _Finalized:
    """What finalize made, wherever it was put."""

    packet_id: str
    #: Pages in the archive: the reviewed pages, then the audit certificate.
    pages: int
    audit_pages: tuple[int, int]
    #: SHA-256 of the archive.
    sha256: str
    #: The seal's certificate subject, or ``None`` when not sealed.
    sealed_by: str | None
    #: The audit record embedded as ``audit.json``.
    audit: AuditRecord = attrs.field(repr=False, eq=False)

    @property
    def sealed(self) -> bool:
        return self.sealed_by is not None


@attrs.frozen(kw_only=True)
class FinalizeResult(_Finalized):
    """What :func:`finalize_packet` wrote."""

    #: The archive file.
    path: Path


@attrs.frozen(kw_only=True)
class FinalizedArchive(_Finalized):
    """An archive made in memory by :func:`finalize_archive`."""

    #: The archive's bytes (a PDF/A-3b file, sealed when a seal was given).
    data: bytes = attrs.field(repr=False)


def read_manifest(packet_dir: Path) -> Manifest:
    """Read a packet folder's ``manifest.json`` and check that it describes a complete packet.

    Raises:
        PacketError: the folder, the manifest or one of its fields is missing or malformed.
    """
    manifest = records_read_manifest(packet_dir)
    _check_complete(manifest, f"{packet_dir.name}/{MANIFEST_NAME}")
    return manifest


def _check_complete(manifest: Manifest, where: str) -> None:
    if manifest.packet is None:
        raise PacketError(f"{where} is incomplete or malformed (packet: required field is missing)")
    for number, document in enumerate(manifest.documents, start=1):
        if document.packet_pages is None:
            missing = f"documents.{number}.packet_pages: required field is missing"
            raise PacketError(f"{where} is incomplete or malformed ({missing})")
        first, last = document.packet_pages
        if not 1 <= first <= last <= manifest.packet.pages:
            raise PacketError(f"{where} is incomplete or malformed (packet_pages out of range)")


def _packet(manifest: Manifest) -> PacketFile:
    assert manifest.packet is not None  # read_manifest made sure
    return manifest.packet


def _check_identity(manifest: Manifest, signatures: Signatures, review: bytes) -> None:
    packet_id = manifest.packet_id
    if signatures.packet_id != packet_id:
        raise SigningError(
            f"the signatures are for packet {signatures.packet_id}, but this folder holds packet {packet_id}"
        )
    on_disk = hashlib.sha256(review).hexdigest()
    if on_disk != _packet(manifest).sha256:
        raise SigningError(
            "packet.pdf has changed since it was rendered (its SHA-256 no longer matches manifest.json); "
            "render the packet again and have it signed again"
        )
    if signatures.review_pdf_sha256 != on_disk:
        raise SigningError(
            "the signers reviewed a different packet.pdf (review_pdf_sha256 does not match this packet); "
            "they must sign the current version"
        )


def _check_signers(manifest: Manifest, signatures: Signatures) -> None:
    roles = {s.key: s.role for s in manifest.signers}
    places: dict[str, list[str]] = {}
    for document in manifest.documents:
        for key in document.signature_places:
            places.setdefault(key, []).append(document.id)
    for number, record in enumerate(signatures.signers, start=1):
        if record.key not in roles:
            known = ", ".join(roles) or "none"
            raise SigningError(
                f"signers.{number}: this packet has no signer {record.key} (its signers: {known})"
            )
        if record.key not in places:
            raise SigningError(
                f"signers.{number}: no document of this packet has a signature place for {record.key}"
            )
    missing = [key for key in places if signatures.signer(key) is None]
    if missing:
        details = "; ".join(f"{key} (needed by {', '.join(places[key])})" for key in missing)
        raise SigningError(f"missing signature: {details}")


def _check_times(manifest: Manifest, signatures: Signatures, now: datetime) -> None:
    rendered = manifest.generated_at
    for number, record in enumerate(signatures.signers, start=1):
        if record.signed_at > now + CLOCK_SKEW:
            raise SigningError(f"signers.{number}.signed_at: lies in the future")
        if rendered is not None and record.signed_at < rendered - CLOCK_SKEW:
            raise SigningError(f"signers.{number}.signed_at: is before the packet was rendered")


def _time_zone(manifest: Manifest, fallback: str | None) -> str:
    zone = manifest.time_zone or fallback or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PacketError(f"unknown time zone {zone!r}") from exc
    return zone


def finalize_packet(
    packet_dir: str | Path | Packet,
    signatures: Signatures | Mapping[str, Any] | str | Path,
    out: str | Path,
    *,
    seal: SealConfig | None = None,
    timestamp_url: str | None = None,
    now: datetime | None = None,
    time_zone: str | None = None,
    extra_files: ExtraFiles | None = None,
) -> FinalizeResult:
    """Turn a rendered, signed packet into its archival PDF/A-3 file.

    Every signature is drawn at its place over the reviewed pages (the reviewed content stays as
    it was), every page gets a footer, the audit certificate is appended, ``audit.json`` and the
    reviewed ``packet.pdf`` are embedded as associated files, and with ``seal`` the result is
    sealed with a PAdES certification signature as the very last step. Nothing is written unless
    everything succeeds; an existing ``out`` is never replaced.

    Args:
        packet_dir: the folder ``render`` wrote (``manifest.json``, ``packet.pdf``, ...), or the
            :class:`~consentkit.Packet` it holds.
        signatures: the signatures, as :class:`Signatures`, as plain data (the JSON object), or
            the path of their JSON file.
        out: the archive file to create.
        seal: the practice's sealing certificate; ``None`` leaves the archive unsealed.
        timestamp_url: an RFC 3161 timestamp server for the seal (PAdES B-T).
        now: the finalize time (default: now, UTC).
        time_zone: the practice's IANA time zone for the audit certificate, used when the
            manifest does not name one (default UTC).
        extra_files: builds more associated files to embed (called once the audit record is
            complete, before sealing).

    Returns:
        What was written.

    Raises:
        OutputExistsError: ``out`` exists.
        InputError: the signatures file is invalid.
        PacketError: the packet folder is incomplete.
        SigningError: a signer is missing or unexpected, the packet changed since rendering, the
            signatures are for another packet or version, a signature place is missing, or
            sealing failed.
    """
    out = Path(out)
    if out.exists():
        raise OutputExistsError(f"{out.name} already exists; refusing to overwrite it")
    archive = finalize_archive(
        packet_dir,
        signatures,
        seal=seal,
        timestamp_url=timestamp_url,
        now=now,
        time_zone=time_zone,
        extra_files=extra_files,
    )
    write_new(out, archive.data)
    facts = {f.name: getattr(archive, f.name) for f in attrs.fields(_Finalized)}
    return FinalizeResult(path=out, **facts)


def finalize_archive(
    packet: Packet | str | Path,
    signatures: Signatures | Mapping[str, Any] | str | Path,
    *,
    seal: SealConfig | None = None,
    timestamp_url: str | None = None,
    now: datetime | None = None,
    time_zone: str | None = None,
    extra_files: ExtraFiles | None = None,
) -> FinalizedArchive:
    """:func:`finalize_packet` in memory: the archive as bytes, nothing written.

    For a web backend that keeps packets and archives in its own store: ``packet`` is the
    :class:`~consentkit.Packet` :func:`~consentkit.render_packet_bytes` returned (or restored with
    :meth:`~consentkit.Packet.from_bytes`), or a packet folder; ``signatures`` are
    :class:`Signatures`, the same as plain data (the JSON object :func:`signatures_from_dict`
    reads, a drawn image as PNG bytes or base64), or a signatures file. Safe to call from threads
    and from inside a running asyncio event loop.

    Raises:
        As :func:`finalize_packet`, except OutputExistsError.
    """
    if isinstance(packet, Packet):
        manifest, review, where = packet.manifest, packet.packet_pdf, "the packet"
        _check_complete(manifest, f"{where}'s {MANIFEST_NAME}")
    else:
        manifest, review, where = _read_folder(Path(packet))
    return _finalize(
        manifest,
        review,
        where,
        signatures,
        seal=seal,
        timestamp_url=timestamp_url,
        now=now,
        time_zone=time_zone,
        extra_files=extra_files,
    )


def _read_folder(packet_dir: Path) -> tuple[Manifest, bytes, str]:
    manifest = read_manifest(packet_dir)
    try:
        review = (packet_dir / PACKET_NAME).read_bytes()
    except OSError as exc:
        raise PacketError(f"{packet_dir.name}/{PACKET_NAME} cannot be read ({exc.strerror})") from exc
    return manifest, review, packet_dir.name


def _finalize(
    manifest: Manifest,
    review: bytes,
    where: str,
    signatures: Signatures | Mapping[str, Any] | str | Path,
    *,
    seal: SealConfig | None,
    timestamp_url: str | None,
    now: datetime | None,
    time_zone: str | None,
    extra_files: ExtraFiles | None,
) -> FinalizedArchive:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if timestamp_url and seal is None:
        raise SigningError("a timestamp URL needs a seal certificate (the timestamp is part of the seal)")
    if isinstance(signatures, Mapping):
        signatures = signatures_from_dict(dict(signatures))
    elif not isinstance(signatures, Signatures):
        signatures = load_signatures(signatures)
    _check_identity(manifest, signatures, review)
    _check_signers(manifest, signatures)
    _check_times(manifest, signatures, now)
    zone = _time_zone(manifest, time_zone)
    loaded = load_seal(seal) if seal is not None else None
    sealing = seal_info(loaded, timestamp_url) if loaded is not None else None
    archive, record = _assemble(
        where,
        manifest,
        signatures,
        review,
        zone=zone,
        now=now,
        seal_info=sealing,
        extra_files=extra_files,
    )
    if loaded is not None:
        reason = f"Sealed archive of consent packet {signatures.packet_id}"
        archive = seal_pdf(archive, loaded, timestamp_url=timestamp_url, reason=reason)
    assert record.audit_pages is not None  # _assemble set them
    first, last = record.audit_pages
    return FinalizedArchive(
        data=archive,
        packet_id=signatures.packet_id,
        pages=last,
        audit_pages=(first, last),
        sha256=hashlib.sha256(archive).hexdigest(),
        sealed_by=loaded.subject if loaded is not None else None,
        audit=record,
    )


def _assemble(
    where: str,
    manifest: Manifest,
    signatures: Signatures,
    review: bytes,
    *,
    zone: str,
    now: datetime,
    seal_info: SealRecord | None,
    extra_files: ExtraFiles | None = None,
) -> tuple[bytes, AuditRecord]:
    """The unsealed archive and its audit record."""
    try:
        with pikepdf.open(io.BytesIO(review)) as pdf:
            count = len(pdf.pages)
            sizes = page_sizes(pdf)
            fingerprints = page_fingerprints(pdf, count, layout="reviewed")
    except pikepdf.PdfError as exc:
        raise PacketError(f"{where}/{PACKET_NAME} is not a readable PDF ({exc})") from exc
    if count != _packet(manifest).pages:
        raise PacketError(f"{PACKET_NAME} has {count} pages, the manifest says {_packet(manifest).pages}")
    stamps = []
    for anchor in find_anchors(review, manifest.documents):
        signer = signatures.signer(anchor.key)
        assert signer is not None  # _check_signers made sure
        stamps.append(Stamp(anchor=anchor, record=signer))
    fonts = font_set()
    for number, signer in enumerate(signatures.signers, start=1):
        # A typed name the stamp fonts cannot draw would show as question marks, not the name.
        if signer.method is Method.TYPED and not fonts.can_draw(signer.full_name):
            raise InputError(
                "has a character no installed font can draw in the signature stamp; install a font "
                "that covers it (CJK: fonts-droid-fallback)",
                field=f"signers.{number}.full_name",
            )
    record = audit_record(
        manifest=manifest,
        signatures=signatures,
        review_sha256=hashlib.sha256(review).hexdigest(),
        review_pages=count,
        fingerprints=fingerprints,
        time_zone=zone,
        now=now,
        seal=seal_info,
    )
    certificate = audit_pages(record, fonts, page_size=sizes[0])
    with pikepdf.open(io.BytesIO(certificate)) as drawn:
        extra = len(drawn.pages)
    record = attrs.evolve(record, audit_pages=(count + 1, count + extra), pages=count + extra)
    # The footer's date is the day the last signer signed, where the practice is.
    last_signed = max(r.signed_at for r in signatures.signers)
    overlay, figures = draw_overlay(
        [*sizes, *([sizes[0]] * extra)],
        stamps,
        fonts,
        packet_id=signatures.packet_id,
        signed_on=last_signed.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d"),
        time_zone=zone,
    )
    practice = manifest.practice_name
    archive = assemble_archive(
        review,
        audit_pages=certificate,
        overlay=overlay,
        figures=figures,
        audit_json=record.to_json(),
        title=words_for(manifest.locale).stamp("archive_title", packet_id=signatures.packet_id),
        lang=manifest.locale,
        subject=f"{practice}: signed consent packet with audit certificate"
        if practice
        else "Signed consent packet",
        creator_tool=f"consentkit {__version__}",
        now=now,
        extra_files=tuple(extra_files(record, manifest, review)) if extra_files is not None else (),
    )
    return archive, record
