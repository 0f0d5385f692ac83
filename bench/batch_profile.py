"""Where a batch's time goes, beside ``batch_bench.py``: Python's own CPU per packet, and a
timeline of the LibreOffice calls.

Two measurements:

``python-share``
    The batch on N synthetic clients, run inline in this thread, with a converter that converts
    each kind of document once with a real :class:`~consentkit.WarmConverter` in a warm-up batch
    and replays its PDF in the measured batch (the kind: the template and its markers, which is
    what finishing depends on). LibreOffice runs in other processes and is idle while the batch is
    measured, so the CPU time of this process is Python's own work per packet and nothing else.
    ``--compose`` measures the batch with ``--compose`` (one joined DOCX per packet).
    ``--profile`` prints a pyinstrument profile of it (wall time; install pyinstrument).

``timeline``
    The batch on N synthetic clients with the real LibreOffice and the default pool; prints when
    each LibreOffice call of each converter ran, and the share of the time the converters were
    busy (what is left is start-up, waiting for rendered chunks, and the tail).

Usage::

    python bench/batch_profile.py python-share --clients 100
    python bench/batch_profile.py python-share --clients 100 --profile
    python bench/batch_profile.py python-share --clients 100 --compose
    python bench/batch_profile.py timeline --clients 200

Absolute times depend on the machine; compare runs made one after the other.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from datetime import date
from pathlib import Path
from typing import Any

from batch_bench import EXAMPLES, write_clients_csv

import consentkit.convert as convert_module
from consentkit import WarmConverter, iter_clients_csv, load_practice
from consentkit.batch import generate_packets

DOC_DATE = date(2026, 11, 27)


class Inline(Executor):
    """Runs each submitted call at once in the calling thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


class Replay:
    """A converter that converts each kind of joined DOCX once with ``real`` and replays its PDF.

    The kind is the template and the sequence of markers in the document (every signature place
    and every document's end), which is what finishing a packet depends on."""

    full_layout = True
    _MARKERS = re.compile(rb"ck-(?:sig-[A-Za-z0-9_-]+|end-[0-9]+)")

    def __init__(self, real: WarmConverter) -> None:
        self.real = real
        self.pdfs: dict[str, bytes] = {}
        self.replaying = False

    def convert(self, documents: Sequence[Path], outdir: Path) -> list[Path]:
        outputs = []
        for document in documents:
            with zipfile.ZipFile(document) as docx:
                markers = self._MARKERS.findall(docx.read("word/document.xml"))
            # The chunk names a document <n>-<template>.docx, a joined one <n>-packet.docx.
            template = document.stem.split("-", 1)[-1].encode()
            key = hashlib.sha256(b" ".join([template, *markers])).hexdigest()
            if key not in self.pdfs:
                if self.replaying:
                    raise RuntimeError("a kind of packet not seen in the warm-up")
                [pdf] = self.real.convert([document], outdir)
                self.pdfs[key] = pdf.read_bytes()
            target = Path(outdir) / f"{document.stem}.pdf"
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(self.pdfs[key])
            outputs.append(target)
        return outputs


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def python_share(args: argparse.Namespace, work: Path) -> None:
    practice = load_practice(EXAMPLES / "practice.toml")
    write_clients_csv(work / "clients.csv", args.clients)
    replay = Replay(WarmConverter(instances=1)) if args.compose else None

    def run(out: Path) -> int:
        rows = list(iter_clients_csv(work / "clients.csv"))
        results = generate_packets(
            practice,
            rows,
            out,
            executor=Inline(),
            workers=2,
            on=DOC_DATE,
            compose=args.compose,
            converter=replay,
        )
        return sum(result.status == "ok" for result in results)

    run(work / "warm-up")  # imports, compiled templates, the replayed PDFs
    if replay is not None:
        replay.real.close()
        replay.replaying = True
    profiler = None
    if args.profile:
        import pyinstrument

        profiler = pyinstrument.Profiler(interval=0.0005)
        profiler.start()
    started_cpu, started = cpu_seconds(), time.perf_counter()
    ok = run(work / "out")
    cpu, wall = cpu_seconds() - started_cpu, time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False))
    per_packet = cpu / args.clients * 1000
    print(f"{ok} of {args.clients} packets; Python's own CPU {cpu:.2f} s = {per_packet:.1f} ms per packet")
    print(f"(wall {wall:.2f} s; LibreOffice idle, its PDFs replayed)")


def timeline(args: argparse.Namespace, work: Path) -> None:
    calls: list[tuple[int, float, float, int]] = []
    original = convert_module.LibreOfficeConverter._run

    def timed(self: convert_module.LibreOfficeConverter, batch: list[Path], staging: Path) -> Any:
        begun = time.perf_counter()
        try:
            return original(self, batch, staging)
        finally:
            calls.append((id(self), begun, time.perf_counter(), len(batch)))

    convert_module.LibreOfficeConverter._run = timed  # type: ignore[method-assign]
    practice = load_practice(EXAMPLES / "practice.toml")
    write_clients_csv(work / "clients.csv", args.clients)
    rows = list(iter_clients_csv(work / "clients.csv"))
    started_cpu, started = cpu_seconds(), time.perf_counter()
    results = list(generate_packets(practice, rows, work / "out", workers=args.workers, on=DOC_DATE))
    cpu, wall = cpu_seconds() - started_cpu, time.perf_counter() - started
    ok = sum(result.status == "ok" for result in results)
    print(f"{ok} of {args.clients} packets in {wall:.1f} s; Python's own CPU {cpu:.1f} s ({cpu / wall:.0%})")
    converters = list(dict.fromkeys(converter for converter, *_ in calls))
    busy = 0.0
    for number, converter in enumerate(converters):
        mine = sorted(call for call in calls if call[0] == converter)
        busy += sum(end - begin for _, begin, end, _ in mine)
        spans = " ".join(f"[{b - started:.1f}-{e - started:.1f} s: {n}]" for _, b, e, n in mine)
        print(f"converter {number}: {spans}")
    capacity = len(converters) * wall
    print(f"converters busy {busy:.1f} s of {capacity:.1f} s = {busy / capacity:.0%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("python-share", "timeline"))
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="LibreOffice processes (timeline)")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile (python-share)")
    parser.add_argument("--compose", action="store_true", help="the batch with --compose (python-share)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="consentkit-profile-"))
    try:
        if args.what == "python-share":
            python_share(args, work)
        else:
            timeline(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
