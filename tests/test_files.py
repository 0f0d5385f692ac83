"""File helpers: private files that never replace anything, and staged folders flushed before use."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from consentkit._files import sync_folder, write_private


def test_write_private_creates_an_owner_only_file_and_never_replaces_one(tmp_path: Path) -> None:
    old_umask = os.umask(0)
    try:
        write_private(tmp_path / "a.bin", b"x" * 100_000)
    finally:
        os.umask(old_umask)
    assert (tmp_path / "a.bin").read_bytes() == b"x" * 100_000
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        write_private(tmp_path / "a.bin", b"other")
    assert (tmp_path / "a.bin").read_bytes() == b"x" * 100_000


def test_sync_folder_flushes_files_and_leaves_them_unchanged(tmp_path: Path) -> None:
    write_private(tmp_path / "one", b"1")
    write_private(tmp_path / "two", b"22")
    (tmp_path / "sub").mkdir()
    sync_folder(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "sub", "two"]
    assert (tmp_path / "two").read_bytes() == b"22"
