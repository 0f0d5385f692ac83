"""Files that appear whole or not at all, readable by their owner only, never written through a
symbolic link, and inputs read only when they are regular files of a bounded size.

Every file consentkit creates goes through one of the helpers here: :func:`open_private` (a file
opened without following a symbolic link at its name), :func:`write_private` (exclusive creation),
:func:`atomic_writer` / :func:`write_new` (a fresh temporary name, then a rename or link, which
replace or refuse a symbolic link, never write through it). Every outside file consentkit reads
in one piece goes through :func:`read_regular`, which refuses FIFOs, devices and folders (a FIFO
would block forever) and files over a size limit.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import OutputExistsError

__all__ = [
    "NotRegularFileError",
    "atomic_write",
    "atomic_writer",
    "dead_leftovers",
    "open_private",
    "open_regular",
    "owner_alive",
    "owner_tag",
    "private_dir",
    "read_regular",
    "remove_dead_leftovers",
    "replace_dir",
    "sha256_file",
    "sync_folder",
    "write_new",
    "write_private",
]

FILE_MODE = 0o600
DIR_MODE = 0o700
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), which tells a process from a
    later one that reuses its id."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:  # noqa: PTH123
            return handle.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError, UnicodeDecodeError):
        return None


def owner_tag() -> str:
    """A tag naming this process (``<pid>.<start time>``) for the temporary files and folders it
    leaves while it works, so that a later run can tell leftovers of a dead process (removed)
    from those of a live one (kept). Contains no ``-``."""
    pid = os.getpid()
    return f"{pid}.{_start_time(pid) or 0}"


def owner_alive(tag: str) -> bool:
    """Whether the process an :func:`owner_tag` names is still running (``True`` when the tag
    cannot be read: only a provably dead owner's leftovers are removed)."""
    pid_text, _, start = tag.partition(".")
    if not pid_text.isdigit() or not start.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return start == (_start_time(pid) or "0")
    if sys.platform != "linux":
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except OSError:
            return True
        return True
    current = _start_time(pid)
    return current is not None and current == start and _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:  # noqa: PTH123
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


class NotRegularFileError(OSError):
    """A path names a symbolic link (where none is allowed), a FIFO, a device or a folder, or a
    file larger than allowed. ``strerror`` says which, in words fit for a message."""


def open_private(path: Path, flags: int = os.O_RDWR | os.O_CREAT) -> int:
    """Open (by default create) a file of the caller's with mode 0600, never through a symbolic
    link: a link planted at ``path`` makes this fail instead of truncating or overwriting its
    target. The file must be a regular file.

    Returns:
        The open file descriptor (close-on-exec).

    Raises:
        NotRegularFileError: ``path`` is a symbolic link or not a regular file.
        OSError: it cannot be opened.
    """
    try:
        fd = os.open(path, flags | _NOFOLLOW | _CLOEXEC | _NONBLOCK, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.EEXIST and path.is_symlink()):
            raise NotRegularFileError(
                errno.ELOOP, "is a symbolic link; refusing to write through it"
            ) from exc
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFileError(errno.EINVAL, "is not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def open_regular(path: Path, *, limit: int, follow_symlinks: bool = True) -> Iterator[BinaryIO]:
    """Open an outside file for reading only if it is a regular file of at most ``limit`` bytes.

    The file is opened without blocking (a FIFO or a device never makes this wait) and checked
    with ``fstat`` on the open descriptor (so it cannot be swapped between check and read).

    Args:
        path: the file.
        limit: the largest size accepted, in bytes.
        follow_symlinks: with ``False``, a symbolic link at ``path`` is refused (a file named
            inside another file, such as a signature image, must not lead elsewhere).

    Raises:
        NotRegularFileError: not a regular file, a refused symbolic link, or larger than ``limit``.
        OSError: it cannot be opened.
    """
    flags = os.O_RDONLY | _NONBLOCK | _CLOEXEC | (0 if follow_symlinks else _NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise NotRegularFileError(errno.ELOOP, "is a symbolic link") from exc
        raise
    try:
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            raise NotRegularFileError(errno.EISDIR, "is a folder")
        if not stat.S_ISREG(status.st_mode):
            raise NotRegularFileError(errno.EINVAL, "is not a regular file")
        if status.st_size > limit:
            raise NotRegularFileError(errno.EFBIG, f"is larger than {_size(limit)}")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        yield handle


def read_regular(path: Path, *, limit: int, follow_symlinks: bool = True) -> bytes:
    """The content of an outside file that must be a regular file of at most ``limit`` bytes
    (see :func:`open_regular`).

    Raises:
        NotRegularFileError: not a regular file, a refused symbolic link, or larger than ``limit``.
        OSError: it cannot be read.
    """
    with open_regular(path, limit=limit, follow_symlinks=follow_symlinks) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # the file grew after it was opened
        raise NotRegularFileError(errno.EFBIG, f"is larger than {_size(limit)}")
    return data


def _size(limit: int) -> str:
    if limit >= 1 << 20 and limit % (1 << 20) == 0:
        return f"{limit >> 20} MB"
    if limit >= 1 << 10 and limit % (1 << 10) == 0:
        return f"{limit >> 10} KB"
    return f"{limit} bytes"


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
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, FILE_MODE)
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
    if target.is_symlink():
        os.unlink(target)  # a link is replaced, never followed
    if target.exists():
        # A fresh name each time: nothing planted at a predictable name is ever removed or reused.
        aside = target.with_name(f".{target.name}.old-{owner_tag()}-{uuid.uuid4().hex[:12]}")
        os.replace(target, aside)
        os.replace(staged, target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(staged, target)
    _fsync_dir(target.parent)


def dead_leftovers(parent: Path, prefixes: tuple[str, ...]) -> list[Path]:
    """The entries of ``parent`` named ``<prefix><owner tag>-...`` whose owner process is dead
    (see :func:`owner_tag`): what a killed process left while it worked. Symbolic links and
    entries of other users are never listed."""
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return []
    uid = os.getuid() if hasattr(os, "getuid") else None
    found = []
    for entry in entries:
        prefix = next((p for p in prefixes if entry.name.startswith(p)), None)
        if prefix is None:
            continue
        tag = entry.name[len(prefix) :].partition("-")[0]
        try:
            status = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISLNK(status.st_mode) or (uid is not None and status.st_uid != uid) or owner_alive(tag):
            continue
        found.append(Path(entry.path))
    return found


def remove_dead_leftovers(parent: Path, prefixes: tuple[str, ...]) -> int:
    """Remove :func:`dead_leftovers`; returns how many entries were removed."""
    leftovers = dead_leftovers(parent, prefixes)
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
    return len(leftovers)
