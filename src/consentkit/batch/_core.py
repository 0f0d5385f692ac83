"""Batch generation: plan the clients, skip the complete ones, run chunks on an executor, report."""

from __future__ import annotations

import math
import os
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from datetime import date
from pathlib import Path
from typing import Any

from .._files import DIR_MODE
from ..convert import Converter, LibreOfficeConverter
from ..errors import ConsentKitError
from ..loaders import ClientRow
from ..models import Client, Practice
from ..packet import choose_template_set, composes
from ..rendering import TemplateSet, load_template_set
from ..warm import WarmConverter
from ._lock import BatchLock
from ._names import FolderNames
from ._results import REPORT_CSV, REPORT_JSON, BatchResult, row_error, write_report_csv, write_report_json
from ._resume import (
    clean_stale,
    inputs_sha256,
    manifest_client_id,
    plain_form,
    rules_data_sha256,
    template_file_hashes,
    verified_outputs,
)
from ._worker import (
    ConverterPool,
    Item,
    Settings,
    SharedConverter,
    existing_folder,
    register_pool,
    run_chunk,
    unregister_pool,
)

__all__ = ["generate_packets"]

#: Chunks in flight beyond one per LibreOffice process, in the default thread pool: they are
#: rendered and assembled while the LibreOffice processes convert. Two, so that when both
#: processes finish a call at nearly the same moment each finds a rendered chunk waiting
#: (measured: converters busy 94% of the time against 88-91% with one; docs/batch.md).
_EXTRA_CHUNKS = 2
#: Threads that check the packets already on disk while the batch plans (reading and hashing
#: release the GIL), and how many rows may wait for their check before planning waits.
_VERIFIERS = 4
_VERIFY_AHEAD = 64


class _Planner:
    """Turns input rows into work items, results for rows that need no work, and folder names."""

    def __init__(
        self,
        practice: Practice,
        out_dir: Path,
        *,
        language: str | None,
        on: date | None,
        template_ids: Sequence[str] | None,
        include_english: bool,
        force: bool,
    ) -> None:
        self.practice = practice
        self.practice_form = plain_form(practice)  # hashed with every client: computed once
        self.out_dir = out_dir
        self.language = language
        #: ``language`` names a custom template set's folder (else a stock locale or nothing).
        self.custom_set = language is not None and Path(language).is_dir()
        self.template_ids = tuple(template_ids) if template_ids is not None else None
        self.include_english = include_english
        self.force = force
        # An implicit document date (today) is not an input: a batch resumed the next day keeps
        # the packets already made. An explicit one is. The state rule data is.
        self.options: dict[str, Any] = {
            "on": on,
            "template_ids": self.template_ids,
            "include_english": include_english,
            "rules_data": rules_data_sha256(),
        }
        self.names = FolderNames()
        self.seen: dict[str, int] = {}
        self._hashes: dict[Path, dict[str, str]] = {}

    def _template_hashes(self, *template_sets: TemplateSet) -> dict[str, str]:
        """``locale/file name`` -> SHA-256 for every file of the sets."""
        combined: dict[str, str] = {}
        for template_set in template_sets:
            if template_set.root not in self._hashes:
                self._hashes[template_set.root] = template_file_hashes(template_set)
            combined.update(
                (f"{template_set.locale}/{name}", sha)
                for name, sha in self._hashes[template_set.root].items()
            )
        return combined

    def plan(self, row: int, entry: Client | ClientRow) -> BatchResult | Item:
        started = time.perf_counter()
        source: str | None = None
        if isinstance(entry, ClientRow):
            row = entry.row
            source = entry.source
            if entry.blank:
                return BatchResult(row=row, client_id=None, folder=None, status="skipped", note="blank")
            if entry.error is not None or entry.client is None:
                raw_id = entry.data.get("id")
                client_id = raw_id.strip() if isinstance(raw_id, str) and raw_id.strip() else None
                error = str(entry.error) if entry.error is not None else "no client in this row"
                return BatchResult(row=row, client_id=client_id, folder=None, status="failed", error=error)
            client = entry.client
        else:
            client = entry

        def failed(error: str | BaseException, folder: str | None = None) -> BatchResult:
            return BatchResult(
                row=row,
                client_id=client.id,
                folder=folder,
                status="failed",
                error=row_error(error, source=source, row=row),
                seconds=time.perf_counter() - started,
            )

        if client.id in self.seen:
            return failed(f"duplicate client id (first in row {self.seen[client.id]})")
        self.seen[client.id] = row
        try:
            template_set, choice_warnings = choose_template_set(
                client.preferred_language, force=self.language, fallback=self.practice.default_language
            )
            sets = [template_set]
            if self.include_english and template_set.locale != "en-US":
                sets.append(load_template_set("en-US"))
        except ConsentKitError as exc:
            return failed(exc)
        templates = [
            t for t in template_set.templates if self.template_ids is None or t.id in self.template_ids
        ]
        if not templates:
            return failed("no templates selected")
        hashes = self._template_hashes(*sets)
        folder = self.names.claim(client.id, lambda name: manifest_client_id(self.out_dir / name))
        if folder is None:
            return failed("no free folder name: other clients' packets hold both candidate names")
        if (self.out_dir / folder).is_symlink():
            return failed(f"{folder} is a symbolic link; refusing to write through it", folder)
        digest = inputs_sha256(
            self.practice,
            client,
            template_set,
            options=self.options,
            template_hashes=hashes,
            practice_form=self.practice_form,
        )
        return Item(
            row=row,
            source=source,
            client=client,
            folder=folder,
            inputs_sha256=digest,
            template_hashes=hashes,
            documents=len(templates) * len(sets),
            template_set=str(self.language) if self.custom_set else template_set.locale,
            template_warnings=tuple(choice_warnings),
        )

    def check(self, item: Item) -> BatchResult | Item:
        """The row's result when its folder already holds its complete packet (made from the same
        inputs, every file as its manifest records), else ``item``. Safe to call from any thread."""
        started = time.perf_counter()
        found = None if self.force else verified_outputs(self.out_dir / item.folder, item.inputs_sha256)
        if found is None:
            return item
        return BatchResult(
            row=item.row,
            client_id=item.client.id,
            folder=item.folder,
            status="skipped",
            warnings=found.warnings,
            hashes=found.hashes,
            seconds=time.perf_counter() - started,
        )

    def plan_all(self, clients: Iterable[Client | ClientRow]) -> Iterator[BatchResult | Item]:
        """:meth:`plan` then :meth:`check` every row, in row order; the checks run in threads,
        side by side with planning the rows after them."""
        with ThreadPoolExecutor(_VERIFIERS, "consentkit-verify") as verifiers:
            pending: deque[Future[BatchResult | Item]] = deque()
            for position, entry in enumerate(clients, start=1):
                planned = self.plan(position, entry)
                if isinstance(planned, Item):
                    pending.append(verifiers.submit(self.check, planned))
                else:
                    pending.append(Future())
                    pending[-1].set_result(planned)
                while pending and (len(pending) > _VERIFY_AHEAD or pending[0].done()):
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()


def _take_chunk(queue: deque[Item], remaining: int, processes: int, max_files: int) -> list[Item]:
    """The next chunk of clients.

    About an equal share of the remaining documents per LibreOffice process, so the last chunks
    shrink and the processes finish together; at most ``max_files`` documents (one call), and at
    least a quarter of that, so that LibreOffice's start-up (about 0.8 s a call) stays small. A
    client's documents are never split between chunks.
    """
    target = max(1, min(max_files, max(max_files // 4, math.ceil(remaining / processes))))
    chunk: list[Item] = []
    documents = 0
    while queue and (not chunk or documents + queue[0].documents <= target):
        item = queue.popleft()
        chunk.append(item)
        documents += item.documents
    return chunk


def generate_packets(
    practice: Practice,
    clients: Iterable[Client | ClientRow],
    out_dir: str | Path,
    *,
    workers: int | None = None,
    executor: Executor | None = None,
    language: str | None = None,
    on: date | None = None,
    template_ids: Sequence[str] | None = None,
    include_english: bool = False,
    force: bool = False,
    timeout: float | None = None,
    soffice: str | Path | None = None,
    max_files_per_call: int = 200,
    report: bool = True,
    converter: Converter | None = None,
    compose: bool = False,
) -> Iterator[BatchResult]:
    """Make the packet of every client into ``out_dir/<folder>/``, yielding a result per row as it
    completes.

    Rows that need no work come first (unreadable rows as ``failed``, complete packets made from
    the same inputs as ``skipped``); the others are rendered with the compile-once renderer and
    converted in chunks of up to ``max_files_per_call`` documents per LibreOffice call, one
    LibreOffice process (with its own profile) per worker. A client whose rendering, conversion
    or assembly fails is reported and the others go on. Each packet folder appears whole or not
    at all; killing the process leaves only dot-prefixed temporary folders, removed by the next
    run, which then completes the batch.

    Args:
        practice: the practice.
        clients: the clients, or the rows of :func:`~consentkit.loaders.iter_clients_csv`
            (whose errors become ``failed`` results). Read completely before work starts.
        out_dir: the batch folder (created if missing).
        workers: how many LibreOffice processes convert at once, each with its own profile;
            default: the number of CPUs. With ``executor``, the number of its worker threads
            (chunks are submitted that many at a time and sized for them).
        executor: where chunks run (any :class:`concurrent.futures.Executor`: a
            ``ProcessPoolExecutor``, or ``dask.distributed.Client.get_executor()``, whose
            workers need LibreOffice and ``out_dir`` on a shared filesystem). Default: a thread
            pool in this process running two chunks more than ``workers``, rendered (one at a
            time) or assembled while the others convert.
        language: force a template locale or custom set folder instead of each client's
            preferred language.
        on: the document date (default: the day each packet is made; not part of the inputs a
            resumed batch compares).
        template_ids: render only these templates of the set.
        include_english: add an unsigned English copy of each document to translated packets.
        force: remake packets even when a complete one from the same inputs exists.
        timeout: the time limit in seconds of one LibreOffice call; default 30 s plus 1 s per
            document in the call.
        soffice: the ``soffice`` executable (default: found as
            :func:`~consentkit.convert.find_soffice` finds it).
        max_files_per_call: the most documents one LibreOffice call converts.
        report: write ``report.csv`` and ``report.json`` into ``out_dir`` at the end.
        converter: a converter shared by every chunk that runs in this process (the default
            thread pool, or a thread-based ``executor``), instead of one LibreOffice process per
            worker started for each call: a :class:`~consentkit.warm.WarmConverter` that a
            long-lived process already runs. It must be safe to share between threads; the
            batch does not close it. Chunks that run in other processes (a process pool, dask
            workers) cannot use it and convert as without it.
        compose: convert each packet's documents as one joined DOCX, one LibreOffice load per
            packet instead of one per document (about half of LibreOffice's time; see
            ``docs/batch.md``). Packet folders then hold ``packet.pdf`` and the DOCX files but no
            PDF per document; the manifest keeps each document's pages in ``packet.pdf``. Used
            only with a ``converter`` that lays documents out fully (a
            :class:`~consentkit.warm.WarmConverter`); without one, and for a packet whose documents
            cannot be joined faithfully, documents are converted as without it.

    Yields:
        One :class:`BatchResult` per input row, in the order they complete. Closing the
        iterator early stops new chunks and waits for the running ones.

    Raises:
        OutputExistsError: another batch is writing to ``out_dir``.
        ConversionError: LibreOffice is not installed (checked up front without ``executor``), or
            ``converter`` is a :class:`~consentkit.warm.WarmConverter` already closed.
        TemplateError: ``language`` names no usable template set.
        InputError: raised by ``clients`` while it is read.
    """
    out_dir = Path(out_dir).absolute()
    out_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    workers = max(1, workers or os.cpu_count() or 1)
    soffice_arg = str(soffice) if soffice is not None else None
    if language is not None:
        choose_template_set(practice.default_language, force=language)
    if executor is None and converter is None:
        LibreOfficeConverter(soffice_arg, max_files_per_call=max_files_per_call).close()
    started = time.perf_counter()
    with BatchLock.acquire(out_dir) as lock:
        clean_stale(out_dir)
        planner = _Planner(
            practice,
            out_dir,
            language=language,
            on=on,
            template_ids=template_ids,
            include_english=include_english,
            force=force,
        )
        results: list[BatchResult] = []
        queue: deque[Item] = deque()
        for planned in planner.plan_all(clients):
            if isinstance(planned, Item):
                queue.append(planned)
            else:
                results.append(planned)
                yield planned
        if queue:
            pool_key = f"{os.getpid()}-{uuid.uuid4().hex}"
            settings = Settings(
                out_dir=out_dir,
                language=language,
                on=on,
                pool=pool_key,
                template_ids=tuple(template_ids) if template_ids is not None else None,
                include_english=include_english,
                soffice=soffice_arg,
                timeout=timeout,
                max_files_per_call=max_files_per_call,
                compose=composes(compose, converter),
            )
            pool: ConverterPool | SharedConverter = (
                ConverterPool(limit=workers, on_new=lock.record_profile)
                if converter is None
                else SharedConverter(converter)
            )
            register_pool(pool_key, pool)
            if isinstance(converter, WarmConverter):
                # Its LibreOffice processes start while the first chunks render (when they are
                # not running yet); a batch with nothing to make never starts them.
                converter.start(wait=False)
            own = executor is None
            # More chunks than LibreOffice processes: they render or finish their packets while
            # the LibreOffice processes convert, so these never wait for Python.
            slots = workers + _EXTRA_CHUNKS if own else workers
            runner = executor if executor is not None else ThreadPoolExecutor(slots, "consentkit-batch")
            try:
                for result in _run(runner, practice, queue, settings, slots=slots, processes=workers):
                    results.append(result)
                    yield result
            finally:
                if own:
                    runner.shutdown(wait=True, cancel_futures=True)
                unregister_pool(pool_key)
                pool.close()
        if report:
            elapsed = time.perf_counter() - started
            write_report_csv(results, out_dir / REPORT_CSV)
            write_report_json(results, out_dir / REPORT_JSON, seconds=elapsed)


def _run(
    executor: Executor,
    practice: Practice,
    queue: deque[Item],
    settings: Settings,
    *,
    slots: int,
    processes: int,
) -> Iterator[BatchResult]:
    """Keep ``slots`` chunks running until the queue is empty; yield results as chunks finish.

    Chunks are sized for ``processes`` LibreOffice processes (see :func:`_take_chunk`).
    """
    remaining = sum(item.documents for item in queue)
    running: dict[Future[list[BatchResult]], list[Item]] = {}
    try:
        while queue or running:
            while queue and len(running) < slots:
                chunk = _take_chunk(queue, remaining, processes, settings.max_files_per_call)
                remaining -= sum(item.documents for item in chunk)
                running[executor.submit(run_chunk, practice, chunk, settings)] = chunk
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                chunk = running.pop(future)
                try:
                    chunk_results = future.result()
                except Exception as exc:
                    error = (
                        str(exc)
                        if isinstance(exc, ConsentKitError)
                        else f"worker failed ({type(exc).__name__})"
                    )
                    chunk_results = [
                        BatchResult(
                            row=i.row,
                            client_id=i.client.id,
                            folder=existing_folder(settings.out_dir, i.folder),
                            status="failed",
                            error=row_error(error, source=i.source, row=i.row),
                        )
                        for i in chunk
                    ]
                yield from chunk_results
    finally:
        for future in running:
            future.cancel()
