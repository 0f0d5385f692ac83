"""``consentkit batch``: plain progress lines off a terminal, a report, and its exit codes."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from consentkit.batch import REPORT_CSV, REPORT_JSON
from consentkit.batch._lock import BatchLock

from .batch_support import write_clients_csv
from .cli_support import CliResult, run_cli
from .conftest import EXAMPLES
from .test_batch import BAD_ROWS, EXAMPLE_IDS


def batch(*args: str) -> CliResult:
    return run_cli("batch", "--practice", str(EXAMPLES / "practice.toml"), *args)


@pytest.mark.libreoffice
def test_failed_rows_exit_1_and_a_rerun_exits_0(tmp_path: Path) -> None:
    clients = write_clients_csv(tmp_path / "clients.csv", extra_rows=BAD_ROWS[:1])
    out = tmp_path / "out"
    first = batch("--clients", str(clients), "--out", str(out), "--date", "2026-11-27")
    assert first.returncode == 1, first.stderr
    # A line per row on standard error (progress); the summary alone on standard output.
    lines = first.stderr.splitlines()
    (summary,) = first.stdout.splitlines()
    bad_row = len(EXAMPLE_IDS) + 2
    assert (
        f"row {bad_row} C-2001: failed: clients.csv row {bad_row}, phone: not a valid phone number" in lines
    )
    assert sorted(line for line in lines if line.endswith(": ok")) == sorted(
        f"row {n} {cid}: ok" for n, cid in enumerate(EXAMPLE_IDS, start=2)
    )
    assert summary.startswith(f"{len(EXAMPLE_IDS)} made, 0 already complete, 1 failed in ")
    assert (out / REPORT_CSV).is_file() and (out / REPORT_JSON).is_file()

    fixed = write_clients_csv(tmp_path / "fixed.csv")
    second = batch("--clients", str(fixed), "--out", str(out), "--date", "2026-11-27")
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[-1].startswith(f"0 made, {len(EXAMPLE_IDS)} already complete, 0 failed")


def test_a_batch_that_cannot_run_exits_2(tmp_path: Path) -> None:
    missing = batch("--clients", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "out"))
    assert missing.returncode == 2
    assert (
        missing.stderr.strip() == "consentkit: error: nope.csv: cannot read file (No such file or directory)"
    )

    clients = write_clients_csv(tmp_path / "clients.csv")
    (tmp_path / "busy").mkdir()
    with BatchLock.acquire(tmp_path / "busy"):
        busy = batch("--clients", str(clients), "--out", str(tmp_path / "busy"))
    assert busy.returncode == 2
    assert "another batch is writing to busy" in busy.stderr
    assert "Traceback" not in busy.stderr + missing.stderr


def test_a_terminal_gets_a_progress_bar_with_rate_and_time_left() -> None:
    from rich.console import Console

    from consentkit.batch import BatchResult
    from consentkit.cli._batch import _with_progress

    results = [
        BatchResult(row=2, client_id="C-1", folder="C-1", status="ok"),
        BatchResult(row=3, client_id="C-2", folder="C-2", status="skipped"),
        BatchResult(row=4, client_id=None, folder=None, status="failed", error="clients.csv row 4: bad"),
    ]
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100, color_system=None)
    counts = _with_progress(iter(results), 3, console, time.monotonic())
    assert counts == {"ok": 1, "skipped": 1, "failed": 1, "blank": 0}
    shown = screen.getvalue()
    assert "row 4 (no id): failed: clients.csv row 4: bad" in shown
    assert "3/3" in shown and "/min" in shown and "ETA" in shown
