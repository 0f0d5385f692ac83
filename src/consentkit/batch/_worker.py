"""The unit of work of a batch: one chunk of clients, rendered, converted in one LibreOffice call
and finished packet by packet.

:func:`run_chunk` is what an executor runs. It is a plain top-level function of picklable
arguments, so it runs in a thread, in another process or on another machine (dask.distributed).
Each thread that runs chunks borrows a :class:`~consentkit.convert.LibreOfficeConverter` of its
own (its own profile) from a per-process pool and keeps it warm for later chunks.
"""

from __future__ import annotations

import contextlib
import multiprocessing.util
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Protocol

import attrs

from .._files import write_private
from ..convert import Converter, LibreOfficeConverter
from ..errors import ConversionCrash, ConversionError, ConversionTimeout, TemplateError
from ..models import Client, Practice
from ..packet import StagedPacket, compose_staged, finish_composed_packet, finish_packet, stage_packet
from ..records import MANIFEST_NAME
from ..rendering import compiled_renderer, load_template_set
from ._results import BatchResult, row_error
from ._resume import packet_files

__all__ = [
    "ConverterPool",
    "Item",
    "Settings",
    "SharedConverter",
    "existing_folder",
    "register_pool",
    "run_chunk",
    "unregister_pool",
]

#: Limit of one LibreOffice call unless the caller sets one: generous for a healthy process
#: (measured: about 0.05 s per stock document, 0.8 s to start), short enough to notice a hang.
_BASE_TIMEOUT = 30.0
_TIMEOUT_PER_DOCUMENT = 1.0


@attrs.frozen(kw_only=True)
class Settings:
    """The options of a batch that a worker needs."""

    out_dir: Path
    language: str | None = None
    on: date | None = None
    template_ids: tuple[str, ...] | None = None
    include_english: bool = False
    soffice: str | None = None
    timeout: float | None = None
    max_files_per_call: int = 200
    pool: str = ""
    #: Convert each packet's documents as one joined DOCX (see ``consentkit.packet.compose_staged``).
    compose: bool = False

    def call_timeout(self, documents: int) -> float:
        """The time limit for one LibreOffice call converting ``documents`` documents."""
        if self.timeout is not None:
            return self.timeout
        return _BASE_TIMEOUT + _TIMEOUT_PER_DOCUMENT * documents


@attrs.frozen(kw_only=True)
class Item:
    """One client to render."""

    row: int
    client: Client
    folder: str
    inputs_sha256: str
    #: The clients file's name, for messages (``None`` when the clients were given as objects).
    source: str | None = None
    #: The SHA-256 of each template file the packet may be made from (``locale/file name`` -> hash).
    template_hashes: dict[str, str] = attrs.field(eq=False)
    documents: int
    #: The template set chosen for the client (a stock locale, or the custom set's folder).
    template_set: str = "en-US"
    #: The warnings of that choice (no set for the client's language), for the manifest.
    template_warnings: tuple[str, ...] = ()


# --- converters ---------------------------------------------------------------------------------


class _Lender(Protocol):
    def borrow(self, soffice: str | None, max_files_per_call: int) -> AbstractContextManager[Converter]: ...


class SharedConverter:
    """Lends one converter that is safe to share between threads (a
    :class:`~consentkit.warm.WarmConverter`) to every chunk of the batch in this process."""

    def __init__(self, converter: Converter) -> None:
        self.converter = converter

    @contextlib.contextmanager
    def borrow(self, soffice: str | None, max_files_per_call: int) -> Iterator[Converter]:
        yield self.converter

    def close(self) -> None:
        """Nothing: the converter belongs to the caller of the batch."""


class ConverterPool:
    """LibreOffice converters kept warm between chunks; each is used by one thread at a time.

    Args:
        limit: the most converters in use at once (borrowers wait); ``None`` for no limit.
        on_new: called with the profile folder of every converter the pool creates.
    """

    def __init__(self, limit: int | None = None, *, on_new: Callable[[Path], None] | None = None) -> None:
        self._idle: dict[tuple[str | None, int], list[LibreOfficeConverter]] = {}
        self._on_new = on_new
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(limit) if limit else None

    @contextlib.contextmanager
    def borrow(self, soffice: str | None, max_files_per_call: int) -> Iterator[LibreOfficeConverter]:
        """A converter for the caller's exclusive use until the ``with`` block ends.

        Raises:
            ConversionError: LibreOffice is not installed (or ``soffice`` is not executable).
        """
        if self._slots is not None:
            self._slots.acquire()
        try:
            key = (soffice, max_files_per_call)
            with self._lock:
                idle = self._idle.get(key)
                converter = idle.pop() if idle else None
            if converter is None:
                # The chunk's documents were rendered in memory in this process a moment ago and
                # written whole: the package structure is still checked, not every member's CRC.
                converter = LibreOfficeConverter(
                    soffice, max_files_per_call=max_files_per_call, check_members=False
                )
                if self._on_new is not None:
                    self._on_new(converter.profile_dir)
            try:
                yield converter
            finally:
                with self._lock:
                    self._idle.setdefault(key, []).append(converter)
        finally:
            if self._slots is not None:
                self._slots.release()

    def close(self) -> None:
        """Close the idle converters (removing their profiles)."""
        with self._lock:
            converters = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for converter in converters:
            converter.close()


# Pools belong to the process that made them: a worker forked from this process (a
# ProcessPoolExecutor on Linux) must not reuse this process's converters, whose profiles are in use
# here, so every registry entry records its process id.
_POOLS: dict[str, tuple[int, ConverterPool | SharedConverter]] = {}
_DEFAULT_POOLS: dict[int, ConverterPool] = {}
_POOLS_LOCK = threading.Lock()


_STAGING_LOCK = threading.Lock()


def _reset_after_fork() -> None:
    global _POOLS_LOCK, _STAGING_LOCK
    _POOLS_LOCK = threading.Lock()
    _STAGING_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def register_pool(key: str, pool: ConverterPool | SharedConverter) -> None:
    """Make ``pool`` the one chunks with ``Settings.pool == key`` use in this process."""
    with _POOLS_LOCK:
        _POOLS[key] = (os.getpid(), pool)


def unregister_pool(key: str) -> None:
    with _POOLS_LOCK:
        _POOLS.pop(key, None)


def _pool(key: str) -> _Lender:
    """The batch's own pool (or shared converter) in the process that runs the batch; elsewhere
    the process's own pool."""
    pid = os.getpid()
    with _POOLS_LOCK:
        registered = _POOLS.get(key)
        if registered is not None and registered[0] == pid:
            return registered[1]
        pool = _DEFAULT_POOLS.get(pid)
        if pool is None:
            pool = _DEFAULT_POOLS[pid] = ConverterPool()
            # Worker processes of a ProcessPoolExecutor end without running atexit handlers
            # (where each converter would remove its profile); multiprocessing's exit finalizers
            # do run there, and at a normal exit of any process.
            multiprocessing.util.Finalize(pool, pool.close, exitpriority=10)
        return pool


# --- one chunk ----------------------------------------------------------------------------------


@attrs.define
class _Packet:
    item: Item
    staged: StagedPacket
    seconds: float = 0.0
    libreoffice_seconds: float = 0.0
    #: The documents' copies in the chunk's conversion folder, in the packet's order.
    inputs: list[Path] = attrs.Factory(list)
    pdfs: list[Path] | None = None
    error: str | BaseException = ""
    #: The packet's documents are converted as one joined DOCX (``inputs`` holds that one file).
    composed: bool = False


def existing_folder(out_dir: Path, folder: str) -> str | None:
    """``folder`` if it exists in ``out_dir`` (an earlier packet), else ``None``: a failed row
    never names a folder that was not made."""
    return folder if (out_dir / folder).is_dir() else None


def _failed(item: Item, error: str | BaseException, seconds: float, out_dir: Path) -> BatchResult:
    return BatchResult(
        row=item.row,
        client_id=item.client.id,
        folder=existing_folder(out_dir, item.folder),
        status="failed",
        error=row_error(error, source=item.source, row=item.row),
        seconds=seconds,
    )


def _stage(practice: Practice, item: Item, settings: Settings) -> StagedPacket:
    staged = stage_packet(
        practice,
        item.client,
        settings.out_dir / item.folder,
        # The template set the batch chose for this client when it planned the batch.
        template_set=load_template_set(item.template_set),
        template_warnings=item.template_warnings,
        on=settings.on,
        template_ids=settings.template_ids,
        include_english=settings.include_english,
        renderer=compiled_renderer,
    )
    for document in staged.manifest.documents:
        key = f"{document.locale}/{document.template_file}"
        if item.template_hashes.get(key) != document.template_sha256:
            staged.discard()
            raise TemplateError(
                "differs on this worker from the one the batch was planned with",
                template=str(document.template_file),
            )
    return attrs.evolve(staged, manifest=attrs.evolve(staged.manifest, inputs_sha256=item.inputs_sha256))


def run_chunk(practice: Practice, items: Sequence[Item], settings: Settings) -> list[BatchResult]:
    """Make the packets of ``items``: render them all, convert all their documents in as few
    LibreOffice calls as possible, then finish each packet.

    A client whose rendering, conversion or assembly fails is reported failed; the others go on.
    Never raises for a single client's problem.
    """
    results: list[BatchResult] = []
    packets: list[_Packet] = []
    # One chunk renders at a time in a process, in the order chunks arrive: chunks rendering side
    # by side would share the interpreter and all be ready late, leaving LibreOffice idle.
    with _STAGING_LOCK:
        for item in items:
            started = time.perf_counter()
            try:
                staged = _stage(practice, item, settings)
            except Exception as exc:
                results.append(_failed(item, exc, time.perf_counter() - started, settings.out_dir))
                continue
            packets.append(_Packet(item=item, staged=staged, seconds=time.perf_counter() - started))
    if not packets:
        return results
    workdir = Path(tempfile.mkdtemp(prefix=".consentkit-chunk-", dir=settings.out_dir))
    try:
        for number, packet in enumerate(packets):
            joined = compose_staged(packet.staged) if settings.compose else None
            if joined is not None:
                packet.composed = True
                packet.inputs.append(workdir / f"{number}-packet.docx")
                write_private(packet.inputs[0], joined)
                continue
            for docx in packet.staged.docx_paths:
                link = workdir / f"{number}-{docx.name}"
                _link(docx, link)
                packet.inputs.append(link)
        try:
            with _pool(settings.pool).borrow(settings.soffice, settings.max_files_per_call) as converter:
                _convert(converter, packets, workdir, settings, attempt=0)
        except Exception as exc:
            for packet in packets:
                if packet.pdfs is None and not packet.error:
                    packet.error = exc
        for packet in packets:
            results.append(_finish(packet, settings.out_dir))
    finally:
        for packet in packets:
            packet.staged.discard()
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def _link(source: Path, link: Path) -> None:
    try:
        os.link(source, link)
    except OSError:
        shutil.copyfile(source, link)


def _convert(
    converter: Converter,
    packets: list[_Packet],
    workdir: Path,
    settings: Settings,
    *,
    attempt: int,
) -> None:
    """Convert the documents of ``packets`` in one LibreOffice call, isolating failures.

    The converter itself converts missing or invalid outputs once more. When the call still
    fails: a document named by the error fails its client and the rest are converted again; a
    timeout or a crash of the whole call (which name no culprit) splits the clients into halves
    converted separately, down to a single client, which is tried once more before it is marked
    failed.
    """
    documents = [doc for packet in packets for doc in packet.inputs]
    # A cold converter's time limit is per call, so it grows with the chunk; a warm converter
    # (shared, see SharedConverter) keeps its own limit per document.
    cold = converter if isinstance(converter, LibreOfficeConverter) else None
    if cold is not None:
        cold.timeout = settings.call_timeout(sum(len(p.staged.docx_paths) for p in packets))
    before = cold.seconds_in_libreoffice if cold is not None else time.perf_counter()
    try:
        try:
            pdfs = converter.convert(documents, workdir)
        finally:
            spent = (cold.seconds_in_libreoffice if cold is not None else time.perf_counter()) - before
            for packet in packets:
                packet.libreoffice_seconds += spent * len(packet.inputs) / len(documents)
    except ConversionError as exc:
        culprit = None
        # A timeout or a crash of the whole call names no culprit: bisect instead.
        if not isinstance(exc, ConversionTimeout | ConversionCrash):
            culprit = next((p for p in packets if any(d.name == exc.document for d in p.inputs)), None)
        if culprit is not None:
            culprit.error = _document_error(exc, culprit)
            rest = [p for p in packets if p is not culprit]
            if rest:
                _convert(converter, rest, workdir, settings, attempt=attempt)
        elif len(packets) > 1:
            middle = len(packets) // 2
            _convert(converter, packets[:middle], workdir, settings, attempt=attempt + 1)
            _convert(converter, packets[middle:], workdir, settings, attempt=attempt + 1)
        elif attempt == 0:
            _convert(converter, packets, workdir, settings, attempt=1)
        else:
            packets[0].error = _document_error(exc, packets[0])
        return
    position = 0
    for packet in packets:
        packet.pdfs = pdfs[position : position + len(packet.inputs)]
        position += len(packet.inputs)


def _document_error(exc: ConversionError, packet: _Packet) -> str:
    """The converter's message with the chunk's file name turned back into the template's."""
    message = str(exc)
    if packet.composed:
        message = message.replace(packet.inputs[0].name, "the packet's joined documents")
    else:
        for link, docx in zip(packet.inputs, packet.staged.docx_paths, strict=True):
            message = message.replace(link.name, docx.name)
    if isinstance(exc, ConversionTimeout | ConversionCrash):
        return f"{message} (tried twice)"
    return message


def _finish(packet: _Packet, out_dir: Path) -> BatchResult:
    item = packet.item
    started = time.perf_counter()
    if packet.error or packet.pdfs is None:
        packet.staged.discard()
        return _failed(
            item, packet.error or "not converted", packet.seconds + packet.libreoffice_seconds, out_dir
        )
    try:
        if packet.composed:
            result = finish_composed_packet(packet.staged, packet.pdfs[0])
        else:
            pdfs = []
            for pdf, docx in zip(packet.pdfs, packet.staged.docx_paths, strict=True):
                target = packet.staged.staging / f"{docx.stem}.pdf"
                os.replace(pdf, target)
                pdfs.append(target)
            result = finish_packet(packet.staged, pdfs)
    except Exception as exc:
        packet.staged.discard()
        seconds = packet.seconds + packet.libreoffice_seconds + time.perf_counter() - started
        return _failed(item, exc, seconds, out_dir)
    hashes = {f"{item.folder}/{name}": sha for name, sha in packet_files(result.manifest).items()}
    hashes[f"{item.folder}/{MANIFEST_NAME}"] = result.manifest_sha256
    seconds = packet.seconds + packet.libreoffice_seconds + time.perf_counter() - started
    return BatchResult(
        row=item.row,
        client_id=item.client.id,
        folder=item.folder,
        status="ok",
        warnings=result.warnings,
        hashes=hashes,
        seconds=seconds,
        libreoffice_seconds=packet.libreoffice_seconds,
    )
