"""The batch folder's lock, and what a killed run leaves running.

Only one batch writes into a folder at a time: the lock is an ``flock`` on
``.consentkit-batch.lock``, which the operating system releases when the process dies, however it
dies. The lock file also records the LibreOffice profiles the run's converters use. LibreOffice
runs in its own session (so that a timeout can kill it whole), which means it outlives a batch
killed with SIGKILL; the next run, once it holds the lock, ends the processes still using those
profiles and removes the profiles.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from .._files import NotRegularFileError, open_private
from ..convert import end_profiles
from ..errors import OutputExistsError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "BatchLock"]

LOCK_NAME = ".consentkit-batch.lock"
_PROFILE_PREFIX = "consentkit-lo-profile-"


class BatchLock:
    """Holds the lock of a batch folder and the record of the run's LibreOffice profiles."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._profiles: list[str] = []
        self._guard = threading.Lock()
        self._write()

    @classmethod
    @contextlib.contextmanager
    def acquire(cls, out_dir: Path) -> Iterator[BatchLock]:
        """Lock ``out_dir``, ending what an earlier, killed run left running.

        Raises:
            OutputExistsError: another batch holds the lock.
        """
        try:
            fd = open_private(out_dir / LOCK_NAME)
        except NotRegularFileError as exc:
            raise OutputExistsError(f"{out_dir.name}/{LOCK_NAME} {exc.strerror}") from exc
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise OutputExistsError(
                        f"another batch is writing to {out_dir.name}; wait for it to finish"
                    ) from None
            _end_leftovers(os.pread(fd, 1 << 20, 0))
            yield cls(fd)
        finally:
            os.close(fd)

    def record_profile(self, profile: Path) -> None:
        """Note a LibreOffice profile this run uses."""
        with self._guard:
            self._profiles.append(str(profile))
            self._write()

    def _write(self) -> None:
        data = json.dumps({"pid": os.getpid(), "profiles": self._profiles}).encode("utf-8")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)


def _end_leftovers(record: bytes) -> None:
    """End the LibreOffice processes using the profiles of a dead run; remove those profiles."""
    try:
        profiles = [Path(p) for p in json.loads(record.decode("utf-8")).get("profiles", [])]
    except (ValueError, AttributeError, TypeError):
        return
    end_profiles(profiles)
