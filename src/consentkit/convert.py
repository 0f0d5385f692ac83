"""Convert DOCX documents to PDF/A-3b.

:class:`Converter` is the small interface the packet pipeline needs; :class:`LibreOfficeConverter`
implements it with headless LibreOffice (``soffice --convert-to``), started for each call (batch
generation, the command line), and :class:`~consentkit.warm.WarmConverter` with a LibreOffice kept
running (long-lived processes). Another engine (Gotenberg) can be plugged in behind the same
interface.

LibreOffice fails in ways that do not show in its exit status, so nothing it reports is trusted:

* it exits 0 when a document cannot be loaded, and converts random bytes as plain text unless the
  input filter is forced; inputs are therefore checked to be DOCX first, and the DOCX filter is
  forced;
* it silently skips documents (the launcher passes at most 255 arguments on, so 53 of 300 inputs
  of one call were dropped), so each call gets at most ``max_files_per_call`` inputs, every
  expected output is checked, and missing or invalid ones are converted once more;
* malformed export options give a plain PDF, so every output must claim PDF/A-3 in its XMP;
* two conversions sharing one profile fail silently, so every converter has a private profile;
* a timeout of the launcher leaves ``soffice.bin`` running, so LibreOffice runs in its own
  process group (session) and the whole group is killed;
* a LibreOffice killed mid-way leaves ``lu*.tmp`` folders in the temporary folder, so it runs
  with its temporary folder inside its profile, removed with the profile;
* a process killed while it converts leaves its profile (and, LibreOffice being in a session of
  its own, LibreOffice itself): profiles are named after the process that made them, and the
  first converter of a later process ends what still uses a dead process's profile and removes
  the profile.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Protocol, Self

import attrs
import pikepdf

from ._files import dead_leftovers, owner_tag
from .errors import ConversionCrash, ConversionError, ConversionTimeout
from .pdf.archival import xmp_problems

__all__ = [
    "INSTALL_HINT",
    "MAX_FILES_PER_CALL",
    "PDFA3_EXPORT",
    "PDFA3_FILTER_DATA",
    "PDF_EXPORT_FILTER",
    "SOFFICE_ENV",
    "Converter",
    "LibreOfficeConverter",
    "find_soffice",
]

#: Environment variable naming the ``soffice`` executable to use.
SOFFICE_ENV = "CONSENTKIT_SOFFICE"
#: LibreOffice's PDF export filter.
PDF_EXPORT_FILTER = "writer_pdf_Export"
#: The PDF export filter's options: PDF/A-3b (LibreOffice then also tags the PDF and embeds every
#: font). Every converter uses these, so cold and warm conversions give the same kind of PDF.
PDFA3_FILTER_DATA: Mapping[str, int] = MappingProxyType({"SelectPdfVersion": 3})
#: The ``--convert-to`` argument selecting PDF/A-3b (:data:`PDFA3_FILTER_DATA` as JSON).
PDFA3_EXPORT = f"pdf:{PDF_EXPORT_FILTER}:" + json.dumps(
    {name: {"type": "long", "value": str(value)} for name, value in PDFA3_FILTER_DATA.items()},
    separators=(",", ":"),
)
#: The ``soffice`` launcher passes at most 255 arguments on; with the options used here it
#: converts about 247 inputs and drops the rest without a word. Stay well below that.
MAX_FILES_PER_CALL = 240
INSTALL_HINT = (
    "Install LibreOffice: on Debian/Ubuntu `sudo apt-get install -y libreoffice-writer-nogui "
    "fonts-crosextra-carlito fonts-crosextra-caladea fonts-liberation2 fonts-dejavu-core`; "
    "on macOS `brew install --cask libreoffice`; on Windows download it from "
    "https://www.libreoffice.org/download/. Or set CONSENTKIT_SOFFICE to the soffice executable."
)

_DOCX_FILTER = "MS Word 2007 XML"
_PDF_MODE = 0o600
_DIR_MODE = 0o700
_STDERR_LIMIT = 64 * 1024
#: Profiles are named ``consentkit-lo-profile-<owner tag>-<random>`` (see ``_files.owner_tag``).
PROFILE_PREFIX = "consentkit-lo-profile-"
#: LibreOffice's temporary folder, inside its profile.
_TMP = "tmp"
_SWEPT = threading.Event()


class Converter(Protocol):
    """Turns DOCX documents into PDF/A-3b files."""

    def convert(self, documents: Sequence[Path], outdir: Path) -> list[Path]:
        """Convert every document to ``outdir/<stem>.pdf``.

        Args:
            documents: the DOCX files; their stems must differ.
            outdir: the folder for the PDFs (created if missing).

        Returns:
            The PDF paths, in the order of ``documents``.

        Raises:
            ConversionError: a document could not be converted; ``document`` names the first.
            ConversionTimeout: the engine ran past its time limit.
        """
        ...


def find_soffice() -> Path:
    """Locate the LibreOffice ``soffice`` executable.

    Looks at ``$CONSENTKIT_SOFFICE`` first, then ``soffice`` and ``libreoffice`` on ``PATH``, then
    the default install locations on macOS and Windows.

    Returns:
        The executable's path.

    Raises:
        ConversionError: ``$CONSENTKIT_SOFFICE`` names no executable, or LibreOffice is not
            installed (the message says how to install it).
    """
    configured = os.environ.get(SOFFICE_ENV, "").strip()
    if configured:
        found = _executable(configured)
        if found is None:
            raise ConversionError(f"{SOFFICE_ENV} is set to {configured!r}, which is not an executable file")
        return found
    for name in ("soffice", "libreoffice"):
        hit = shutil.which(name)
        if hit is not None:
            return Path(hit).absolute()
    for candidate in _install_locations():
        if _is_executable(candidate):
            return candidate
    raise ConversionError(f"LibreOffice (soffice) not found. {INSTALL_HINT}")


@attrs.frozen
class _Call:
    """What one ``soffice`` run left behind, for error messages."""

    returncode: int
    stderr: str

    def explain(self, documents: int) -> str:
        notes = []
        if self.returncode != 0:
            notes.append(f"soffice exit status {self.returncode}")
        # LibreOffice's messages name no file, so they only help when one document was converted.
        errors = [line.strip() for line in self.stderr.splitlines() if line.startswith("Error")]
        if documents == 1 and errors:
            notes.append(errors[0][:200])
        return f" ({'; '.join(notes)})" if notes else ""


class LibreOfficeConverter:
    """Converts DOCX to PDF/A-3b with headless LibreOffice, many documents per process.

    Each converter has its own LibreOffice profile (LibreOffice must never touch the user's
    profile, and two processes sharing one fail silently). Unless ``profile_dir`` is given, the
    profile is a temporary folder made on first use, reused by later calls (its first creation
    costs about a second) and removed by :meth:`close`. Calls on one converter run one at a time;
    for parallel conversions use one converter per worker.

    Use it as a context manager, or call :meth:`close`::

        with LibreOfficeConverter() as converter:
            pdfs = converter.convert([Path("consent.docx")], Path("out"))

    Attributes:
        soffice: the ``soffice`` executable used.
        timeout: the limit in seconds for one LibreOffice process (one batch of documents).
        max_files_per_call: the most documents given to one LibreOffice process.
    """

    def __init__(
        self,
        soffice: str | Path | None = None,
        *,
        timeout: float = 120.0,
        max_files_per_call: int = 200,
        profile_dir: Path | None = None,
        check_members: bool = True,
    ) -> None:
        """Set up a converter; LibreOffice is started only by :meth:`convert`.

        Args:
            soffice: the ``soffice`` executable (a path or a name on ``PATH``); default:
                :func:`find_soffice`.
            timeout: the limit in seconds for one LibreOffice process.
            max_files_per_call: the most documents per LibreOffice process (at most
                :data:`MAX_FILES_PER_CALL`).
            profile_dir: a LibreOffice profile folder to use and keep; it must not be shared
                with another converter or LibreOffice process. Default: a private temporary one.
            check_members: also decompress every member of each input to check its CRC (finds a
                DOCX damaged inside; the package structure is checked either way). Batch
                generation turns it off for the documents it has just rendered in memory.

        Raises:
            ConversionError: ``soffice`` is not an executable, or LibreOffice is not found.
            ValueError: ``timeout`` or ``max_files_per_call`` is out of range.
        """
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        if not 1 <= max_files_per_call <= MAX_FILES_PER_CALL:
            raise ValueError(f"max_files_per_call must be between 1 and {MAX_FILES_PER_CALL}")
        if soffice is None:
            self.soffice = find_soffice()
        else:
            found = _executable(str(soffice))
            if found is None:
                raise ConversionError(f"soffice {str(soffice)!r} is not an executable file")
            self.soffice = found
        self.timeout = timeout
        self.max_files_per_call = max_files_per_call
        self.check_members = check_members
        self._given_profile = Path(profile_dir).absolute() if profile_dir is not None else None
        self._own_profile: Path | None = None
        self._remove_profile: Callable[[], object] | None = None
        self._lock = threading.RLock()
        self._seconds = 0.0
        self._calls = 0
        #: Documents of the last run whose LibreOffice call failed as a whole (nonzero exit, no
        #: usable PDF at all), with the number of documents in that call.
        self._whole_call_failed: dict[Path, int] = {}

    @property
    def seconds_in_libreoffice(self) -> float:
        """Wall-clock seconds spent waiting for LibreOffice processes, over this converter's life."""
        return self._seconds

    @property
    def soffice_calls(self) -> int:
        """How many LibreOffice processes this converter has started."""
        return self._calls

    @property
    def profile_dir(self) -> Path:
        """The LibreOffice profile folder (created on first use)."""
        with self._lock:
            if self._given_profile is not None:
                self._given_profile.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
                return self._given_profile
            if self._own_profile is None:
                sweep_stale_profiles()
                path = Path(tempfile.mkdtemp(prefix=f"{PROFILE_PREFIX}{owner_tag()}-")).absolute()
                self._own_profile = path
                self._remove_profile = weakref.finalize(self, shutil.rmtree, path, ignore_errors=True)
            return self._own_profile

    def close(self) -> None:
        """Remove the private profile folder (a ``profile_dir`` given by the caller is kept)."""
        with self._lock:
            if self._remove_profile is not None:
                self._remove_profile()
            self._remove_profile = None
            self._own_profile = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def convert(self, documents: Sequence[Path], outdir: Path) -> list[Path]:
        """Convert DOCX documents to PDF/A-3b files ``outdir/<stem>.pdf``.

        The documents are checked to be DOCX before LibreOffice starts. The PDFs are written to
        a private folder inside ``outdir``, checked (a PDF claiming PDF/A-3b in its XMP), and then
        renamed into place with mode 0600, replacing files of the same name; when any document
        fails, none of the PDFs is moved into ``outdir``. Documents whose PDF is missing or
        invalid after the first LibreOffice run are converted once more in a new run.

        Args:
            documents: the DOCX files; their stems must differ.
            outdir: the folder for the PDFs (created if missing).

        Returns:
            The PDF paths, in the order of ``documents``.

        Raises:
            ConversionError: a document is not a readable DOCX, two documents share a stem, a
                document still had no valid PDF after the retry, or a PDF cannot be moved into
                ``outdir``; ``document`` names the first document concerned.
            ConversionTimeout: a LibreOffice process ran past ``timeout``; its process group was
                killed.
        """
        inputs = checked_inputs(documents, members=self.check_members)
        if not inputs:
            return []
        outdir = Path(outdir).absolute()
        outdir.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
        with self._lock, staging_folder(outdir) as staging:
            problems = self._convert_batches(inputs, staging)
            if problems:
                retry = [doc for doc in inputs if doc in problems]
                problems = self._convert_batches(retry, staging)
                if problems:
                    first = next(doc for doc in inputs if doc in problems)
                    if self._whole_call_failed.get(first, 1) > 1:
                        # Every document of a call failed (a crash, say): no one document is to
                        # blame, and the caller should try them again apart before blaming one.
                        raise ConversionCrash(
                            f"{problems[first]} for any of the {self._whole_call_failed[first]} documents "
                            "of its call, also on a second try",
                            document=None,
                        )
                    raise ConversionError(f"{problems[first]}, also on a second try", document=first.name)
            return place_outputs(inputs, staging, outdir)

    def _convert_batches(self, documents: list[Path], staging: Path) -> dict[Path, str]:
        """Convert in runs of at most ``max_files_per_call``; return what is wrong per document."""
        problems: dict[Path, str] = {}
        self._whole_call_failed = {}
        for start in range(0, len(documents), self.max_files_per_call):
            batch = documents[start : start + self.max_files_per_call]
            for doc in batch:
                (staging / f"{doc.stem}.pdf").unlink(missing_ok=True)
            call = self._run(batch, staging)
            failed = []
            for doc in batch:
                problem = output_problem(staging / f"{doc.stem}.pdf")
                if problem is not None:
                    problems[doc] = problem + call.explain(len(batch))
                    failed.append(doc)
            if len(failed) == len(batch) and call.returncode != 0:
                self._whole_call_failed.update(dict.fromkeys(batch, len(batch)))
        return problems

    def _run(self, batch: list[Path], staging: Path) -> _Call:
        command = [
            str(self.soffice),
            f"-env:UserInstallation={self.profile_dir.as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            f"--infilter={_DOCX_FILTER}",
            "--convert-to",
            PDFA3_EXPORT,
            "--outdir",
            str(staging),
            *(str(doc) for doc in batch),
        ]
        # LibreOffice's own temporary files (lu*.tmp) go inside the profile: a killed LibreOffice
        # leaves them there, and they go with the profile.
        private_tmp = self.profile_dir / _TMP
        private_tmp.mkdir(exist_ok=True, mode=_DIR_MODE)
        environment = {
            **os.environ,
            "TMPDIR": str(private_tmp),
            "TMP": str(private_tmp),
            "TEMP": str(private_tmp),
        }
        started = time.monotonic()
        self._calls += 1
        try:
            returncode, stderr = _run_in_own_group(command, self.timeout, environment)
        finally:
            self._seconds += time.monotonic() - started
        if returncode is None:
            others = f" and {len(batch) - 1} other document(s)" if len(batch) > 1 else ""
            raise ConversionTimeout(
                f"LibreOffice ran past the {self.timeout:g} s limit converting this{others}; "
                "its processes were killed",
                document=batch[0].name,
            )
        return _Call(returncode=returncode, stderr=stderr)


# --- inputs and outputs (shared with the warm converter) -----------------------------------------


def checked_inputs(documents: Sequence[Path], *, members: bool = True) -> list[Path]:
    """The documents as absolute paths, each checked to be a readable DOCX, their stems distinct.

    Raises:
        ConversionError: two documents share a stem, or one is not a readable DOCX.
    """
    inputs = [Path(d).absolute() for d in documents]
    stems: set[str] = set()
    for doc in inputs:
        if doc.stem in stems:
            raise ConversionError(
                f"has the same stem as another document (both would become {doc.stem}.pdf)",
                document=doc.name,
            )
        stems.add(doc.stem)
    for doc in inputs:
        _check_docx(doc, members=members)
    return inputs


def place_outputs(inputs: Sequence[Path], staging: Path, outdir: Path) -> list[Path]:
    """Move each input's checked PDF ``staging/<stem>.pdf`` to ``outdir/<stem>.pdf``, mode 0600.

    Raises:
        ConversionError: a PDF cannot be moved into place.
    """
    targets = [outdir / f"{doc.stem}.pdf" for doc in inputs]
    for doc, target in zip(inputs, targets, strict=True):
        staged = staging / target.name
        try:
            staged.chmod(_PDF_MODE)
            staged.replace(target)
        except OSError as exc:
            raise ConversionError(
                f"cannot move its PDF into place ({exc.strerror or exc})", document=doc.name
            ) from exc
    return targets


def _check_docx(path: Path, *, members: bool = True) -> None:
    """Refuse anything LibreOffice might "convert" that is not a readable DOCX package (with
    ``members``, also one with a damaged member)."""
    try:
        with zipfile.ZipFile(path) as archive:
            if "word/document.xml" not in archive.namelist():
                raise ConversionError("not a DOCX (no word/document.xml in it)", document=path.name)
            damaged = archive.testzip() if members else None
    except FileNotFoundError as exc:
        raise ConversionError("no such file", document=path.name) from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise ConversionError(f"not a DOCX (not a readable zip archive: {exc})", document=path.name) from exc
    except OSError as exc:
        raise ConversionError(f"cannot be read ({exc.strerror or exc})", document=path.name) from exc
    if damaged is not None:
        raise ConversionError(f"is a damaged DOCX (member {damaged} is corrupt)", document=path.name)


def output_problem(pdf: Path) -> str | None:
    """What is wrong with a PDF LibreOffice should have written, or ``None``."""
    try:
        with pdf.open("rb") as handle:
            head = handle.read(5)
    except FileNotFoundError:
        return "LibreOffice wrote no PDF"
    if head != b"%PDF-":
        return "LibreOffice's output is not a PDF"
    try:
        # Without pushing inherited page attributes down (pikepdf's default), which would cost ten
        # times the rest of the opening: only the catalog is looked at here.
        with pikepdf.open(pdf, inherit_page_attributes=False) as doc:
            metadata = doc.Root.get("/Metadata")
            xmp = metadata.read_bytes() if isinstance(metadata, pikepdf.Stream) else None
    except (pikepdf.PdfError, OSError) as exc:
        detail = str(exc).replace(f"{pdf}: ", "").replace(str(pdf), pdf.name)
        return f"LibreOffice's output is not a readable PDF ({detail})"
    if xmp is None:
        return "output is not PDF/A-3 (no XMP metadata)"
    problems = xmp_problems(xmp, part=3)
    return f"output is not PDF/A-3 ({problems[0]})" if problems else None


@contextlib.contextmanager
def staging_folder(outdir: Path) -> Iterator[Path]:
    """A private temporary folder inside ``outdir`` for a converter's raw output, removed after."""
    path = Path(tempfile.mkdtemp(prefix=".consentkit-convert-", dir=outdir))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- processes --------------------------------------------------------------------------------


def _run_in_own_group(
    command: list[str], timeout: float, environment: dict[str, str] | None = None
) -> tuple[int | None, str]:
    """Run ``command`` in a new process group; kill the whole group when it is done or too slow.

    The group is killed also when waiting is interrupted (``KeyboardInterrupt``), so no
    ``soffice.bin`` outlives the call holding the profile.

    Returns:
        The exit status (``None`` after a timeout) and the start of its standard error.
    """
    with tempfile.TemporaryFile() as stderr:
        finished = False
        if sys.platform == "win32":
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                creationflags=subprocess.CREATE_NEW_PROCESS_GROUP,
                env=environment,
            )
            try:
                process.wait(timeout=timeout)
                finished = True
            except subprocess.TimeoutExpired:
                pass
            finally:
                if not finished:
                    _kill_tree_windows(process)
                process.wait()
        else:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
                env=environment,
            )
            try:
                finished = _wait_unreaped(process, timeout)
            finally:
                # The group id is the leader's pid, reserved until the leader is reaped, so this
                # cannot reach an unrelated group. After a normal exit (on Linux, where the leader
                # is still unreaped) it also ends anything LibreOffice left running.
                if not finished or sys.platform == "linux":
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        stderr.seek(0)
        text = stderr.read(_STDERR_LIMIT).decode("utf-8", errors="replace")
    return (process.returncode if finished else None), text


def _wait_unreaped(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until ``process`` exits, leaving it unreaped on Linux; False after ``timeout``."""
    if sys.platform != "linux":
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    pidfd = _pidfd(process.pid)
    if pidfd is not None:
        # Woken the moment LibreOffice exits (a poll loop would leave it idle until the next tick).
        try:
            readable, _, _ = select.select([pidfd], [], [], timeout)
        finally:
            os.close(pidfd)
        return bool(readable)
    deadline = time.monotonic() + timeout
    delay = 0.005
    while os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.05)
    return True


def _pidfd(pid: int) -> int | None:
    """A file descriptor that becomes readable when process ``pid`` exits (Linux 5.3+), or None."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return None
    try:
        fd: int = pidfd_open(pid)
    except OSError:
        return None
    return fd


def _kill_tree_windows(process: subprocess.Popen[bytes]) -> None:
    """Best effort: Windows has no process groups to kill, so ask taskkill for the tree."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["taskkill", "/F", "/T", "/PID", str(process.pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
    with contextlib.suppress(OSError):
        process.kill()


# --- what killed processes left ----------------------------------------------------------------


def sweep_stale_profiles() -> int:
    """End the LibreOffice processes still using the profile of a dead process and remove such
    profiles (with LibreOffice's temporary files inside); done once per process, by its first
    converter.

    Returns:
        How many profiles were removed.
    """
    if _SWEPT.is_set():
        return 0
    _SWEPT.set()
    stale = dead_leftovers(Path(tempfile.gettempdir()), (PROFILE_PREFIX,))
    return len(end_profiles(stale))


def end_profiles(profiles: Sequence[Path]) -> list[Path]:
    """SIGKILL every process started with one of these LibreOffice profiles, then remove the
    profiles (those inside the temporary folder only). A dying LibreOffice may still write into its
    profile, so kill, wait, remove and look again until the profiles stay gone.

    Returns:
        The profiles removed.
    """
    profiles = [p for p in profiles if p.name.startswith(PROFILE_PREFIX)]
    if not profiles:
        return []
    temp = Path(tempfile.gettempdir()).resolve()
    ours = [p for p in profiles if p.resolve().parent == temp and not p.is_symlink()]
    for _attempt in range(5):
        if sys.platform == "linux":
            _kill_users_of(profiles)
        for profile in ours:
            shutil.rmtree(profile, ignore_errors=True)
        if not any(profile.exists() for profile in ours):
            break
        time.sleep(0.2)
    return [p for p in ours if not p.exists()]


def _process_running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:  # noqa: PTH123
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _kill_users_of(profiles: Sequence[Path]) -> None:
    """SIGKILL every process started with one of these LibreOffice profiles; wait until gone."""
    arguments = {f"-env:UserInstallation={p.as_uri()}".encode() for p in profiles}
    killed = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:  # noqa: PTH123
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if arguments.intersection(argv):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
    deadline = time.monotonic() + 5.0
    while any(_process_running(pid) for pid in killed) and time.monotonic() < deadline:
        time.sleep(0.02)


# --- finding LibreOffice ----------------------------------------------------------------------


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _executable(value: str) -> Path | None:
    """A path to an executable file, or a command name found on ``PATH``."""
    candidate = Path(value).expanduser()
    if candidate.is_absolute() or len(candidate.parts) > 1:
        return candidate.absolute() if _is_executable(candidate) else None
    hit = shutil.which(value)
    return Path(hit).absolute() if hit is not None else None


def _install_locations() -> list[Path]:
    if sys.platform == "darwin":
        return [Path("/Applications/LibreOffice.app/Contents/MacOS/soffice")]
    if sys.platform == "win32":
        bases = [os.environ.get(name) for name in ("PROGRAMFILES", "PROGRAMFILES(X86)")]
        return [Path(base) / "LibreOffice" / "program" / "soffice.exe" for base in bases if base]
    return []
