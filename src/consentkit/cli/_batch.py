"""``consentkit batch``: the packets of every client of a CSV file.

Exit codes: 0 every row's packet is complete (made now or skipped as already complete); 1 the
batch ran and some rows failed (see the report); 2 the batch could not run: an unreadable
practice or clients file, LibreOffice missing, the output folder in use by another batch or not
writable.
"""

from __future__ import annotations

import argparse
import os
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
from ._commands import command_help
from ._compose import add_compose_argument, compose_converter
from ._errors import EXIT_FAILED, EXIT_OK, UsageError, unusable_input
from ._output import is_stdio, printable, quiet, result


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "batch",
        help=command_help("batch"),
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
    add_compose_argument(parser)
    parser.add_argument(
        "--json", action="store_true", help="print the summary and every row's result as JSON"
    )
    parser.set_defaults(func=run)


def _line(result: BatchResult) -> str:
    who = printable(result.client_id) if result.client_id is not None else "(no id)"
    text = f"row {result.row} {who}: {result.status}"
    if result.note:
        text += f" ({result.note})"
    return f"{text}: {printable(result.error)}" if result.error else text


def packets_per_minute(made: int, elapsed: float) -> float | None:
    """The batch's rate: packets made per minute of wall time since the batch started, or
    ``None`` before the first packet (rows skipped as already complete do not count: they take
    no work, and a resumed batch would otherwise show thousands per minute)."""
    if made <= 0 or elapsed <= 0:
        return None
    return made * 60.0 / elapsed


class _RateColumn(ProgressColumn):
    """Packets made per minute since the batch started (rich's own speed is a short moving
    window, which showed millions per minute when a whole chunk completed at once)."""

    def __init__(self, counts: dict[str, int], started: float) -> None:
        super().__init__()
        self._counts = counts
        self._started = started

    def render(self, task: Task) -> Text:
        rate = packets_per_minute(self._counts["ok"], time.monotonic() - self._started)
        return Text(f"{rate:.0f}/min" if rate is not None else "-/min", style="progress.data.speed")


def run(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if is_stdio(args.clients):
        raise UsageError(
            "batch reads the clients from a file (a batch resumes by running again on the same file); "
            "save standard input to a file first"
        )
    started = time.monotonic()
    rows_seen: list[BatchResult] = []
    with unusable_input(), compose_converter(args, args.workers or os.cpu_count() or 1) as converter:
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
            compose=args.compose,
            converter=converter,
        )
        results = _kept(results, rows_seen)
        if quiet(args):
            counts = _with_lines(results, None)
        elif sys.stderr.isatty():
            counts = _with_progress(results, len(rows), Console(stderr=True), started)
        else:
            counts = _with_lines(results, sys.stderr)
    elapsed = time.monotonic() - started
    blank = f", {counts['blank']} blank" if counts["blank"] else ""
    rate = packets_per_minute(counts["ok"], elapsed)
    result(
        args,
        [
            f"{counts['ok']} made, {counts['skipped'] - counts['blank']} already complete{blank}, "
            f"{counts['failed']} failed in {elapsed:.0f} s"
            + (f" ({rate:.0f} packets/min)" if rate is not None else "")
            + f"; report: {printable(args.out / REPORT_CSV)}"
        ],
        {
            "made": counts["ok"],
            "already_complete": counts["skipped"] - counts["blank"],
            "blank": counts["blank"],
            "failed": counts["failed"],
            "seconds": round(elapsed, 3),
            "packets_per_minute": round(rate, 1) if rate is not None else None,
            "report": str(args.out / REPORT_CSV),
            "rows": [
                {
                    "row": r.row,
                    "client_id": r.client_id,
                    "status": r.status,
                    "note": r.note or None,
                    "error": r.error or None,
                }
                for r in rows_seen
            ],
        },
    )
    return EXIT_FAILED if counts["failed"] else EXIT_OK


def _kept(results: Any, kept: list[BatchResult]) -> Any:
    for item in results:
        kept.append(item)
        yield item


def _with_lines(results: Any, out: TextIO | None) -> dict[str, int]:
    """A line per row on ``out`` (standard error: these are progress, not the result)."""
    counts = {"ok": 0, "skipped": 0, "failed": 0, "blank": 0}
    for row in results:
        counts[row.status] += 1
        counts["blank"] += row.note == "blank"
        if out is not None:
            print(_line(row), file=out, flush=True)
    return counts


def _with_progress(results: Any, total: int, console: Console, started: float) -> dict[str, int]:
    counts = {"ok": 0, "skipped": 0, "failed": 0, "blank": 0}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(counts, started),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("packets", total=total)
        for row in results:
            counts[row.status] += 1
            counts["blank"] += row.note == "blank"
            if row.status == "failed":
                progress.console.print(_line(row), markup=False, highlight=False)
            progress.advance(task)
    return counts
