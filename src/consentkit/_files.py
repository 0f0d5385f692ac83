"""Files that appear whole or not at all, readable by their owner only."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import OutputExistsError

__all__ = [
    "atomic_write",
    "atomic_writer",
    "private_dir",
    "replace_dir",
    "sha256_file",
    "sync_folder",
    "write_new",
    "write_private",
]

FILE_MODE = 0o600
DIR_MODE = 0o700


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    The file is created with mode 0600; an existing file is replaced.
    """
    with atomic_writer(path) as handle:
        handle.write(data)


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A file handle whose content replaces ``path`` when the ``with`` block ends without an
    error (through a temporary file in the same folder, flushed, then renamed; mode 0600).

    For files too large to build in memory first (a batch report of thousands of rows).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def write_private(path: Path, data: bytes) -> None:
    """Create a file (mode 0600) that must not exist yet, inside a private staging folder.

    No temporary name and no fsync: the folder is moved into place as a whole after
    :func:`sync_folder`, so nobody sees the file before it is complete and durable.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def sync_folder(path: Path) -> None:
    """Flush a staged folder's files and the folder itself to disk before it is renamed into
    place (one fsync per file instead of one per file and one per rename)."""
    with os.scandir(path) as entries:
        files = [entry.path for entry in entries if entry.is_file(follow_symlinks=False)]
    for name in files:
        fd = os.open(name, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    _fsync_dir(path)


def write_new(path: Path, data: bytes) -> None:
    """Write a file that must not exist yet (a signed archive is never overwritten).

    The data goes to a temporary file first and is then linked into place, which fails if the
    name was taken meanwhile; nothing is left behind on failure.

    Raises:
        OutputExistsError: ``path`` exists.
    """
    if path.exists():
        raise OutputExistsError(f"{path.name} already exists; refusing to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError as exc:
            raise OutputExistsError(f"{path.name} already exists; refusing to overwrite it") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _fsync_dir(path.parent)


@contextlib.contextmanager
def private_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A temporary folder (mode 0700) inside ``parent``, removed on exit unless renamed away."""
    parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def replace_dir(staged: Path, target: Path) -> None:
    """Move a fully written folder into place, replacing an earlier version of it.

    The old folder is renamed aside first, so at every moment ``target`` is either the complete
    old version or the complete new one (or briefly absent), never a mixture.
    """
    os.chmod(staged, DIR_MODE)
    if target.exists():
        aside = target.with_name(f".{target.name}.old-{os.getpid()}")
        if aside.exists():
            shutil.rmtree(aside)
        os.replace(target, aside)
        os.replace(staged, target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(staged, target)
    _fsync_dir(target.parent)
