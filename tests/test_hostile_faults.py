"""LibreOffice faults and killed processes (issue 15), with the real LibreOffice.

A LibreOffice crash that has nothing to do with any document must not fail a client; a killed
``render`` or batch, and a killed LibreOffice, must leave nothing that a later run does not remove.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from consentkit.batch import generate_packets
from consentkit.convert import LibreOfficeConverter, find_soffice
from consentkit.errors import ConversionTimeout
from consentkit.models import Client, Practice

from .batch_support import assert_complete_packet, processes_running
from .conftest import DOC_DATE, EXAMPLES, ROOT

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

ONE = ["emergency_plan"]
PROFILE_PREFIX = "consentkit-lo-profile-"

_CRASHING = """#!{python}
# Crashes (SIGSEGV, like a LibreOffice dying for a reason of its own) on its first {crashes} calls,
# whatever the documents; then runs the real soffice.
import os, pathlib, signal, sys
counter = pathlib.Path({counter!r})
calls = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(calls))
if calls <= {crashes}:
    os.kill(os.getpid(), signal.SIGSEGV)
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""


def _crashing_soffice(folder: Path, crashes: int) -> tuple[Path, Path]:
    script = folder / "soffice-crashes"
    counter = folder / "calls"
    script.write_text(
        _CRASHING.format(
            python=sys.executable, crashes=crashes, counter=str(counter), real=str(find_soffice())
        )
    )
    script.chmod(0o755)
    return script, counter


def test_a_crash_unrelated_to_any_document_blames_no_client(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    soffice, counter = _crashing_soffice(tmp_path, crashes=2)
    clients = [example_clients["adult"], example_clients["couple"], example_clients["minor"]]
    results = list(
        generate_packets(
            practice, clients, tmp_path / "out", on=DOC_DATE, template_ids=ONE, workers=1, soffice=soffice
        )
    )
    # The call of all three crashed, and so did the converter's own retry; the halves then converted.
    assert sorted((r.client_id, r.status, r.error) for r in results) == sorted(
        (c.id, "ok", "") for c in clients
    )
    assert int(counter.read_text()) >= 4
    for client in clients:
        assert_complete_packet(tmp_path / "out" / client.id, archival=True)


def test_a_client_whose_conversion_always_crashes_alone_is_the_one_failed(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    soffice, _counter = _crashing_soffice(tmp_path, crashes=1000)
    (result,) = generate_packets(
        practice, [example_clients["adult"]], tmp_path / "out", template_ids=ONE, workers=1, soffice=soffice
    )
    assert result.status == "failed" and "also on a second try" in result.error
    assert (
        result.error.startswith("row 1: emergency_plan.docx:") and "soffice exit status -11" in result.error
    )


def _private_temp(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Path:
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return folder


def test_a_killed_libreoffice_leaves_no_lu_tmp_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = _private_temp(monkeypatch, tmp_path / "temp")
    docx = ROOT / "templates" / "en-US" / "emergency_plan.docx"
    killed = 0
    for limit in (0.3, 0.6, 0.9, 1.2):  # killed at different moments of its work
        with LibreOfficeConverter(timeout=limit) as converter:
            try:
                converter.convert([docx], tmp_path / "out")
            except ConversionTimeout:
                killed += 1
    assert killed
    assert sorted(p.name for p in temp.iterdir()) == []


def _wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def _consentkit(*args: str, temp: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "consentkit.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
    )


def test_a_killed_render_leaves_nothing_the_next_render_keeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = _private_temp(monkeypatch, tmp_path / "temp")
    out = tmp_path / "out" / "C-1001"
    args = (
        "render",
        "--practice",
        str(EXAMPLES / "practice.toml"),
        "--client",
        str(EXAMPLES / "clients" / "adult.toml"),
        "--out",
        str(out),
        "--date",
        "2026-11-27",
    )
    process = _consentkit(*args, temp=temp)
    try:
        profiles = lambda: list(temp.glob(f"{PROFILE_PREFIX}*"))  # noqa: E731
        converting = lambda: profiles() and processes_running(profiles()[0].as_uri())  # noqa: E731
        assert _wait_for(converting, 120), "LibreOffice never started"
        staged = list(out.parent.glob(".C-1001.staging-*"))
        assert staged and list(staged[0].glob("*.docx")), "no staged client documents to leave behind"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    (profile,) = profiles()
    assert list(out.parent.glob(".C-1001.staging-*"))  # what the killed render left
    again = _consentkit(*args, temp=temp)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert sorted(p.name for p in out.parent.iterdir()) == ["C-1001"]
    assert not profile.exists()
    assert processes_running(profile.as_uri()) == []
    assert sorted(p.name for p in temp.iterdir()) == []


def test_a_killed_batch_never_run_again_leaves_no_libreoffice_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = _private_temp(monkeypatch, tmp_path / "temp")
    process = _consentkit(
        "batch",
        "--practice",
        str(EXAMPLES / "practice.toml"),
        "--clients",
        str(EXAMPLES / "clients.csv"),
        "--out",
        str(tmp_path / "batch"),
        "--workers",
        "1",
        temp=temp,
    )
    try:
        profiles = lambda: list(temp.glob(f"{PROFILE_PREFIX}*"))  # noqa: E731
        converting = lambda: profiles() and processes_running(profiles()[0].as_uri())  # noqa: E731
        assert _wait_for(converting, 120), "LibreOffice never started"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    (profile,) = profiles()
    # Any later conversion, anywhere (here a render of another client), ends what is left.
    other = _consentkit(
        "render",
        "--practice",
        str(EXAMPLES / "practice.toml"),
        "--client",
        str(EXAMPLES / "clients" / "couple.toml"),
        "--out",
        str(tmp_path / "elsewhere"),
        temp=temp,
    )
    _, err = other.communicate(timeout=300)
    assert other.returncode == 0, err
    assert not profile.exists()
    assert processes_running(profile.as_uri()) == []
    assert sorted(p.name for p in temp.iterdir()) == []
