"""``consentkit batch``: the packets of every client of a CSV file.

Exit codes: 0 every row's packet is complete (made now or skipped as already complete); 1 the
batch ran and some rows failed (see the report); 2 the batch could not run: an unreadable
practice or clients file, LibreOffice missing, the output folder in use by another batch or not
writable.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from ..batch import REPORT_CSV, BatchResult, generate_packets
from ..loaders import iter_clients_csv, load_practice
from ._errors import EXIT_FAILED, EXIT_OK, UsageError, unusable_input
from ._output import printable


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "batch",
        help="render the packets of every client in a CSV file (resumable)",
        description=(
            "Render one packet folder per client of CLIENTS.csv into DIR, with DIR/report.csv and "
            "DIR/report.json. Running it again skips complete packets made from the same inputs. "
            "Exit status: 0 all packets complete, 1 some rows failed, 2 the batch could not run."
        ),
    )
    parser.add_argument("--practice", required=True, type=Path, help="practice TOML file")
    parser.add_argument("--clients", required=True, type=Path, help="clients CSV file")
    parser.add_argument(
        "--encoding",
        default="utf-8",
        help="text encoding of the clients CSV (default utf-8; spreadsheet exports are often cp1252)",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="batch folder to write")
    parser.add_argument("--workers", type=int, help="parallel LibreOffice processes (default: one per CPU)")
    parser.add_argument("--language", help="force a template locale (e.g. en-US) or a custom set folder")
    parser.add_argument(
        "--include-english",
        action="store_true",
        help="add an unsigned English copy of each document after a translated packet",
    )
    parser.add_argument("--date", type=date.fromisoformat, help="document date (YYYY-MM-DD); default today")
    parser.add_argument("--force", action="store_true", help="remake packets even when complete")
    parser.add_argument("--timeout", type=float, help="time limit of one LibreOffice call in seconds")
    parser.set_defaults(func=run)


def _line(result: BatchResult) -> str:
    who = printable(result.client_id) if result.client_id is not None else "(no id)"
    text = f"row {result.row} {who}: {result.status}"
    if result.note:
        text += f" ({result.note})"
    return f"{text}: {printable(result.error)}" if result.error else text


class _RateColumn(ProgressColumn):
    """Packets per minute."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed * 60:.0f}/min" if speed else "-/min", style="progress.data.speed")


def run(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    with unusable_input():
        practice = load_practice(args.practice)
        rows = list(iter_clients_csv(args.clients, encoding=args.encoding))
        results = generate_packets(
            practice,
            rows,
            args.out,
            workers=args.workers,
            language=args.language,
            on=args.date,
            include_english=args.include_english,
            force=args.force,
            timeout=args.timeout,
        )
        started = time.monotonic()
        if sys.stdout.isatty():
            counts = _with_progress(results, len(rows), Console())
        else:
            counts = _with_lines(results, sys.stdout)
    elapsed = time.monotonic() - started
    blank = f", {counts['blank']} blank" if counts["blank"] else ""
    print(
        f"{counts['ok']} made, {counts['skipped'] - counts['blank']} already complete{blank}, "
        f"{counts['failed']} failed in {elapsed:.0f} s; report: {printable(args.out / REPORT_CSV)}"
    )
    return EXIT_FAILED if counts["failed"] else EXIT_OK


def _with_lines(results: Any, out: TextIO) -> dict[str, int]:
    counts = {"ok": 0, "skipped": 0, "failed": 0, "blank": 0}
    for result in results:
        counts[result.status] += 1
        counts["blank"] += result.note == "blank"
        print(_line(result), file=out, flush=True)
    return counts


def _with_progress(results: Any, total: int, console: Console) -> dict[str, int]:
    counts = {"ok": 0, "skipped": 0, "failed": 0, "blank": 0}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("packets", total=total)
        for result in results:
            counts[result.status] += 1
            counts["blank"] += result.note == "blank"
            if result.status == "failed":
                progress.console.print(_line(result), markup=False, highlight=False)
            progress.advance(task)
    return counts
