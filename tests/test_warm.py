"""The warm converter with the real LibreOffice (through unoserver): the same PDFs as the cold
converter, shared by threads, a killed or hung LibreOffice costing one document, and nothing left
behind after close, at interpreter exit or when the host process is killed.

Each LibreOffice start through unoserver takes about seven seconds (unoserver waits that long on
purpose), so the tests share two converters: ``warm`` (two LibreOffice processes) and ``single``
(one, for the crash and hang tests, where the next document has to wait for the restart).
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pikepdf
import pytest
from docx import Document

from consentkit import ConversionError, ConversionTimeout, WarmConverter, render_packet
from consentkit.batch import generate_packets
from consentkit.models import Client, Practice
from consentkit.pdf import check_archival, pdf_text, pdffonts_all_embedded
from consentkit.warm import UNO_PYTHON_ENV, find_uno_python

from .batch_support import assert_complete_packet
from .conftest import DOC_DATE, NOW, ROOT

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, sends signals"),
]


# --- helpers ------------------------------------------------------------------------------------


def group_processes(pgid: int) -> dict[int, str]:
    """Live processes of process group ``pgid``: pid -> command name."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found[int(entry.name)] = name
    return found


def soffice_bin(group: int) -> int:
    """The pid of the LibreOffice process in a server's process group."""
    pids = [pid for pid, name in group_processes(group).items() if name == "soffice.bin"]
    assert len(pids) == 1, group_processes(group)
    return pids[0]


def gone(pgid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while group_processes(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def long_docx(path: Path) -> Path:
    """A document LibreOffice needs a few seconds for (about 600 pages, 3-5 s here)."""
    document = Document()
    for number in range(6000):
        document.add_paragraph(f"Paragraph {number}. " + "Informed consent for counseling services. " * 8)
    document.save(str(path))
    return path


def titled_docx(path: Path, title: str) -> Path:
    document = Document()
    document.core_properties.title = title
    document.add_paragraph(title)
    document.save(str(path))
    return path


def render(practice: Practice, client: Client, out: Path, converter: WarmConverter | None) -> Path:
    """Render like the session's ``rendered_examples`` (same date, time and packet id)."""
    return render_packet(
        practice, client, out, on=DOC_DATE, now=NOW, packet_id=f"PKT-{client.id}", converter=converter
    ).out_dir


def documents(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.pdf") if p.name != "packet.pdf")


@functools.cache
def text_of(pdf: Path) -> str:
    return pdf_text(pdf)


def texts(pdfs: list[Path]) -> list[str]:
    """pdftotext of each PDF (0.1-0.9 s each here), four at a time."""
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(text_of, pdfs))


def assert_same_as_cold(warm_folder: Path, cold_folder: Path) -> None:
    """Each PDF passes the archival checks and has the cold conversion's pages; each document's
    text is the cold one's (the packet is the documents merged)."""
    assert [p.name for p in documents(warm_folder)] == [p.name for p in documents(cold_folder)]
    for warm_pdf in [*documents(warm_folder), warm_folder / "packet.pdf"]:
        cold_pdf = cold_folder / warm_pdf.name
        assert check_archival(warm_pdf, part=3) == [], warm_pdf.name
        assert pdffonts_all_embedded(warm_pdf) == [], warm_pdf.name
        with pikepdf.open(warm_pdf) as warm, pikepdf.open(cold_pdf) as cold:
            assert len(warm.pages) == len(cold.pages), warm_pdf.name
            assert "/StructTreeRoot" in warm.Root, warm_pdf.name  # tagged, as the cold output
            assert bool(warm.Root.MarkInfo.Marked) is True, warm_pdf.name
    pairs = [(p, cold_folder / p.name) for p in documents(warm_folder)]
    warm_texts = texts([w for w, _ in pairs])
    cold_texts = texts([c for _, c in pairs])
    for (warm_pdf, _), warm_text, cold_text in zip(pairs, warm_texts, cold_texts, strict=True):
        assert warm_text == cold_text, warm_pdf.name


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warm() -> Iterator[WarmConverter]:
    with WarmConverter(instances=2) as converter:
        yield converter


@pytest.fixture(scope="module")
def long_documents(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("long")
    return [long_docx(folder / "long-a.docx"), long_docx(folder / "long-b.docx")]


# --- the output ---------------------------------------------------------------------------------


def test_warm_packets_pass_the_archival_checks_and_match_the_cold_ones(
    tmp_path: Path,
    practice: Practice,
    example_clients: dict[str, Client],
    rendered_examples: dict[str, Path],
    warm: WarmConverter,
) -> None:
    for name in ("adult", "spanish"):  # the 5-document packet, in both languages
        folder = render(practice, example_clients[name], tmp_path / name, warm)
        assert_same_as_cold(folder, rendered_examples[name])
        for pdf in folder.iterdir():
            assert pdf.stat().st_mode & 0o777 == 0o600, pdf.name
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_four_threads_share_one_warm_converter(
    tmp_path: Path,
    practice: Practice,
    example_clients: dict[str, Client],
    rendered_examples: dict[str, Path],
    warm: WarmConverter,
) -> None:
    names = sorted(example_clients)
    errors: list[BaseException] = []
    made: list[tuple[str, Path]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    # Besides the packets, many quick calls whose documents have the same names in every thread
    # (as every packet's have) and a title of their own, which LibreOffice writes into the PDF.
    small: dict[tuple[int, int], list[Path]] = {}
    for thread in range(4):
        for round_ in range(6):
            folder = tmp_path / f"small-{thread}-{round_}"
            folder.mkdir()
            small[thread, round_] = [
                titled_docx(folder / f"{stem}.docx", f"T{thread}-R{round_}-{stem}") for stem in "abcde"
            ]

    def work(thread: int) -> None:
        try:
            start.wait()
            for round_ in range(6):
                pdfs = warm.convert(small[thread, round_], tmp_path / f"small-{thread}-{round_}" / "pdf")
                for stem, pdf in zip("abcde", pdfs, strict=True):
                    with pikepdf.open(pdf) as converted:
                        assert str(converted.docinfo["/Title"]) == f"T{thread}-R{round_}-{stem}"
                if round_ < 2:
                    name = names[(thread + round_) % len(names)]
                    folder = render(practice, example_clients[name], tmp_path / f"t{thread}-{round_}", warm)
                    with lock:
                        made.append((name, folder))
        except BaseException as exc:
            errors.append(exc)

    before = warm.stats().documents
    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(made) == 8
    # Every document of every packet is its own client's: nothing mixed up between threads.
    pairs = [(pdf, rendered_examples[name] / pdf.name) for name, folder in made for pdf in documents(folder)]
    for (pdf, _), warm_text, cold_text in zip(
        pairs, texts([w for w, _ in pairs]), texts([c for _, c in pairs]), strict=True
    ):
        assert warm_text == cold_text, (pdf.parent.name, pdf.name)
    assert warm.stats().documents - before == sum(len(documents(f)) for _, f in made) + 4 * 6 * 5


def test_a_document_libreoffice_cannot_load_fails_alone_and_libreoffice_is_kept(
    tmp_path: Path, warm: WarmConverter
) -> None:
    bad = tmp_path / "bad.docx"
    with zipfile.ZipFile(bad, "w") as archive:  # a DOCX package whose document is not XML
        archive.writestr("word/document.xml", "not xml <<<")
    good = titled_docx(tmp_path / "good.docx", "good")
    before = warm.stats()
    with pytest.raises(ConversionError) as caught:
        warm.convert([good, bad], tmp_path / "out")
    assert caught.value.document == "bad.docx"
    assert "could not convert it (Could not load document bad.docx" in str(caught.value)
    assert str(tmp_path) not in str(caught.value)
    assert not (tmp_path / "out" / "good.pdf").exists()  # all of a call's PDFs or none
    after = warm.stats()
    assert (after.restarts, after.process_groups) == (before.restarts, before.process_groups)


def test_the_batch_converts_with_a_warm_converter(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client], warm: WarmConverter
) -> None:
    before = warm.stats().documents
    results = list(
        generate_packets(
            practice, example_clients.values(), tmp_path / "out", on=DOC_DATE, converter=warm, workers=2
        )
    )
    assert sorted((r.client_id, r.status) for r in results) == sorted(
        (c.id, "ok") for c in example_clients.values()
    )
    for result in results:
        assert result.folder is not None
        assert_complete_packet(tmp_path / "out" / result.folder, archival=True)
    converted = warm.stats().documents - before
    assert converted == sum(len(documents(tmp_path / "out" / str(r.folder))) for r in results)
    assert len(warm.stats().process_groups) == 2  # the batch leaves the caller's converter running


# --- crash and hang -----------------------------------------------------------------------------


#: Process groups of LibreOffice servers started by a restart in this module.
RESTARTED: set[int] = set()


def convert_in_thread(
    converter: WarmConverter, docs: list[Path], out: Path
) -> tuple[threading.Thread, list[BaseException]]:
    caught: list[BaseException] = []

    def run() -> None:
        try:
            converter.convert(docs, out)
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, caught


def ready(converter: WarmConverter, instances: int = 2, within: float = 60.0) -> tuple[int, ...]:
    """Wait until ``instances`` servers run (a restart finished); their process groups."""
    deadline = time.monotonic() + within
    while len(groups := converter.stats().process_groups) != instances:
        assert time.monotonic() < deadline, groups
        time.sleep(0.2)
    converter.start()
    return groups


@pytest.mark.slow
def test_libreoffice_killed_mid_document_fails_that_document_and_the_next_render_works(
    tmp_path: Path,
    practice: Practice,
    example_clients: dict[str, Client],
    warm: WarmConverter,
    long_documents: list[Path],
) -> None:
    victim_group, other_group = ready(warm)
    before = warm.stats()
    # Both LibreOffice processes take one long document each; one of them is killed.
    thread, caught = convert_in_thread(warm, long_documents, tmp_path / "long")
    time.sleep(1.0)
    assert thread.is_alive()
    os.kill(soffice_bin(victim_group), signal.SIGKILL)
    thread.join(timeout=60)
    assert not thread.is_alive()
    (error,) = caught
    assert type(error) is ConversionError
    assert error.document in {doc.name for doc in long_documents}
    assert "stopped while converting it" in str(error)
    assert not (tmp_path / "long").exists() or list((tmp_path / "long").iterdir()) == []
    assert gone(victim_group), group_processes(victim_group)  # unoserver and every LibreOffice process

    # The next render succeeds at once: the other LibreOffice converts while this one restarts.
    started = time.monotonic()
    folder = render(practice, example_clients["adult"], tmp_path / "next", warm)
    assert time.monotonic() - started < 5
    for pdf in [*documents(folder), folder / "packet.pdf"]:
        assert check_archival(pdf, part=3) == [], pdf.name
    after = warm.stats()
    assert after.restarts - before.restarts == 1
    assert after.failures - before.failures == 1
    groups = ready(warm)
    assert victim_group not in groups and other_group in groups
    RESTARTED.update(set(groups) - {other_group})


@pytest.mark.slow
def test_hung_libreoffice_times_out_naming_the_document_and_is_replaced(
    tmp_path: Path, warm: WarmConverter, long_documents: list[Path]
) -> None:
    groups = ready(warm)
    # Stop the one the crash test did not restart (when it ran first), so that the long document
    # the other takes proves that the restarted LibreOffice converts.
    victim_group = next((g for g in groups if g not in RESTARTED), groups[0])
    before = warm.stats()
    warm.timeout = 10  # the long document takes 3-5 s here
    try:
        thread, caught = convert_in_thread(warm, long_documents, tmp_path / "long")
        started = time.monotonic()
        time.sleep(0.5)
        os.kill(soffice_bin(victim_group), signal.SIGSTOP)  # a LibreOffice that never answers
        thread.join(timeout=60)
        waited = time.monotonic() - started
    finally:
        warm.timeout = 60
    (error,) = caught
    assert isinstance(error, ConversionTimeout)
    assert error.document in {doc.name for doc in long_documents}
    assert 10 <= waited < 25
    assert gone(victim_group), group_processes(victim_group)  # the stopped process was killed too
    after = warm.stats()
    assert after.restarts - before.restarts == 1
    assert after.documents - before.documents == 1  # the other long document, by the other process
    small = tmp_path / "small.docx"
    Document().save(str(small))
    started = time.monotonic()
    (pdf,) = warm.convert([small], tmp_path / "small")
    assert time.monotonic() - started < 5
    assert check_archival(pdf, part=3) == []


# --- recycling ---------------------------------------------------------------------------------


def test_start_without_waiting_returns_at_once_and_a_conversion_waits(tmp_path: Path) -> None:
    small = tmp_path / "small.docx"
    Document().save(str(small))
    converter = WarmConverter(instances=1)
    try:
        begun = time.monotonic()
        assert converter.start(wait=False) is converter
        assert time.monotonic() - begun < 0.5  # a start takes over a second: it was not waited for
        deadline = time.monotonic() + 5
        while not converter.stats().process_groups:  # but it is under way
            assert time.monotonic() < deadline
            time.sleep(0.01)
        (pdf,) = converter.convert([small], tmp_path / "out")
        assert check_archival(pdf, part=3) == []
    finally:
        converter.close()
    assert converter.stats().process_groups == ()


@pytest.mark.slow
def test_recycling_in_place_never_runs_more_than_instances_processes(tmp_path: Path) -> None:
    small = tmp_path / "small.docx"
    Document().save(str(small))
    seen: list[int] = []
    done = threading.Event()
    with WarmConverter(instances=2, recycle_after=3, recycle_beside=False) as converter:

        def sample() -> None:
            while not done.is_set():
                seen.append(len(converter.stats().process_groups))
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            for number in range(12):
                (pdf,) = converter.convert([small], tmp_path / f"out-{number}")
                assert check_archival(pdf, part=3) == []
        finally:
            done.set()
            sampler.join()
        stats = converter.stats()
    # Slot 1's first recycle is staggered (after 2 documents, then every 3), slot 0's after 3.
    assert stats.recycles >= 3
    assert (stats.restarts, stats.failures) == (0, 0)
    assert max(seen) == 2, "a replacement started beside the process it replaces"


@pytest.mark.slow
def test_libreoffice_is_recycled_after_recycle_after_documents_without_a_wait(
    tmp_path: Path, warm: WarmConverter
) -> None:
    small = tmp_path / "small.docx"
    Document().save(str(small))
    before = warm.stats()
    warm.recycle_after = 1  # every server with a document behind it is due
    try:
        deadline = time.monotonic() + 60
        while warm.stats().recycles == before.recycles:
            assert time.monotonic() < deadline
            # Served by the old servers until a replacement is ready: no call waits for a start.
            started = time.monotonic()
            warm.convert([small], tmp_path / "out")
            assert time.monotonic() - started < 5
            time.sleep(0.2)
    finally:
        warm.recycle_after = 500
    after = warm.stats()
    retired = set(before.process_groups) - set(after.process_groups)
    assert retired
    for group in retired:
        assert gone(group), group_processes(group)
    assert (after.restarts, after.failures) == (before.restarts, before.failures)


# --- cleaning up --------------------------------------------------------------------------------


def test_close_kills_every_process_group_and_removes_the_profiles(warm: WarmConverter) -> None:
    # When run after the hang test, one LibreOffice is still starting: close() ends it too.
    groups = warm.stats().process_groups
    root = warm._root
    assert root is not None and any(root.glob("lo-*/profile"))
    warm.close()
    assert not root.exists()
    for group in groups:
        assert gone(group), group_processes(group)
    assert warm.stats().process_groups == ()
    with pytest.raises(ConversionError, match="closed"):
        warm.convert([ROOT / "templates" / "en-US" / "fees_policy.docx"], root)
    warm.close()  # again: nothing happens


_CHILD = """
import json, os, sys, time
from consentkit import WarmConverter
converter = WarmConverter(instances=1).start()
print(json.dumps({"root": str(converter._root), "groups": converter.stats().process_groups}), flush=True)
if sys.argv[1] == "exit":
    sys.exit(0)  # never closed: the exit handler cleans up
time.sleep(600)  # killed with SIGKILL: no exit handler runs; the server's watchdog cleans up
"""


@pytest.mark.slow
def test_interpreter_exit_and_a_killed_host_leave_no_profile_and_no_libreoffice(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(_CHILD))
    # Each child has a temporary folder of its own, which must be empty at the end: no profile,
    # no LibreOffice lu*.tmp, no unoserver folder, no LibreOffice pipe.
    temporary = {how: tmp_path / f"tmp-{how}" for how in ("exit", "kill")}
    children = {}
    for how, folder in temporary.items():
        folder.mkdir()
        children[how] = subprocess.Popen(
            [sys.executable, str(script), how],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env={**os.environ, "TMPDIR": str(folder)},
        )
    seen = {}
    try:
        for how, child in children.items():
            assert child.stdout is not None
            seen[how] = json.loads(child.stdout.readline())
        children["exit"].wait(timeout=60)
        # The exit handler ran before the interpreter ended (the servers' watchdogs, which would
        # also clean up, take up to half a second to notice).
        assert not Path(seen["exit"]["root"]).exists()
        children["kill"].send_signal(signal.SIGKILL)
        children["kill"].wait(timeout=60)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.kill()
                child.wait()
    assert children["exit"].returncode == 0
    for how, record in seen.items():
        for group in record["groups"]:
            assert gone(group), (how, group_processes(group))
        assert Path(record["root"]).parent == temporary[how]
        deadline = time.monotonic() + 10
        while list(temporary[how].iterdir()):
            assert time.monotonic() < deadline, (how, list(temporary[how].rglob("*"))[:5])
            time.sleep(0.1)


# --- set-up errors (no LibreOffice started) ----------------------------------------------------


def test_a_python_without_uno_is_refused_with_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(UNO_PYTHON_ENV, sys.executable)  # the test venv's Python has no uno
    with pytest.raises(ConversionError, match="cannot import uno"):
        find_uno_python()
    with pytest.raises(ConversionError, match="python3-uno"):
        WarmConverter(python=sys.executable)


def test_invalid_settings_are_refused() -> None:
    for kwargs in ({"instances": 0}, {"timeout": 0}, {"recycle_after": 0}, {"start_timeout": -1}):
        with pytest.raises(ValueError):
            WarmConverter(**kwargs)  # type: ignore[arg-type]
