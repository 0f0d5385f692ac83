"""DOCX to PDF/A-3b conversion: what LibreOffice really does, and its silent failures handled.

Tests marked ``libreoffice`` run the real LibreOffice; the others use a fake ``soffice`` script that
records its arguments and writes (or fails to write) PDFs the way LibreOffice was seen to.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import NamedTuple

import pikepdf
import pytest
from docx import Document

from consentkit.convert import (
    INSTALL_HINT,
    MAX_FILES_PER_CALL,
    PDFA3_EXPORT,
    SOFFICE_ENV,
    LibreOfficeConverter,
    find_soffice,
)
from consentkit.errors import ConversionError, ConversionTimeout
from consentkit.pdf import check_archival, pdf_text, pdffonts_all_embedded

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, runs /bin/sh")

TEXTS = {
    "informed-consent": "Informed consent for counseling, client Jane Example",
    "telehealth": "Telehealth agreement: sessions by video, Ünïcode “quoted” — ok",
    "privacy-notice": "Notice of privacy practices, 42 CFR Part 2",
}


def make_docx(path: Path, text: str) -> Path:
    """A small real DOCX: heading, paragraph and table."""
    document = Document()
    document.core_properties.author = "consentkit tests"
    document.add_heading(text.split(",")[0], level=1)
    document.add_paragraph(text)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Signed"
    table.cell(1, 1).text = "Date"
    document.save(str(path))
    return path


def tiny_docx(path: Path) -> Path:
    """A minimal DOCX-shaped zip; enough for the input check (fake soffice never reads it)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return path


# --- the real LibreOffice ---------------------------------------------------------------------


class Converted(NamedTuple):
    docs: list[Path]
    pdfs: list[Path]
    calls: int
    seconds: float


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, converter: LibreOfficeConverter) -> Converted:
    """Three documents converted in one call by the session's converter."""
    folder = tmp_path_factory.mktemp("convert")
    docs = [make_docx(folder / f"{name}.docx", text) for name, text in TEXTS.items()]
    calls, seconds = converter.soffice_calls, converter.seconds_in_libreoffice
    pdfs = converter.convert(docs, folder / "out")
    return Converted(docs, pdfs, converter.soffice_calls - calls, converter.seconds_in_libreoffice - seconds)


@pytest.fixture(scope="module")
def pdfa_fixture(converted: Converted) -> Path:
    """A real PDF/A-3b from LibreOffice, for the fake soffice to copy."""
    return converted.pdfs[0]


@pytest.mark.libreoffice
def test_documents_convert_to_pdfa3b_in_one_call(converted: Converted) -> None:
    assert [p.name for p in converted.pdfs] == [f"{d.stem}.pdf" for d in converted.docs]
    assert converted.calls == 1
    assert converted.seconds > 0
    for pdf, text in zip(converted.pdfs, TEXTS.values(), strict=True):
        assert pdf.read_bytes().startswith(b"%PDF-")
        assert check_archival(pdf) == []
        assert pdffonts_all_embedded(pdf) == []
        # Each output holds its own document's text: outputs are not mixed up.
        assert text in " ".join(pdf_text(pdf).split())
        assert stat.S_IMODE(pdf.stat().st_mode) == 0o600


@pytest.mark.libreoffice
def test_no_staging_folder_is_left_in_outdir(converted: Converted) -> None:
    outdir = converted.pdfs[0].parent
    assert sorted(p.name for p in outdir.iterdir()) == sorted(p.name for p in converted.pdfs)


@pytest.mark.libreoffice
def test_document_libreoffice_cannot_load_fails_after_one_retry(
    tmp_path: Path, converter: LibreOfficeConverter
) -> None:
    good = make_docx(tmp_path / "good.docx", "A good document")
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(
                info.filename, b"<w:document garbage" if info.filename == "word/document.xml" else data
            )
    calls = converter.soffice_calls
    with pytest.raises(ConversionError, match="LibreOffice wrote no PDF") as caught:
        converter.convert([good, broken], tmp_path / "out")
    assert caught.value.document == "broken.docx"
    assert converter.soffice_calls - calls == 2
    # All or nothing: the good document's PDF is not left in outdir either.
    assert list((tmp_path / "out").iterdir()) == []


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return fields[0] != "Z"


def _group_members(pgid: int) -> set[int]:
    """Processes of a process group that are still running (zombies excepted)."""
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.add(int(entry.name))
    return members


def _wait_dead(pids: set[int], seconds: float = 10.0) -> set[int]:
    deadline = time.monotonic() + seconds
    while (alive := {pid for pid in pids if _alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


@pytest.mark.libreoffice
@linux_only
def test_timeout_kills_soffice_bin(tmp_path: Path) -> None:
    source = make_docx(tmp_path / "doc.docx", "Slow batch")
    docs = [source]
    for i in range(80):
        docs.append(tmp_path / f"doc{i}.docx")
        shutil.copyfile(source, docs[-1])
    profile = tmp_path / "profile"
    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        cmdline = (entry / "cmdline").read_bytes()
                    except OSError:
                        continue
                    if b"soffice.bin" in cmdline and str(profile).encode() in cmdline:
                        seen.add(int(entry.name))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    try:
        with (
            LibreOfficeConverter(timeout=2, profile_dir=profile) as slow,
            pytest.raises(ConversionTimeout, match="2 s limit") as caught,
        ):
            slow.convert(docs, tmp_path / "out")
    finally:
        done.set()
        watcher.join()
    # Killed at the limit, not waited for: the 81 documents take several seconds more.
    assert time.monotonic() - started < 6
    assert caught.value.document == "doc.docx"
    assert seen, "soffice.bin never ran, so the test proves nothing"
    assert _wait_dead(seen) == set()
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


# --- a fake soffice ---------------------------------------------------------------------------

FAKE_SOFFICE = """#!{python}
import json, pathlib, shutil, sys
args = sys.argv[1:]
log = pathlib.Path({log!r})
with log.open("a") as handle:
    handle.write(json.dumps(args) + "\\n")
call = len(log.read_text().splitlines())
plan = json.loads({plan!r})
out = pathlib.Path(args[args.index("--outdir") + 1])
for arg in args:
    if not arg.endswith(".docx"):
        continue
    stem = pathlib.Path(arg).stem
    actions = plan.get(stem, [])
    action = actions[min(call, len(actions)) - 1] if actions else "pdfa"
    target = out / (stem + ".pdf")
    if action == "pdfa":
        shutil.copyfile({pdfa!r}, target)
    elif action == "plain":
        shutil.copyfile({plain!r}, target)
    elif action == "junk":
        target.write_bytes(b"this is no pdf")
"""


class FakeSoffice:
    """A fake ``soffice``: ``plan`` maps a stem to what each call does ("pdfa", "none", ...)."""

    def __init__(self, folder: Path, pdfa: Path, plan: dict[str, list[str]] | None = None) -> None:
        self.path = folder / "soffice"
        self.log = folder / "soffice.log"
        plain = folder / "plain.pdf"
        with pikepdf.new() as pdf:
            pdf.add_blank_page()
            pdf.save(plain)
        self.path.write_text(
            FAKE_SOFFICE.format(
                python=sys.executable,
                log=str(self.log),
                plan=json.dumps(plan or {}),
                pdfa=str(pdfa),
                plain=str(plain),
            )
        )
        self.path.chmod(0o755)

    @property
    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def inputs(self, call: int) -> list[str]:
        return [Path(a).name for a in self.calls[call] if a.endswith(".docx")]


@pytest.fixture
def docs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    return [tiny_docx(folder / f"{name}.docx") for name in ("a", "b", "c")]


@pytest.mark.libreoffice  # copies the real PDF/A
def test_missing_output_is_converted_again_and_then_returned(
    tmp_path: Path, docs: list[Path], pdfa_fixture: Path
) -> None:
    fake = FakeSoffice(tmp_path, pdfa_fixture, {"b": ["none", "pdfa"]})
    with LibreOfficeConverter(fake.path) as conv:
        pdfs = conv.convert(docs, tmp_path / "out")
        assert conv.soffice_calls == 2
    assert pdfs == [tmp_path / "out" / f"{n}.pdf" for n in ("a", "b", "c")]
    assert all(p.read_bytes() == pdfa_fixture.read_bytes() for p in pdfs)
    assert fake.inputs(0) == ["a.docx", "b.docx", "c.docx"]
    assert fake.inputs(1) == ["b.docx"]


@pytest.mark.libreoffice  # copies the real PDF/A
@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("none", "LibreOffice wrote no PDF"),
        ("plain", "output is not PDF/A-3"),
        ("junk", "output is not a PDF"),
    ],
)
def test_output_still_wrong_after_the_retry_raises_naming_the_document(
    tmp_path: Path, docs: list[Path], pdfa_fixture: Path, action: str, reason: str
) -> None:
    fake = FakeSoffice(tmp_path, pdfa_fixture, {"b": [action, action], "c": [action, action]})
    out = tmp_path / "out"
    with LibreOfficeConverter(fake.path) as conv, pytest.raises(ConversionError, match=reason) as caught:
        conv.convert(docs, out)
    assert caught.value.document == "b.docx"
    assert str(caught.value).startswith("b.docx: ")
    assert len(fake.calls) == 2
    assert fake.inputs(1) == ["b.docx", "c.docx"]
    assert list(out.iterdir()) == []


@pytest.mark.libreoffice  # copies the real PDF/A
def test_batches_respect_max_files_per_call(tmp_path: Path, pdfa_fixture: Path) -> None:
    docs = [tiny_docx(tmp_path / f"doc{i}.docx") for i in range(5)]
    fake = FakeSoffice(tmp_path, pdfa_fixture)
    with LibreOfficeConverter(fake.path, max_files_per_call=2) as conv:
        pdfs = conv.convert(docs, tmp_path / "out")
    assert [len(fake.inputs(i)) for i in range(len(fake.calls))] == [2, 2, 1]
    assert [p.stem for p in pdfs] == [d.stem for d in docs]


@pytest.mark.libreoffice  # copies the real PDF/A
def test_command_line_forces_docx_filter_pdfa3_and_a_private_profile(
    tmp_path: Path, docs: list[Path], pdfa_fixture: Path
) -> None:
    fake = FakeSoffice(tmp_path, pdfa_fixture)
    profile = tmp_path / "my profile ü"
    with LibreOfficeConverter(fake.path, profile_dir=profile) as conv:
        conv.convert(docs[:1], tmp_path / "out")
    args = fake.calls[0]
    assert args[0] == f"-env:UserInstallation={profile.as_uri()}"
    assert "file:///" in args[0]
    assert "%20" in args[0]
    assert "%C3%BC" in args[0]
    for option in ("--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck"):
        assert option in args
    assert "--infilter=MS Word 2007 XML" in args
    assert args[args.index("--convert-to") + 1] == PDFA3_EXPORT
    outdir = Path(args[args.index("--outdir") + 1])
    assert outdir.parent == tmp_path / "out"
    assert outdir.name.startswith(".")
    assert args[-1] == str(docs[0])
    # A profile the caller gave is kept.
    assert profile.is_dir()


@pytest.mark.libreoffice  # copies the real PDF/A
def test_existing_output_is_replaced(tmp_path: Path, docs: list[Path], pdfa_fixture: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.pdf").write_bytes(b"old")
    fake = FakeSoffice(tmp_path, pdfa_fixture)
    with LibreOfficeConverter(fake.path) as conv:
        conv.convert(docs[:1], out)
    assert (out / "a.pdf").read_bytes() == pdfa_fixture.read_bytes()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (os.urandom(4000), "not a DOCX"),
        (None, "not a DOCX"),  # the real DOCX cut in half
        (b"PK\x05\x06" + bytes(18), "no word/document.xml"),  # an empty zip
    ],
)
def test_non_docx_input_is_refused_without_running_libreoffice(
    tmp_path: Path, docs: list[Path], content: bytes | None, reason: str
) -> None:
    bad = tmp_path / "in" / "z-bad.docx"
    if content is None:
        whole = make_docx(tmp_path / "whole.docx", "To be truncated").read_bytes()
        content = whole[: len(whole) // 2]
    bad.write_bytes(content)
    fake = FakeSoffice(tmp_path, tmp_path / "unused.pdf")
    with LibreOfficeConverter(fake.path) as conv, pytest.raises(ConversionError, match=reason) as caught:
        conv.convert([*docs, bad], tmp_path / "out")
    assert caught.value.document == "z-bad.docx"
    assert fake.calls == []
    assert not (tmp_path / "out").exists()


def _docx_with_a_damaged_member(path: Path) -> Path:
    """A DOCX whose zip structure is intact but whose document.xml fails its CRC."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    path.write_bytes(path.read_bytes().replace(b"<w:document/>", b"<w:documenX/>", 1))
    return path


@pytest.mark.libreoffice  # copies the real PDF/A
def test_a_damaged_member_is_found_unless_member_checks_are_off(tmp_path: Path, pdfa_fixture: Path) -> None:
    damaged = _docx_with_a_damaged_member(tmp_path / "damaged.docx")
    fake = FakeSoffice(tmp_path, pdfa_fixture)
    with LibreOfficeConverter(fake.path) as conv, pytest.raises(ConversionError, match="damaged DOCX"):
        conv.convert([damaged], tmp_path / "out")
    assert fake.calls == []
    # Batch generation turns the CRC pass off for documents it has just rendered itself; the
    # structure is still checked (an empty or cut zip is refused either way).
    with LibreOfficeConverter(fake.path, check_members=False) as conv:
        assert conv.convert([damaged], tmp_path / "out") == [tmp_path / "out" / "damaged.pdf"]
        half = tmp_path / "half.docx"
        half.write_bytes(damaged.read_bytes()[:40])
        with pytest.raises(ConversionError, match="not a DOCX"):
            conv.convert([half], tmp_path / "out")
    assert len(fake.calls) == 1


def test_missing_input_and_duplicate_stems_are_refused(tmp_path: Path, docs: list[Path]) -> None:
    fake = FakeSoffice(tmp_path, tmp_path / "unused.pdf")
    other = tmp_path / "other"
    other.mkdir()
    with LibreOfficeConverter(fake.path) as conv:
        with pytest.raises(ConversionError, match="no such file"):
            conv.convert([tmp_path / "missing.docx"], tmp_path / "out")
        with pytest.raises(ConversionError, match="same stem"):
            conv.convert([docs[0], tiny_docx(other / "a.docx")], tmp_path / "out")
        assert conv.convert([], tmp_path / "out") == []
    assert fake.calls == []


def hanging_soffice(folder: Path) -> Path:
    """A fake soffice that, like the real launcher, leaves a child in its process group and hangs."""
    script = folder / "soffice"
    script.write_text(
        f"#!/bin/sh\necho $$ > {folder}/leader\nsleep 300 &\necho $! > {folder}/child\nsleep 300\n"
    )
    script.chmod(0o755)
    return script


def assert_group_gone(folder: Path) -> None:
    leader = int((folder / "leader").read_text())
    child = int((folder / "child").read_text())
    assert _wait_dead({leader, child}) == set()
    deadline = time.monotonic() + 10  # a loaded machine may take a moment to reap the group
    while _group_members(leader) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group_members(leader) == set()


@linux_only
def test_timeout_kills_the_whole_process_group(tmp_path: Path, docs: list[Path]) -> None:
    script = hanging_soffice(tmp_path)
    started = time.monotonic()
    with LibreOfficeConverter(script, timeout=0.5) as conv, pytest.raises(ConversionTimeout) as caught:
        conv.convert(docs, tmp_path / "out")
    assert time.monotonic() - started < 10
    assert caught.value.document == "a.docx"
    assert "0.5 s limit" in str(caught.value)
    assert_group_gone(tmp_path)
    assert conv.seconds_in_libreoffice >= 0.5


@linux_only
def test_interrupt_while_waiting_kills_the_group(tmp_path: Path, docs: list[Path]) -> None:
    script = hanging_soffice(tmp_path)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with LibreOfficeConverter(script) as conv, pytest.raises(KeyboardInterrupt):
            conv.convert(docs, tmp_path / "out")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert_group_gone(tmp_path)
    assert not any((tmp_path / "out").iterdir())


# --- profiles and finding soffice -------------------------------------------------------------


def test_each_converter_has_its_own_profile_removed_on_close(tmp_path: Path) -> None:
    fake = FakeSoffice(tmp_path, tmp_path / "unused.pdf")
    first, second = LibreOfficeConverter(fake.path), LibreOfficeConverter(fake.path)
    assert first.profile_dir != second.profile_dir
    assert first.profile_dir == first.profile_dir
    assert first.profile_dir.is_absolute()
    profile = first.profile_dir
    first.close()
    second.close()
    assert not profile.exists()
    first.close()  # closing twice is harmless


def test_invalid_settings_are_refused(tmp_path: Path) -> None:
    fake = FakeSoffice(tmp_path, tmp_path / "unused.pdf")
    with pytest.raises(ValueError, match="max_files_per_call"):
        LibreOfficeConverter(fake.path, max_files_per_call=MAX_FILES_PER_CALL + 1)
    with pytest.raises(ValueError, match="timeout"):
        LibreOfficeConverter(fake.path, timeout=0)
    with pytest.raises(ConversionError, match="not an executable"):
        LibreOfficeConverter(tmp_path / "no-such-soffice")


@pytest.fixture
def no_soffice_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv(SOFFICE_ENV, raising=False)
    return empty


def test_find_soffice_without_libreoffice_gives_the_install_hint(no_soffice_anywhere: Path) -> None:
    with pytest.raises(ConversionError, match="apt-get install") as caught:
        find_soffice()
    assert INSTALL_HINT in str(caught.value)
    assert "brew install --cask libreoffice" in str(caught.value)
    with pytest.raises(ConversionError, match="apt-get install"):
        LibreOfficeConverter()


def test_find_soffice_env_var_wins_and_must_exist(
    tmp_path: Path, no_soffice_anywhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SOFFICE_ENV, str(tmp_path / "nothing-here"))
    with pytest.raises(ConversionError, match=SOFFICE_ENV):
        find_soffice()
    mine = tmp_path / "my-soffice"
    mine.write_text("#!/bin/sh\n")
    mine.chmod(0o755)
    on_path = no_soffice_anywhere / "soffice"
    shutil.copy(mine, on_path)
    monkeypatch.setenv(SOFFICE_ENV, str(mine))
    assert find_soffice() == mine
    monkeypatch.delenv(SOFFICE_ENV)
    assert find_soffice() == on_path


def test_find_soffice_ignores_a_file_that_is_not_executable(
    tmp_path: Path, no_soffice_anywhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "soffice"
    plain.write_text("not executable")
    monkeypatch.setenv(SOFFICE_ENV, str(plain))
    with pytest.raises(ConversionError, match="not an executable"):
        find_soffice()
