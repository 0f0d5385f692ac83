"""Benchmark batch generation against the pipeline a user would write by hand.

In one invocation, on N synthetic clients made from the bundled examples:

(a) the naive pipeline on a sample of K clients: a fresh docxtpl render per document, one
    ``soffice --convert-to pdf`` process per document, then a pypdf merge;
(b) ``consentkit batch`` (the library call behind it) on all N clients;
(b2) the same batch with ``--compose``: each packet's documents joined into one DOCX, one
    LibreOffice load per packet (skip with ``--no-compose``);
(c) the conversion floor: the same DOCX files converted directly by ``--workers`` parallel
    LibreOffice processes, at most 200 files per call, with nothing else running; (c2) the same
    for the joined DOCX files of (b2); (c2w) those through a warm converter alone, the conversion
    path (b2) must take;
(d) a second run of (b) as the ``consentkit batch`` command, which finds every packet complete;
    (d2) the same for (b2), with ``--compose``;
(e) with ``--warm``: one packet at a time, the cold converter against the warm one
    (``bench/warm_bench.py``, which also runs alone): latency, memory over 500 packets, a killed
    LibreOffice.

It prints documents per second, packets per minute, the ratio of (b) to (a), how (b) compares
with (c), the share of wall time LibreOffice ran, Python's own CPU time, and peak memory (the
resident memory of the whole process tree, sampled from /proc, LibreOffice included).

Usage::

    python bench/batch_bench.py                        # 200 clients, naive sample of 5
    python bench/batch_bench.py --clients 2000 --naive-sample 3 --skip-floor
    python bench/batch_bench.py --clients 2000 --only-compose   # (b2) and (d2) only
    python bench/batch_bench.py --rounds 3             # (a)-(c) three times, medians of the ratios
    python bench/batch_bench.py --json results.json    # also write the figures as JSON
    python bench/batch_bench.py --warm                 # (a)-(d), then (e)

The machine matters; compare the ratios printed by one run rather than absolute figures.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import warm_bench  # bench/warm_bench.py, beside this script
from pypdf import PdfWriter

from consentkit import iter_clients_csv, load_practice
from consentkit.batch import generate_packets
from consentkit.convert import PDFA3_EXPORT, find_soffice
from consentkit.models import Client
from consentkit.packet import stage_packet
from consentkit.rendering import compose_docx, render_docx
from consentkit.warm import WarmConverter

ROOT = Path(__file__).resolve().parents[1]
#: The stock packet's documents, in order (what ``--compose`` joins).
PACKET_ORDER = ("informed_consent", "telehealth_consent", "fees_policy", "esign_consent", "emergency_plan")
EXAMPLES = ROOT / "examples"
DOC_DATE = date(2026, 11, 27)
FIRST_NAMES = [
    "Avery",
    "Jordan",
    "Maria",
    "Andre",
    "Ethan",
    "Priya",
    "Sofia",
    "Liam",
    "Noah",
    "Grace",
    "Mateo",
    "Zoe",
]
LAST_NAMES = [
    "Carter",
    "Nguyen",
    "O'Brien-Núñez",
    "Williams",
    "Okafor",
    "Hernández",
    "Smith",
    "Kowalski",
    "Lee",
]


# --- synthetic clients ------------------------------------------------------------------------


def write_clients_csv(path: Path, count: int) -> None:
    """``count`` clients varied from the bundled examples (adults, couples and minors)."""
    with (EXAMPLES / "clients.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for n in range(count):
            row = dict(rows[n % len(rows)])
            first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n // 3) % len(LAST_NAMES)]
            row["id"] = f"B-{n + 1:06d}"
            row["legal_name"] = f"{first} {last}"
            row["preferred_name"] = first
            row["session_address.line1"] = f"{100 + n % 9000} Magnolia Street"
            row["phone"] = row["phone"][:-4] + f"{n % 10000:04d}"
            writer.writerow(row)


# --- measuring --------------------------------------------------------------------------------


class TreeMemory:
    """Peak resident memory of this process and all its descendants, and the CPU time of the
    descendants (LibreOffice, unoserver), sampled from /proc.

    The descendants' CPU is summed from their own counters, so it includes processes that are
    killed and never waited for (the warm converter's); a process that ends between two samples
    loses at most ``interval`` of its CPU time.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        #: CPU seconds the sampling itself used (to subtract from the process's CPU time).
        self.cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._tick = os.sysconf("SC_CLK_TCK")
        #: Each descendant's CPU ticks when first and last seen.
        self._ticks: dict[tuple[int, str], tuple[int, int]] = {}
        self._first = True

    @property
    def descendants_cpu(self) -> float:
        """CPU seconds the descendants used while sampled."""
        return sum(last - first for first, last in self._ticks.values()) / self._tick

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def sample(self) -> int:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        ticks: dict[int, tuple[str, int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                statm = Path(f"/proc/{entry.name}/statm").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            pid = int(entry.name)
            parents[pid] = int(fields[1])
            rss[pid] = int(statm.split()[1]) * self._page
            # utime and stime; the start time tells a reused pid apart.
            ticks[pid] = (fields[19], int(fields[11]) + int(fields[12]))
        root = os.getpid()
        total = 0
        for pid in rss:
            walk = pid
            while walk not in (root, 0, 1) and walk in parents:
                walk = parents[walk]
            if walk == root:
                total += rss[pid]
                if pid != root:
                    key = (pid, ticks[pid][0])
                    now = ticks[pid][1]
                    first = self._ticks[key][0] if key in self._ticks else (now if self._first else 0)
                    self._ticks[key] = (first, now)
        self._first = False
        return total

    def _loop(self) -> None:
        started = time.thread_time()
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.interval)
        self.cpu = time.thread_time() - started


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- (a) the naive pipeline -------------------------------------------------------------------


def naive(practice: Any, clients: list[Client], out: Path, soffice: Path) -> dict[str, float]:
    """Fresh docxtpl render, one soffice process per document, pypdf merge; one client at a time.

    The documents are filled as consentkit fills them (same context and state rules, the plain
    :func:`~consentkit.rendering.render_docx`), so only the pipeline around them differs.
    """
    profile = out / "profile"
    in_soffice = 0.0
    documents = 0
    started = time.perf_counter()
    for client in clients:
        staged = stage_packet(practice, client, out / client.id, on=DOC_DATE, renderer=render_docx)
        pdfs = []
        for docx in staged.docx_paths:
            call = time.perf_counter()
            subprocess.run(
                [str(soffice), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                 "--convert-to", "pdf", "--outdir", str(staged.staging), str(docx)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=300,
            )  # fmt: skip
            in_soffice += time.perf_counter() - call
            pdfs.append(staged.staging / f"{docx.stem}.pdf")
            documents += 1
        writer = PdfWriter()
        for pdf in pdfs:
            writer.append(pdf)
        with (staged.staging / "packet.pdf").open("wb") as handle:
            writer.write(handle)
    wall = time.perf_counter() - started
    return {"clients": len(clients), "documents": documents, "wall_s": wall, "libreoffice_s": in_soffice}


# --- (c) the conversion floor -----------------------------------------------------------------


def floor(
    docx_files: list[Path], work: Path, soffice: Path, processes: int, per_call: int = 200
) -> dict[str, float]:
    """Convert ``docx_files`` with ``processes`` parallel LibreOffice processes, nothing else."""
    shares: list[list[Path]] = [[] for _ in range(processes)]
    for n, path in enumerate(docx_files):
        share = work / f"in{n % processes}"
        share.mkdir(parents=True, exist_ok=True)
        link = share / f"{n}-{path.name}"
        os.link(path, link)
        shares[n % processes].append(link)

    def convert(index: int, files: list[Path]) -> None:
        profile = work / f"profile{index}"
        for start in range(0, len(files), per_call):
            subprocess.run(
                [
                    str(soffice),
                    f"-env:UserInstallation={profile.as_uri()}",
                    "--headless",
                    "--norestore",
                    "--nologo",
                    "--nodefault",
                    "--nolockcheck",
                    "--infilter=MS Word 2007 XML",
                    "--convert-to",
                    PDFA3_EXPORT,
                    "--outdir",
                    str(work / f"out{index}"),
                    *map(str, files[start : start + per_call]),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=1800,
            )

    # Create the profiles first, as the batch's converters have theirs from earlier runs.
    warm = [threading.Thread(target=convert, args=(i, s[:1])) for i, s in enumerate(shares)]
    for thread in warm:
        thread.start()
    for thread in warm:
        thread.join()
    started, children = time.perf_counter(), cpu_children()
    threads = [threading.Thread(target=convert, args=(i, s)) for i, s in enumerate(shares)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    produced = sum(len(list((work / f"out{i}").glob("*.pdf"))) for i in range(processes))
    return {
        "documents": len(docx_files),
        "produced": produced,
        "wall_s": wall,
        "libreoffice_cpu_s": cpu_children() - children,
    }


def warm_floor(docx_files: list[Path], work: Path, processes: int) -> dict[str, float]:
    """Convert ``docx_files`` through a :class:`WarmConverter` of ``processes`` LibreOffice
    processes, nothing else running: the conversion path ``--compose`` must take (``soffice
    --convert-to`` lays joined documents out differently), its start-up counted as (b2) counts it."""
    with TreeMemory() as memory:
        started = time.perf_counter()
        with WarmConverter(instances=processes, recycle_beside=False) as warm:
            produced = len(warm.convert(docx_files, work))
        wall = time.perf_counter() - started
    return {
        "documents": len(docx_files),
        "produced": produced,
        "wall_s": wall,
        "libreoffice_cpu_s": memory.descendants_cpu,
    }


# --- main -------------------------------------------------------------------------------------


def batch_round(
    args: argparse.Namespace, practice: Any, rows: list[Any], out: Path, *, compose: bool = False
) -> dict[str, Any]:
    """(b): the batch on all clients, with its CPU time, LibreOffice time and peak memory."""
    cpu0, children0 = cpu_self(), cpu_children()
    with TreeMemory() as memory, contextlib.ExitStack() as stack:
        # Composed conversion goes through the warm converter (soffice --convert-to lays joined
        # documents out differently), as `consentkit batch --compose` uses it: recycled in place,
        # started by the batch while its first chunks render; its start-up is counted.
        started = time.perf_counter()
        warm = None
        if compose:
            warm = WarmConverter(instances=args.workers, recycle_beside=False)
            stack.enter_context(contextlib.closing(warm))
        results = list(
            generate_packets(
                practice, rows, out, workers=args.workers, on=DOC_DATE, compose=compose, converter=warm
            )
        )
        wall = time.perf_counter() - started
    cpu_python = cpu_self() - cpu0 - memory.cpu
    ok = [r for r in results if r.status == "ok"]
    documents = sum(1 for r in ok for name in r.outputs if name.endswith(".docx"))
    lo_seconds = sum(r.libreoffice_seconds for r in results)
    return {
        "packets": len(ok),
        "failed": sum(1 for r in results if r.status == "failed"),
        "documents": documents,
        "wall_s": wall,
        "docs_per_s": documents / wall,
        "packets_per_min": len(ok) / wall * 60,
        "libreoffice_share_of_wall": lo_seconds / (wall * args.workers),
        "python_cpu_s": cpu_python,
        "python_cpu_share_of_wall": cpu_python / wall,
        "python_cpu_share_of_machine": cpu_python / (wall * (os.cpu_count() or 1)),
        "libreoffice_cpu_s": cpu_children() - children0,
        # LibreOffice's processes as sampled (the warm converter's are killed, never waited for).
        "descendants_cpu_s": memory.descendants_cpu,
        "idle_share_of_machine": 1 - (cpu_python + memory.descendants_cpu) / (wall * (os.cpu_count() or 1)),
        "peak_tree_rss_mib": memory.peak / 2**20,
        "peak_child_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def run_quietly(command: list[str]) -> None:
    """Run a command, showing what it printed only when it fails (a re-run lists every row)."""
    finished = subprocess.run(command, capture_output=True, check=False)
    if finished.returncode:
        sys.stderr.buffer.write(finished.stdout + finished.stderr)
        raise subprocess.CalledProcessError(finished.returncode, command)


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    soffice = find_soffice()
    practice = load_practice(EXAMPLES / "practice.toml")
    clients_csv = work / "clients.csv"
    write_clients_csv(clients_csv, args.clients)
    rows = list(iter_clients_csv(clients_csv))
    clients = [row.client for row in rows if row.client is not None]
    figures: dict[str, Any] = {
        "clients": args.clients,
        "workers": args.workers,
        "cpus": os.cpu_count(),
    }
    rounds: list[dict[str, Any]] = []
    figures["rounds"] = rounds
    out = work / "batch"
    for number in range(1, args.rounds + 1):
        # The machine is shared: each round measures (a), (b) and (c) close together in time, and
        # the ratios are taken within a round.
        this: dict[str, Any] = {}
        rounds.append(this)
        label = f"round {number}/{args.rounds}: " if args.rounds > 1 else ""
        sample = clients[: args.naive_sample] if not args.only_compose else []
        if sample:
            print(f"{label}(a) naive pipeline on {len(sample)} clients ...", flush=True)
            shutil.rmtree(work / "naive", ignore_errors=True)
            a = naive(practice, sample, work / "naive", soffice)
            a["packets_per_min"] = a["clients"] / a["wall_s"] * 60
            a["docs_per_s"] = a["documents"] / a["wall_s"]
            this["naive"] = a
        b: dict[str, Any] | None = None
        if not args.only_compose:
            print(
                f"{label}(b) consentkit batch on {args.clients} clients, {args.workers} workers ...",
                flush=True,
            )
            shutil.rmtree(out, ignore_errors=True)
            b = this["batch"] = batch_round(args, practice, rows, out)
            if "naive" in this:
                this["ratio_batch_to_naive"] = b["packets_per_min"] / this["naive"]["packets_per_min"]
        if not args.no_compose:
            print(f"{label}(b2) the same batch with --compose ...", flush=True)
            shutil.rmtree(work / "composed", ignore_errors=True)
            b2 = this["composed"] = batch_round(args, practice, rows, work / "composed", compose=True)
            if b is not None:
                this["ratio_composed_to_batch"] = b2["packets_per_min"] / b["packets_per_min"]
            if "naive" in this:
                this["ratio_composed_to_naive"] = b2["packets_per_min"] / this["naive"]["packets_per_min"]
        if not args.skip_floor and b is not None:
            print(
                f"{label}(c) the same {b['documents']} DOCX files, {args.workers} LibreOffice processes ...",
                flush=True,
            )
            shutil.rmtree(work / "floor", ignore_errors=True)
            c = floor(sorted(out.glob("*/*.docx")), work / "floor", soffice, args.workers)
            c["docs_per_s"] = c["documents"] / c["wall_s"]
            this["floor"] = c
            this["batch_conversion_vs_floor"] = b["docs_per_s"] / c["docs_per_s"]
            if "composed" in this:
                print(f"{label}(c2) the joined DOCX of each packet, the same way ...", flush=True)
                joined = work / "joined"
                shutil.rmtree(joined, ignore_errors=True)
                joined.mkdir()
                for folder in sorted(p for p in out.iterdir() if p.is_dir()):
                    docs = [folder / f"{name}.docx" for name in PACKET_ORDER]
                    (joined / f"{folder.name}.docx").write_bytes(compose_docx([d.read_bytes() for d in docs]))
                shutil.rmtree(work / "floor2", ignore_errors=True)
                c2 = floor(sorted(joined.glob("*.docx")), work / "floor2", soffice, args.workers)
                c2["packets_per_min"] = c2["documents"] / c2["wall_s"] * 60
                this["floor_composed"] = c2
                this["composed_vs_floor"] = this["composed"]["packets_per_min"] / c2["packets_per_min"]
                print(f"{label}(c2w) the same joined DOCX through the warm converter ...", flush=True)
                shutil.rmtree(work / "floor2w", ignore_errors=True)
                c2w = warm_floor(sorted(joined.glob("*.docx")), work / "floor2w", args.workers)
                c2w["packets_per_min"] = c2w["documents"] / c2w["wall_s"] * 60
                this["floor_composed_warm"] = c2w
                this["composed_vs_warm_floor"] = this["composed"]["packets_per_min"] / c2w["packets_per_min"]

    command = [
        sys.executable,
        "-m",
        "consentkit.cli",
        "batch",
        "--practice",
        str(EXAMPLES / "practice.toml"),
        "--clients",
        str(clients_csv),
        "--out",
        str(out),
        "--date",
        DOC_DATE.isoformat(),
    ]
    if out.is_dir():
        print("(d) the same batch again (everything complete) with the consentkit command ...", flush=True)
        started = time.perf_counter()
        run_quietly(command)
        figures["rerun_s"] = time.perf_counter() - started
    if (work / "composed").is_dir():
        print("(d2) the composed batch again (everything complete) with --compose ...", flush=True)
        command[command.index(str(out))] = str(work / "composed")
        started = time.perf_counter()
        run_quietly([*command, "--compose"])
        figures["rerun_composed_s"] = time.perf_counter() - started
    return figures


#: The ratios the summary gives as medians over the rounds that measured them.
SUMMARY_LINES = (
    ("ratio_batch_to_naive", "    throughput (b)/(a): {:.1f}x  (target >= 20x)"),
    ("batch_conversion_vs_floor", "    batch vs two-process conversion floor: {:.0%}  (target >= 85%)"),
    ("ratio_composed_to_batch", "    --compose (b2)/(b): {:.2f}x  (target >= 1.6x)"),
    ("ratio_composed_to_naive", "    --compose (b2)/(a): {:.1f}x  (target >= 55x)"),
    ("composed_vs_floor", "    --compose vs its conversion floor (c2): {:.0%}  (target >= 85%)"),
    ("composed_vs_warm_floor", "    --compose vs the warm converter alone (c2w): {:.0%}"),
)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(f: dict[str, Any]) -> Iterator[str]:
    yield f"clients: {f['clients']}, workers: {f['workers']}, CPUs: {f['cpus']}"
    for number, r in enumerate(f["rounds"], start=1):
        if len(f["rounds"]) > 1:
            yield f"round {number}:"
        if "naive" in r:
            a = r["naive"]
            share = a["libreoffice_s"] / a["wall_s"]
            yield (
                f"(a) naive, {a['clients']} clients: {a['docs_per_s']:.2f} docs/s, "
                f"{a['packets_per_min']:.1f} packets/min, {share:.0%} in LibreOffice"
            )
        if "batch" in r:
            b = r["batch"]
            yield (
                f"(b) batch, {b['packets']} packets ({b['failed']} failed), {b['documents']} documents "
                f"in {b['wall_s']:.1f} s: {b['docs_per_s']:.1f} docs/s, "
                f"{b['packets_per_min']:.0f} packets/min"
            )
            yield f"    LibreOffice ran {b['libreoffice_share_of_wall']:.0%} of the workers' wall time"
            yield (
                f"    Python's own CPU: {b['python_cpu_s']:.1f} s = "
                f"{b['python_cpu_share_of_wall']:.0%} of wall time, "
                f"{b['python_cpu_share_of_machine']:.0%} of the machine's CPU time; "
                f"LibreOffice CPU {b['libreoffice_cpu_s']:.1f} s"
            )
            yield (
                f"    peak memory, process tree: {b['peak_tree_rss_mib']:.0f} MiB "
                f"(largest single child {b['peak_child_rss_mib']:.0f} MiB)"
            )
        if "floor" in r:
            c = r["floor"]
            yield (
                f"(c) floor, {c['documents']} documents by {f['workers']} LibreOffice processes: "
                f"{c['docs_per_s']:.1f} docs/s"
            )
        if "ratio_batch_to_naive" in r:
            yield f"    ratio (b)/(a): {r['ratio_batch_to_naive']:.1f}x"
        if "batch_conversion_vs_floor" in r:
            yield f"    (b) reaches {r['batch_conversion_vs_floor']:.0%} of (c)"
        if "composed" in r:
            b2 = r["composed"]
            yield (
                f"(b2) batch --compose, {b2['packets']} packets ({b2['failed']} failed) in "
                f"{b2['wall_s']:.1f} s: {b2['packets_per_min']:.0f} packets/min"
                + (f"; {r['ratio_composed_to_batch']:.2f}x (b)" if "ratio_composed_to_batch" in r else "")
                + (f", {r['ratio_composed_to_naive']:.1f}x (a)" if "ratio_composed_to_naive" in r else "")
            )
            yield (
                # Not the share of time in conversion calls: the warm converter's calls overlap.
                f"    Python's own CPU {b2['python_cpu_s']:.1f} s = "
                f"{b2['python_cpu_share_of_wall']:.0%} of wall, "
                f"{b2['python_cpu_s'] / b2['packets'] * 1000:.0f} ms per packet; "
                f"peak memory {b2['peak_tree_rss_mib']:.0f} MiB"
            )
            yield (
                f"    LibreOffice's CPU (sampled) {b2['descendants_cpu_s']:.1f} s = "
                f"{b2['descendants_cpu_s'] / b2['packets'] * 1000:.0f} ms per packet; "
                f"the machine idle {b2['idle_share_of_machine']:.0%} of the time"
            )
        if "floor_composed" in r:
            c2 = r["floor_composed"]
            yield (
                f"(c2) floor, {c2['documents']} joined DOCX by {f['workers']} LibreOffice processes: "
                f"{c2['packets_per_min']:.0f} packets/min; (b2) reaches {r['composed_vs_floor']:.0%} of (c2)"
            )
            yield (
                f"    LibreOffice's CPU {c2['libreoffice_cpu_s'] / c2['documents'] * 1000:.0f} ms per packet "
                "(start-up included)"
            )
        if "floor_composed_warm" in r:
            c2w = r["floor_composed_warm"]
            yield (
                f"(c2w) the same through the warm converter alone: {c2w['packets_per_min']:.0f} packets/min, "
                f"LibreOffice's CPU {c2w['libreoffice_cpu_s'] / c2w['documents'] * 1000:.0f} ms per packet; "
                f"(b2) reaches {r['composed_vs_warm_floor']:.0%} of (c2w)"
            )
    rounds = f["rounds"]
    yield "summary (median over rounds):"
    for key, line in SUMMARY_LINES:
        values = [r[key] for r in rounds if key in r]
        if values:
            yield line.format(median(values))
    for key, what in (("batch", "(b)"), ("composed", "(b2)")):
        measured = [r[key] for r in rounds if key in r]
        if measured:
            python = median([m["python_cpu_share_of_wall"] for m in measured])
            peak = max(m["peak_tree_rss_mib"] for m in measured)
            yield f"    {what}: Python's own CPU / wall: {python:.0%}; peak memory (tree): {peak:.0f} MiB"
    if "rerun_s" in f:
        yield f"    re-run of the complete batch (consentkit batch): {f['rerun_s']:.2f} s  (target < 5 s)"
    if "rerun_composed_s" in f:
        yield (
            f"    re-run of the complete composed batch (consentkit batch --compose): "
            f"{f['rerun_composed_s']:.2f} s  (target < 5 s)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--clients", type=int, default=200, help="synthetic clients for the batch (default 200)"
    )
    parser.add_argument(
        "--naive-sample", type=int, default=5, help="clients for the naive pipeline (default 5)"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="batch workers (default: CPUs)"
    )
    parser.add_argument("--skip-floor", action="store_true", help="skip (c), the direct conversion floor")
    parser.add_argument("--no-compose", action="store_true", help="skip (b2) and (c2), the composed batch")
    parser.add_argument(
        "--only-compose", action="store_true", help="only (b2) and (d2), the composed batch and its re-run"
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat (a)-(c) and take medians (default 1)")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="(e): cold against warm, one packet at a time (bench/warm_bench.py)",
    )
    warm_bench.add_arguments(parser)
    args = parser.parse_args()
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="bench-", dir=args.work))
    else:
        work = Path(tempfile.mkdtemp(prefix="consentkit-bench-"))
    try:
        figures = run(args, work)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    if args.warm:
        print("(e) cold and warm converters, one packet at a time ...", flush=True)
        figures["warm"] = warm_bench.run_in_work(args)
    print()
    for line in report(figures):
        print(line)
    if args.warm:
        for line in warm_bench.report(figures["warm"]):
            print(line)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
