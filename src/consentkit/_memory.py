"""Packets held in memory: what a packet folder holds, as bytes.

A web backend renders a packet in one request and finalizes it in another, possibly on another
machine; it keeps the packet in its own store (a database row, an object store) rather than in a
folder that must survive between requests. :class:`Packet` is that value: the manifest, the
reviewed ``packet.pdf`` and the documents, with :meth:`Packet.to_bytes` / :meth:`Packet.from_bytes`
to store it and :meth:`Packet.read` / :meth:`Packet.write` to move it to and from a folder.
Restoring checks every file against the SHA-256 the manifest records, so a packet changed in the
store is refused rather than signed.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ._files import (
    DIR_MODE,
    owner_tag,
    private_dir,
    remove_dead_leftovers,
    replace_dir,
    sync_folder,
    write_private,
)
from .errors import OutputExistsError, PacketError, RecordError
from .records import MANIFEST_NAME, PACKET_NAME, Manifest

__all__ = ["Packet", "temporary_folder"]

#: A packet's bytes are read back only up to these sizes (outside input).
MAX_PACKET_BYTES = 256 * 1024 * 1024
MAX_PACKET_FILES = 200
_ARCHIVE_NAME = "archive.pdf"
_FIXED_TIME = (2020, 2, 2, 0, 0, 0)
_TEMP_PREFIX = "consentkit-packet-"


@attrs.frozen
class Packet:
    """A rendered packet in memory.

    Attributes:
        manifest: the packet's manifest.
        packet_pdf: ``packet.pdf``, the merged PDF the signers review.
        files: every other file of the packet folder by name: each document's DOCX and PDF.
    """

    manifest: Manifest
    packet_pdf: bytes = attrs.field(repr=False)
    files: Mapping[str, bytes] = attrs.field(factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"Packet(packet_id={self.manifest.packet_id!r}, documents={len(self.manifest.documents)})"

    @property
    def packet_id(self) -> str:
        return self.manifest.packet_id

    # --- folders ----------------------------------------------------------------------------------

    @classmethod
    def read(cls, folder: str | Path) -> Packet:
        """The packet a folder written by :func:`~consentkit.render_packet` holds.

        Raises:
            PacketError: a file is missing, unreadable, or not the one the manifest records.
        """
        folder = Path(folder)
        try:
            manifest = Manifest.from_json((folder / MANIFEST_NAME).read_bytes())
        except FileNotFoundError as exc:
            raise PacketError(
                f"{folder.name}: no {MANIFEST_NAME}; is this a folder written by render?"
            ) from exc
        except OSError as exc:
            raise PacketError(f"{folder.name}/{MANIFEST_NAME} cannot be read ({exc.strerror})") from exc
        except RecordError as exc:
            raise PacketError(f"{folder.name}/{MANIFEST_NAME}: {exc}") from exc
        files: dict[str, bytes] = {}
        for name in (PACKET_NAME, *_document_files(manifest)):
            try:
                files[name] = (folder / name).read_bytes()
            except OSError as exc:
                raise PacketError(f"{folder.name}/{name} cannot be read ({exc.strerror})") from exc
        return cls._checked(manifest, files, where=folder.name)

    def write(self, folder: str | Path) -> Path:
        """Write the packet as a packet folder (whole or not at all), like
        :func:`~consentkit.render_packet` does.

        Raises:
            OutputExistsError: ``folder`` holds a finalized archive or files of something else.
        """
        folder = Path(folder)
        if folder.is_dir() and (folder / _ARCHIVE_NAME).exists():
            raise OutputExistsError(f"{folder.name} holds a finalized archive; it is never overwritten")
        if folder.is_dir() and any(folder.iterdir()) and not (folder / MANIFEST_NAME).is_file():
            raise OutputExistsError(f"{folder.name} is not empty and is not a consentkit packet folder")
        folder.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        remove_dead_leftovers(folder.parent, (f".{folder.name}.staging-",))
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.staging-{owner_tag()}-", dir=folder.parent))
        try:
            for name, data in {MANIFEST_NAME: self.manifest.to_json(), **self._all_files()}.items():
                write_private(staging / name, data)
            sync_folder(staging)
            replace_dir(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return folder

    # --- bytes ------------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The packet as one ZIP file (the folder's files, stored uncompressed: PDFs and DOCX files
        are compressed already), for a database or object store."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            for name, data in {MANIFEST_NAME: self.manifest.to_json(), **self._all_files()}.items():
                info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
                info.external_attr = 0o600 << 16
                archive.writestr(info, data)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Packet:
        """The packet :meth:`to_bytes` stored.

        Raises:
            PacketError: the data is not such a packet, is too large, or a file differs from the
                one the manifest records.
        """
        if len(data) > MAX_PACKET_BYTES:
            raise PacketError(f"the packet is larger than {MAX_PACKET_BYTES // (1024 * 1024)} MB")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = archive.infolist()
                if len(members) > MAX_PACKET_FILES:
                    raise PacketError("the packet holds too many files")
                if sum(m.file_size for m in members) > MAX_PACKET_BYTES:
                    raise PacketError("the packet's files are too large")
                contents = {m.filename: archive.read(m) for m in members}
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
            raise PacketError("not a packet (the data is not a packet's ZIP file)") from exc
        raw = contents.pop(MANIFEST_NAME, None)
        if raw is None:
            raise PacketError(f"not a packet (no {MANIFEST_NAME})")
        try:
            manifest = Manifest.from_json(raw)
        except RecordError as exc:
            raise PacketError(f"{MANIFEST_NAME}: {exc}") from exc
        return cls._checked(manifest, contents, where="the packet")

    # --- helpers ----------------------------------------------------------------------------------

    def _all_files(self) -> dict[str, bytes]:
        return {PACKET_NAME: self.packet_pdf, **dict(self.files)}

    @classmethod
    def _checked(cls, manifest: Manifest, files: dict[str, bytes], *, where: str) -> Packet:
        expected: dict[str, str | None] = {}
        if manifest.packet is None:
            raise PacketError(f"{where}: the manifest records no {PACKET_NAME} (rendering did not finish)")
        expected[PACKET_NAME] = manifest.packet.sha256
        for document in manifest.documents:
            expected[document.docx] = document.docx_sha256
            if document.pdf:
                expected[document.pdf] = document.pdf_sha256
        for name, digest in expected.items():
            if name not in files:
                raise PacketError(f"{where}: {name} is missing")
            if digest is not None and hashlib.sha256(files[name]).hexdigest() != digest:
                raise PacketError(f"{where}: {name} is not the file the manifest records (it was changed)")
        extra = sorted(set(files) - set(expected))
        if extra:
            raise PacketError(f"{where}: {extra[0]} is not a file of this packet")
        packet_pdf = files.pop(PACKET_NAME)
        return cls(manifest=manifest, packet_pdf=packet_pdf, files=files)


def _document_files(manifest: Manifest) -> list[str]:
    names: list[str] = []
    for document in manifest.documents:
        names.append(document.docx)
        if document.pdf:
            names.append(document.pdf)
    return names


def temporary_folder() -> Any:
    """A private folder (0700) for one in-memory operation, removed afterwards; folders left by a
    killed process are removed by the next one (their names carry their owner's process)."""
    root = Path(tempfile.gettempdir())
    remove_dead_leftovers(root, (_TEMP_PREFIX,))
    return private_dir(root, f"{_TEMP_PREFIX}{owner_tag()}-")
