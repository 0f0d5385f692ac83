"""Part (e) of the batch benchmark: one packet at a time, the cold converter against the warm one.

In one invocation, with the 5-document demo packet (``examples/clients/adult.toml``) rendered by
``render_packet`` into a new folder each time:

(e1) N packets (default 20) with the default converter (a LibreOffice started for each packet)
     and N with a :class:`~consentkit.WarmConverter` started once beforehand, taken in turns
     (cold, warm, cold, warm, ...) so that both see the same load on a shared machine: the
     median and 95th percentile of each, and their ratio; the warm converter's start-up;
(e2) the warm converter goes on to M packets (default 500) in all: the resident memory of its
     LibreOffice process trees (unoserver included) after 10 packets and after M, with the
     recycling it did (every ``recycle_after`` documents per LibreOffice);
(e3) a LibreOffice killed (SIGKILL) while it converts a packet's documents: that render fails
     with a ConversionError naming a document, and the next one succeeds (its time);
(e4) with ``--batch-clients K``: a batch of K synthetic clients made the usual way (two cold
     LibreOffice processes, many documents per call) and with the warm converter.

Usage::

    python bench/warm_bench.py                       # 20 packets each, 500 for memory
    python bench/warm_bench.py --packets 20 --memory-packets 500 --json warm.json
    python bench/batch_bench.py --warm ...           # (a)-(d), then this as part (e)

The machine matters; compare the cold and warm figures of one run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from consentkit import ConversionError, WarmConverter, load_client, load_practice, render_packet

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DOC_DATE = date(2026, 11, 27)
_PAGE = os.sysconf("SC_PAGE_SIZE")


def group_rss(groups: tuple[int, ...]) -> tuple[int, dict[int, str]]:
    """Resident memory (bytes) of every process in the process groups, and those processes."""
    total = 0
    names = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            statm = Path(f"/proc/{entry.name}/statm").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) in groups:
            total += int(statm.split()[1]) * _PAGE
            names[int(entry.name)] = stat[stat.index("(") + 1 : stat.rindex(")")]
    return total, names


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def settle(converter: WarmConverter, instances: int, within: float = 60.0) -> float:
    """Wait until no replacement is starting (only the serving LibreOffice processes run)."""
    started = time.monotonic()
    while len(converter.stats().process_groups) != instances and time.monotonic() - started < within:
        time.sleep(0.2)
    return time.monotonic() - started


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    practice = load_practice(EXAMPLES / "practice.toml")
    client = load_client(EXAMPLES / "clients" / "adult.toml")
    figures: dict[str, Any] = {"packets": args.packets, "memory_packets": args.memory_packets}
    # The compile-once renderer (used by render_packet) compiles the templates on its first use in
    # a process; both converters are measured after that.
    render_packet(practice, client, work / "first", on=DOC_DATE)

    started = time.perf_counter()
    converter = WarmConverter(instances=args.instances, recycle_after=args.recycle_after)
    converter.start()
    figures["warm_start_s"] = time.perf_counter() - started
    figures["instances"] = converter.instances
    figures["recycle_after"] = converter.recycle_after
    try:
        print(f"(e1) {args.packets} packets cold and {args.packets} warm, in turns ...", flush=True)
        cold: list[float] = []
        warm: list[float] = []
        rss_at: dict[int, float] = {}
        for number in range(1, args.packets + 1):
            for times, used in ((cold, None), (warm, converter)):
                out = work / ("cold" if used is None else "warm") / f"P-{number:04d}"
                started = time.perf_counter()
                render_packet(practice, client, out, on=DOC_DATE, converter=used)
                times.append(time.perf_counter() - started)
                shutil.rmtree(out)
            if number == 10:
                rss_at[10] = group_rss(converter.stats().process_groups)[0] / 2**20
        figures["cold"] = {"p50_s": statistics.median(cold), "p95_s": percentile(cold, 0.95), "all_s": cold}
        figures["warm"] = {"p50_s": statistics.median(warm), "p95_s": percentile(warm, 0.95), "all_s": warm}

        print(f"(e2) the warm converter on to {args.memory_packets} packets ...", flush=True)
        every: list[float] = list(warm)
        peak = 0.0
        for number in range(args.packets + 1, args.memory_packets + 1):
            out = work / "warm" / f"P-{number:04d}"
            started = time.perf_counter()
            render_packet(practice, client, out, on=DOC_DATE, converter=converter)
            every.append(time.perf_counter() - started)
            shutil.rmtree(out)
            if number == 10:
                rss_at[10] = group_rss(converter.stats().process_groups)[0] / 2**20
            if number % 25 == 0:
                peak = max(peak, group_rss(converter.stats().process_groups)[0] / 2**20)
        waited = settle(converter, converter.instances)
        total, processes = group_rss(converter.stats().process_groups)
        stats = converter.stats()
        figures["memory"] = {
            "after_10_mib": rss_at.get(10, float("nan")),
            "after_all_mib": total / 2**20,
            "ratio": total / 2**20 / rss_at.get(10, float("nan")),
            "peak_sampled_mib": peak,
            "waited_for_replacement_s": waited,
            "processes": sorted(processes.values()),
            "documents": stats.documents,
            "recycles": stats.recycles,
            "restarts": stats.restarts,
            "failures": stats.failures,
            "all_packets_p50_s": statistics.median(every),
            "all_packets_p95_s": percentile(every, 0.95),
            "all_packets_max_s": max(every),
        }

        print("(e3) a LibreOffice killed while it converts a packet ...", flush=True)
        figures["crash"] = crash(converter, practice, client, work / "crash")
        if args.batch_clients:
            print(f"(e4) a batch of {args.batch_clients} clients, cold and warm ...", flush=True)
            figures["batch"] = batch(converter, practice, args.batch_clients, work / "batch")
    finally:
        converter.close()
    return figures


def crash(converter: WarmConverter, practice: Any, client: Any, work: Path) -> dict[str, Any]:
    """Kill one LibreOffice as soon as the render's documents are queued; then render again."""
    settle(converter, converter.instances)
    group = converter.stats().process_groups[0]
    victim = next(pid for pid, name in group_rss((group,))[1].items() if name == "soffice.bin")
    outcome: dict[str, Any] = {}
    out = work / "killed"

    def render() -> None:
        try:
            render_packet(practice, client, out, on=DOC_DATE, converter=converter)
            outcome["error"] = None
        except ConversionError as exc:
            outcome["error"] = str(exc)
            outcome["document"] = exc.document

    thread = threading.Thread(target=render)
    thread.start()
    deadline = time.monotonic() + 30
    # The packet's documents go to the converter once its staging folder holds the converter's.
    while not list(work.glob(".killed.staging-*/.consentkit-convert-*")) and time.monotonic() < deadline:
        time.sleep(0.001)
    os.kill(victim, signal.SIGKILL)
    thread.join()
    outcome["packet_folder_written"] = out.exists()
    started = time.perf_counter()
    render_packet(practice, client, work / "next", on=DOC_DATE, converter=converter)
    outcome["next_render_s"] = time.perf_counter() - started
    outcome["next_render_ok"] = (work / "next" / "packet.pdf").is_file()
    outcome["restarts"] = converter.stats().restarts
    return outcome


def batch(converter: WarmConverter, practice: Any, clients: int, work: Path) -> dict[str, Any]:
    """The same batch made by two cold LibreOffice processes and by the warm converter."""
    from batch_bench import write_clients_csv  # beside this script

    from consentkit import iter_clients_csv
    from consentkit.batch import generate_packets

    work.mkdir(parents=True)
    write_clients_csv(work / "clients.csv", clients)
    rows = list(iter_clients_csv(work / "clients.csv"))
    settle(converter, converter.instances)
    figures: dict[str, Any] = {"clients": clients}
    for label, used in (("cold", None), ("warm", converter)):
        started = time.perf_counter()
        results = list(generate_packets(practice, rows, work / label, on=DOC_DATE, workers=2, converter=used))
        wall = time.perf_counter() - started
        figures[label] = {
            "ok": sum(r.status == "ok" for r in results),
            "wall_s": wall,
            "packets_per_min": len(results) / wall * 60,
        }
    return figures


def report(f: dict[str, Any]) -> Iterator[str]:
    cold, warm, memory, crashed = f["cold"], f["warm"], f["memory"], f["crash"]
    yield (
        f"(e) one packet at a time: {f['packets']} packets of the 5-document demo packet each, in turns; "
        f"the warm converter runs {f['instances']} LibreOffice processes, each recycled every "
        f"{f['recycle_after']} documents"
    )
    yield f"    warm converter start-up: {f['warm_start_s']:.1f} s (once, before the first packet)"
    yield f"    cold render_packet: p50 {cold['p50_s']:.2f} s, p95 {cold['p95_s']:.2f} s"
    yield (
        f"    warm render_packet: p50 {warm['p50_s']:.2f} s, p95 {warm['p95_s']:.2f} s  "
        "(targets p50 <= 0.4 s, p95 <= 0.8 s)"
    )
    median_ratio = cold["p50_s"] / warm["p50_s"]
    p95_ratio = cold["p95_s"] / warm["p95_s"]
    yield f"    cold / warm: {median_ratio:.1f}x at the median, {p95_ratio:.1f}x at p95"
    yield (
        f"    memory of the warm LibreOffice process trees: {memory['after_10_mib']:.0f} MiB after 10 "
        f"packets, {memory['after_all_mib']:.0f} MiB after {f['memory_packets']}: "
        f"{memory['ratio']:.2f}x  (target <= 1.5x)"
    )
    yield (
        f"    ({memory['documents']} documents, {memory['recycles']} recycles, "
        f"{memory['failures']} failures; largest sample {memory['peak_sampled_mib']:.0f} MiB; "
        f"waited {memory['waited_for_replacement_s']:.1f} s for a replacement starting at the end)"
    )
    yield (
        f"    all {f['memory_packets']} warm packets: p50 {memory['all_packets_p50_s']:.2f} s, "
        f"p95 {memory['all_packets_p95_s']:.2f} s, slowest {memory['all_packets_max_s']:.2f} s"
    )
    yield (
        f"    LibreOffice killed mid-packet: that render failed: {crashed['error']!r} "
        f"(packet folder written: {crashed['packet_folder_written']}); the next render "
        f"{'succeeded' if crashed['next_render_ok'] else 'FAILED'} in {crashed['next_render_s']:.2f} s"
    )
    if "batch" in f:
        b = f["batch"]
        cold_rate, warm_rate = b["cold"]["packets_per_min"], b["warm"]["packets_per_min"]
        yield (
            f"    batch of {b['clients']} clients: cold {cold_rate:.0f} packets/min ({b['cold']['ok']} ok), "
            f"warm {warm_rate:.0f} packets/min ({b['warm']['ok']} ok): {cold_rate / warm_rate:.2f}x"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    figures = run_in_work(args)
    print()
    for line in report(figures):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--packets", type=int, default=20, help="packets cold and warm (default 20)")
    parser.add_argument(
        "--memory-packets", type=int, default=500, help="warm packets in all, for memory (default 500)"
    )
    parser.add_argument("--instances", type=int, default=2, help="warm LibreOffice processes (default 2)")
    parser.add_argument(
        "--recycle-after", type=int, default=500, help="documents per LibreOffice before it is replaced"
    )
    parser.add_argument(
        "--batch-clients", type=int, default=0, help="(e4): a batch of this many clients, cold and warm"
    )


def run_in_work(args: argparse.Namespace) -> dict[str, Any]:
    if getattr(args, "work", None):
        args.work.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="warm-", dir=args.work))
    else:
        work = Path(tempfile.mkdtemp(prefix="consentkit-warm-bench-"))
    try:
        return run(args, work)
    finally:
        if not getattr(args, "work", None):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
