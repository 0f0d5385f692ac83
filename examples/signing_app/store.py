"""The app's storage: one folder per packet, signing links and copy links, all on local disk.

REPLACE IN PRODUCTION: a practice keeps this in its own database (one transaction where this module
takes a file lock) and its document store. What the replacement must keep:

* a link's token is stored only as its SHA-256 hash, so a leaked database holds no working link;
* a packet's state changes under one lock per packet, read-check-write, so two browser tabs (or two
  servers) submitting the same link store one signature;
* files are private (0600, folders 0700) and appear whole or not at all.

Layout under the data folder::

    secret                      HMAC key for the forms (made on the first run)
    links/<sha256 of token>     {"packet_id": ...}: which packet a signing link belongs to
    copies/<sha256 of token>    {"packet_id": ..., "expires_at": ...}: a link to the signed copy
    packets/<packet id>/
        state.json              the packet's signers, links, records, events (see app.py)
        lock                    the packet's lock file
        render/                 the packet folder consentkit rendered (packet.pdf, manifest.json, ...)
        pages/page-NNN.jpg      the packet's pages as images, for the signing page
        archive.pdf             the sealed archive, once every signer has signed
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["Store", "token_hash"]

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_PACKET_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


def token_hash(token: str) -> str | None:
    """The SHA-256 of a well-formed token (``secrets.token_urlsafe(32)``), else ``None``."""
    if not _TOKEN.match(token):
        return None
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file renamed over it), mode 0600."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class Store:
    """The data folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in (root, root / "links", root / "copies", root / "packets"):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        secret = root / "secret"
        if not secret.exists():
            with contextlib.suppress(FileExistsError):
                fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(secrets.token_bytes(32))
        self.secret = secret.read_bytes()

    # --- packets --------------------------------------------------------------------------------

    def packet_dir(self, packet_id: str) -> Path:
        if not _PACKET_ID.match(packet_id):
            raise KeyError(packet_id)
        return self.root / "packets" / packet_id

    def create_packet(self, packet_id: str) -> Path:
        folder = self.packet_dir(packet_id)
        folder.mkdir(mode=0o700)
        (folder / "pages").mkdir(mode=0o700)
        return folder

    @contextlib.contextmanager
    def locked(self, packet_id: str) -> Iterator[None]:
        """Hold the packet's lock: across threads and processes (``flock`` on a fresh descriptor)."""
        fd = os.open(self.packet_dir(packet_id) / "lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def read_state(self, packet_id: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.packet_dir(packet_id) / "state.json").read_bytes())
        return data

    def write_state(self, packet_id: str, state: dict[str, Any]) -> None:
        _write_private(self.packet_dir(packet_id) / "state.json", json.dumps(state, indent=1).encode())

    def packet_ids(self) -> list[str]:
        return sorted(p.name for p in (self.root / "packets").iterdir() if (p / "state.json").is_file())

    # --- links ----------------------------------------------------------------------------------

    def new_token(self, kind: str, record: dict[str, Any]) -> str:
        """A new unguessable token of ``kind`` (``links`` or ``copies``); only its hash is stored."""
        token = secrets.token_urlsafe(32)
        self.put_token(kind, token, record)
        return token

    def put_token(self, kind: str, token: str, record: dict[str, Any]) -> str:
        """Store ``record`` under the hash of ``token``; return the hash."""
        digest = token_hash(token)
        if digest is None:
            raise ValueError("not a token")
        _write_private(self.root / kind / digest, json.dumps(record).encode())
        return digest

    def find_token(self, kind: str, token: str) -> tuple[str, dict[str, Any]] | None:
        """The hash of ``token`` and what was stored with it, or ``None`` for an unknown token."""
        digest = token_hash(token)
        if digest is None:
            return None
        try:
            record: dict[str, Any] = json.loads((self.root / kind / digest).read_bytes())
        except FileNotFoundError:
            return None
        return digest, record
