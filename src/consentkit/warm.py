"""A warm converter: LibreOffice kept running, for long-lived processes.

:class:`~consentkit.convert.LibreOfficeConverter` starts LibreOffice for every call, which costs
about a second before the first document: fine for a batch, slow for a client waiting on a signing
page. :class:`WarmConverter` keeps LibreOffice running between calls and converts each document
through LibreOffice's own UNO interface, by way of `unoserver <https://pypi.org/project/unoserver/>`_:
a small server that holds one LibreOffice and serves conversions over XML-RPC on the loopback
interface. The server needs a Python that can ``import uno`` (Debian's ``python3-uno`` gives
``/usr/bin/python3`` one; LibreOffice's installers bring their own); the client side, here, is
plain XML-RPC and runs in any Python.

What it does on top of unoserver:

* **several LibreOffice processes** (``instances``, default 2), each with its own private profile;
  the documents of all callers wait in one queue and each LibreOffice takes the next one when it is
  free, so one packet's documents convert side by side;
* **restarts** a LibreOffice that crashed, was killed or hung past ``timeout`` on a document: that
  document fails with a :class:`~consentkit.errors.ConversionError` (or
  :class:`~consentkit.errors.ConversionTimeout`) naming it, the process group is killed and a new
  LibreOffice starts at once; later documents convert normally;
* **recycles** each LibreOffice after ``recycle_after`` documents, to bound its memory: the
  replacement starts beside it and takes over when it is ready, so no caller waits for it (or,
  with ``recycle_beside=False``, after it has stopped, so that no more than ``instances``
  LibreOffice processes ever run: a batch's memory stays flat); the slots' first recycles are
  staggered, so that they are not replaced together;
* **checks every output** as the cold converter does (a PDF that claims PDF/A-3 in its XMP) and
  exports with the same filter options (:data:`~consentkit.convert.PDFA3_FILTER_DATA`);
* **cleans up**: :meth:`WarmConverter.close` (also at the end of a ``with`` block, and at
  interpreter exit for a converter never closed) kills every LibreOffice process group and removes
  the profiles. Should the host process die without running its exit handlers (``SIGKILL``), each
  server notices within half a second that its parent is gone, removes its profile and kills its
  own process group.

Concurrency: a :class:`WarmConverter` is safe to share between threads. Each LibreOffice process
is driven by one worker thread of the converter, which takes documents from the shared queue;
:meth:`WarmConverter.convert` queues its documents and waits for them. It is not meant to be
shared between processes: create it in the process that uses it, after any ``fork``.

Security: unoserver's XML-RPC port and LibreOffice's UNO port listen on 127.0.0.1 without
authentication, as every UNO socket does; any local user could ask them to convert files this
user can read. Run the service on a host (or in a container) that no untrusted user shares.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import itertools
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
import xmlrpc.client
import zipfile
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

import attrs

from .convert import (
    INSTALL_HINT,
    PDF_EXPORT_FILTER,
    PDFA3_FILTER_DATA,
    checked_inputs,
    find_soffice,
    output_problem,
    place_outputs,
    staging_folder,
)
from .errors import ConsentKitError, ConversionError, ConversionTimeout

__all__ = ["UNO_PYTHON_ENV", "WarmConverter", "WarmStats", "find_uno_python"]

#: Environment variable naming a Python interpreter that can ``import uno``.
UNO_PYTHON_ENV = "CONSENTKIT_UNO_PYTHON"
UNO_HINT = (
    "The warm converter runs unoserver under a Python that can `import uno`: on Debian/Ubuntu "
    "`sudo apt-get install -y python3-uno` (for /usr/bin/python3); with LibreOffice's own installer, "
    "the python in its program folder is found; or set CONSENTKIT_UNO_PYTHON to such a Python."
)

_DOCX_FILTER = "MS Word 2007 XML"
#: unoserver's XML-RPC API version this client speaks (``info()["api"]``).
_API_VERSION = "3"
_DIR_MODE = 0o700
#: How often a server whose LibreOffice cannot start is tried again, at most.
_START_ATTEMPTS = 3

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#: The smallest DOCX package LibreOffice loads with the Word 2007 filter: one paragraph.
_MINIMAL_DOCX = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
    ),
    "word/document.xml": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}">'
        "<w:body><w:p><w:r><w:t>consentkit</w:t></w:r></w:p></w:body></w:document>"
    ),
}

# Runs under the Python that has ``uno``: watches for the death of the process that started it
# (then removes the server's folder, profile included, and the converter's folder once empty, and
# kills its own process group, LibreOffice included), then runs unoserver's own command line.
# Arguments: parent pid, server folder, the folder holding the unoserver package, then unoserver's
# arguments. unoserver loads documents with ReadOnly only; `soffice --convert-to` also loads them
# Hidden (no view: a quarter less time per document, measured 36 against 55 ms) and Silent (no
# interaction), so the loader adds those two, and the warm conversion loads as the cold one does.
# unoserver's start sleeps a fixed 5 s for LibreOffice to start and 2 s for its own server thread
# (7.4 s to start, measured, however fast LibreOffice is): the clock given to it waits until
# LibreOffice accepts connections on its UNO port instead (at most a minute; unoserver then goes
# on trying as before), and 0.2 s for the thread, which binds its port at once.
_LAUNCHER = """\
import os, shutil, signal, socket, sys, threading, time
parent, folder, where = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        os.rmdir(os.path.dirname(folder))
    except OSError:
        pass
    os.killpg(0, signal.SIGKILL)
threading.Thread(target=watch, daemon=True).start()
sys.path.append(where)
import unoserver.server
from com.sun.star.beans import PropertyValue
class Loader:
    def __init__(self, desktop):
        self.desktop = desktop
    def loadComponentFromURL(self, url, frame, flags, arguments):
        extra = tuple(PropertyValue(Name=name, Value=True) for name in ("Hidden", "Silent"))
        return self.desktop.loadComponentFromURL(url, frame, flags, tuple(arguments) + extra)
    def __getattr__(self, name):
        return getattr(self.desktop, name)
original = unoserver.converter.UnoConverter.__init__
def init(self, *args, **kwargs):
    original(self, *args, **kwargs)
    self.desktop = Loader(self.desktop)
unoserver.converter.UnoConverter.__init__ = init
uno_port = int(sys.argv[sys.argv.index("--uno-port") + 1])
class Clock:
    def __getattr__(self, name):
        return getattr(time, name)
    def sleep(self, seconds):
        if threading.current_thread() is not threading.main_thread():
            return time.sleep(seconds)
        if seconds != 5:
            return time.sleep(min(seconds, 0.2))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", uno_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
unoserver.server.time = Clock()
sys.argv = ["unoserver", *sys.argv[4:]]
sys.exit(unoserver.server.main())
"""


@attrs.frozen
class WarmStats:
    """What a :class:`WarmConverter` has done so far.

    Attributes:
        documents: documents converted.
        failures: documents that failed.
        restarts: LibreOffice processes replaced after a crash or a hang.
        recycles: LibreOffice processes replaced after ``recycle_after`` documents.
        process_groups: the process group ids of the LibreOffice servers running now (each
            group holds unoserver and its LibreOffice), a replacement being started included.
    """

    documents: int
    failures: int
    restarts: int
    recycles: int
    process_groups: tuple[int, ...]


# --- finding the pieces -------------------------------------------------------------------------


def find_uno_python(soffice: Path | None = None) -> Path:
    """Find a Python interpreter that can ``import uno``, to run unoserver's server.

    Looks at ``$CONSENTKIT_UNO_PYTHON`` first, then the Python that LibreOffice's own installers
    put beside ``soffice`` (Windows, macOS), then ``/usr/bin/python3`` (Debian's ``python3-uno``),
    then the running interpreter.

    Raises:
        ConversionError: ``$CONSENTKIT_UNO_PYTHON`` cannot import uno, or no candidate can (the
            message says what to install).
    """
    configured = os.environ.get(UNO_PYTHON_ENV, "").strip()
    if configured:
        path = Path(configured).expanduser()
        if not _has_uno(str(path)):
            raise ConversionError(f"{UNO_PYTHON_ENV} is set to {configured!r}, which cannot import uno")
        return path
    candidates: list[Path] = []
    if soffice is not None:
        program = Path(os.path.realpath(soffice)).parent
        candidates += [program / "python.exe", program / "python", program.parent / "Resources" / "python"]
    candidates += [Path("/usr/bin/python3"), Path(sys.executable)]
    for candidate in candidates:
        if candidate.is_file() and _has_uno(str(candidate)):
            return candidate
    raise ConversionError(f"no Python with LibreOffice's uno module found. {UNO_HINT}")


@functools.cache
def _has_uno(python: str) -> bool:
    try:
        done = subprocess.run(
            [python, "-c", "import uno"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _unoserver_folder() -> Path:
    """The folder holding the ``unoserver`` package (added to the server Python's path)."""
    spec = importlib.util.find_spec("unoserver")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError("the unoserver package is not installed (`pip install unoserver`)")
    return Path(next(iter(spec.submodule_search_locations))).parent


def _free_ports() -> tuple[int, int]:
    """Two TCP ports free on 127.0.0.1 just now (unoserver's and LibreOffice's)."""
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", 0))
        second.bind(("127.0.0.1", 0))
        return first.getsockname()[1], second.getsockname()[1]


# --- one server ---------------------------------------------------------------------------------


class _TimeoutTransport(xmlrpc.client.Transport):
    """XML-RPC over HTTP with a socket timeout (``xmlrpc.client`` has none of its own)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host: tuple[str, dict[str, str]] | str) -> HTTPConnection:
        connection = super().make_connection(host)
        connection.timeout = self._timeout
        return connection


class _Hang(Exception):
    """The server did not answer within the time limit."""


class _Crash(Exception):
    """The server or its LibreOffice is gone."""


class _Refused(Exception):
    """LibreOffice, still healthy, could not convert the document; ``args[0]`` says why."""


class _Server:
    """One unoserver process and its LibreOffice, in a process group of their own."""

    def __init__(self, *, python: Path, soffice: Path, folder: Path, registry: _Registry) -> None:
        self.python = python
        self.soffice = soffice
        self.folder = folder
        self.registry = registry
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.documents = 0

    @property
    def pgid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, timeout: float) -> None:
        """Start unoserver and wait until it serves conversions.

        Raises:
            ConversionError: it exited, or was not ready within ``timeout`` seconds.
        """
        self.folder.mkdir(mode=_DIR_MODE)
        profile = self.folder / "profile"
        pid_file = self.folder / "libreoffice.pid"
        # Temporary files (LibreOffice's lu*.tmp and its pipe, the folder unoserver makes and only
        # removes when it exits normally) go inside the server's folder, and with it.
        private_tmp = self.folder / "tmp"
        private_tmp.mkdir(mode=_DIR_MODE)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env.update(TMPDIR=str(private_tmp), TMP=str(private_tmp), TEMP=str(private_tmp))
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port, uno_port = _free_ports()
            command = [
                str(self.python),
                "-s",
                "-c",
                _LAUNCHER,
                str(os.getpid()),
                str(self.folder),
                str(_unoserver_folder()),
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--uno-interface",
                "127.0.0.1",
                "--uno-port",
                str(uno_port),
                "--executable",
                str(self.soffice),
                "--user-installation",
                str(profile),
                "--libreoffice-pid-file",
                str(pid_file),
            ]
            # The registry records the process before anything can go wrong, so that close() and
            # the exit handler always find it.
            with (self.folder / "server.log").open("ab") as log, self.registry.lock:
                if self.registry.closed:
                    raise ConversionError("the warm converter is closed")
                self.process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                    env=env,
                    cwd=self.folder,
                )
                self.registry.servers.add(self)
            if self._wait_ready(pid_file, time.monotonic() + timeout):
                self._warm_up(timeout)
                return
            exited = self.process.poll() is not None
            self.kill()
            if not exited:
                raise ConversionError(f"LibreOffice (unoserver) was not ready within {timeout:g} s")
            if attempt == _START_ATTEMPTS:
                raise ConversionError(
                    f"LibreOffice (unoserver) exited while starting, {attempt} times{self._log_tail()}"
                )
            # Most likely a port taken between choosing it and binding it: try other ports.
            shutil.rmtree(profile, ignore_errors=True)
            pid_file.unlink(missing_ok=True)

    def _wait_ready(self, pid_file: Path, deadline: float) -> bool:
        """Wait until the server answers; False if it exited or ``deadline`` passed first.

        unoserver writes the pid file once its XML-RPC server is listening (so the port is its
        own, not another program's) and LibreOffice is connected.
        """
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if pid_file.exists():
                try:
                    info = self._proxy(10.0).info()
                except (OSError, HTTPException, xmlrpc.client.Error):
                    info = None
                if isinstance(info, dict):
                    if info.get("api") != _API_VERSION:
                        self.kill()
                        raise ConversionError(
                            f"unoserver speaks API {info.get('api')!r}; consentkit needs {_API_VERSION}"
                        )
                    return True
            time.sleep(0.1)
        return False

    def _warm_up(self, timeout: float) -> None:
        """Convert a one-line document: LibreOffice's first conversion loads the DOCX import and
        PDF export code (about 0.3 s), which should not be a client's wait. It also proves that
        the server converts end to end.

        Raises:
            ConversionError: the conversion failed.
        """
        sample = self.folder / "warm-up.docx"
        with zipfile.ZipFile(sample, "w") as archive:
            for name, text in _MINIMAL_DOCX.items():
                archive.writestr(name, text)
        target = self.folder / "warm-up.pdf"
        try:
            self.convert(sample, target, timeout)
        except (_Hang, _Crash, _Refused) as exc:
            self.kill()
            raise ConversionError(f"LibreOffice failed its first conversion ({type(exc).__name__})") from exc
        problem = output_problem(target)
        if problem is not None:
            self.kill()
            raise ConversionError(f"LibreOffice's first conversion: {problem}")
        sample.unlink()
        target.unlink()

    def _proxy(self, timeout: float) -> xmlrpc.client.ServerProxy:
        return xmlrpc.client.ServerProxy(
            f"http://127.0.0.1:{self.port}", transport=_TimeoutTransport(timeout), allow_none=True
        )

    def _log_tail(self) -> str:
        try:
            lines = (self.folder / "server.log").read_text(errors="replace").splitlines()
        except OSError:
            return ""
        errors = [line for line in lines if "Error" in line or "error" in line]
        return f" ({errors[-1].strip()[:200]})" if errors else ""

    def convert(self, document: Path, target: Path, timeout: float) -> None:
        """Convert one document to ``target``.

        Raises:
            _Hang: no answer within ``timeout``.
            _Crash: the server or LibreOffice is gone.
            _Refused: LibreOffice failed on this document and is still healthy.
        """
        options = [f"{name}={value}" for name, value in PDFA3_FILTER_DATA.items()]
        try:
            # unoserver's convert(inpath, indata, outpath, convert_to, filtername, filter_options,
            # update_index, infiltername). Indexes are not updated, as `soffice --convert-to`
            # does not update them either.
            self._proxy(timeout).convert(
                str(document), None, str(target), "pdf", PDF_EXPORT_FILTER, options, False, _DOCX_FILTER
            )
        except TimeoutError as exc:
            raise _Hang from exc
        except xmlrpc.client.Fault as exc:
            if not self.healthy():
                raise _Crash from exc
            raise _Refused(_fault_reason(exc, document)) from exc
        except (OSError, HTTPException, xmlrpc.client.Error) as exc:
            raise _Crash from exc

    def healthy(self) -> bool:
        """The server runs and its LibreOffice answers (a UNO call through ``info()``)."""
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            return isinstance(self._proxy(10.0).info(), dict)
        except (OSError, HTTPException, xmlrpc.client.Error):
            return False

    def kill(self) -> None:
        """Kill the process group (unoserver and LibreOffice) and reap the leader."""
        process = self.process
        if process is None:
            return
        # The group id is the leader's pid, which stays reserved until the leader is reaped below.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)

    def stop(self) -> None:
        """Kill the process group and remove the server's folder (its profile)."""
        self.kill()
        with self.registry.lock:
            self.registry.servers.discard(self)
        shutil.rmtree(self.folder, ignore_errors=True)


def _fault_reason(fault: xmlrpc.client.Fault, document: Path) -> str:
    """unoserver's error message, with the document's path cut down to its name."""
    text = str(fault.faultString).replace(str(document), document.name)
    text = text.split(":", 1)[1] if text.startswith("<class") and ":" in text else text
    return " ".join(text.split())[:200]


@attrs.define(eq=False)
class _Registry:
    """Every running server of a converter, for close() and the exit handler."""

    lock: threading.Lock = attrs.Factory(threading.Lock)
    servers: set[_Server] = attrs.Factory(set)
    closed: bool = False


def _cleanup(registry: _Registry, root: Path) -> None:
    """Kill every server's process group and remove the converter's folder (the exit handler)."""
    with registry.lock:
        registry.closed = True
        servers = list(registry.servers)
        registry.servers.clear()
    for server in servers:
        server.kill()
    shutil.rmtree(root, ignore_errors=True)


# --- the converter ------------------------------------------------------------------------------


@attrs.define(eq=False)
class _Job:
    document: Path
    target: Path
    future: Future[None] = attrs.Factory(Future)


@attrs.define(eq=False)
class _Slot:
    """One LibreOffice place: the server in use, and a replacement being started."""

    index: int
    #: Guards ``replacement`` (set by :meth:`WarmConverter.start` and by the slot's worker).
    lock: threading.Lock = attrs.Factory(threading.Lock)
    #: Used by the slot's worker thread only.
    server: _Server | None = None
    replacement: Future[_Server] | None = None
    #: Why the replacement is being started ("start", "recycle" or "restart").
    reason: str = ""


class WarmConverter:
    """Converts DOCX to PDF/A-3b with LibreOffice kept running between calls.

    For long-lived processes (a web backend, the signing application): after :meth:`start`, a
    5-document packet renders in 0.2-0.3 s instead of 1.4 s. Safe to share
    between threads. Use it as a context manager, or call :meth:`close` (a converter never closed
    is cleaned up at interpreter exit)::

        from consentkit import WarmConverter, render_packet

        with WarmConverter() as converter:          # starts LibreOffice (a few seconds)
            for client in clients:
                render_packet(practice, client, f"out/{client.id}", converter=converter)

    The PDFs are the same kind as :class:`~consentkit.convert.LibreOfficeConverter`'s (PDF/A-3b,
    tagged, every font embedded; same export options, same output checks), written the same way:
    to a private folder, then moved into place with mode 0600, all of a call's PDFs or none.

    Attributes:
        soffice: the ``soffice`` executable used.
        python: the Python that runs unoserver (it can ``import uno``).
        instances: how many LibreOffice processes convert side by side.
        timeout: the limit in seconds for one document; past it LibreOffice is restarted.
        recycle_after: documents after which a LibreOffice process is replaced by a fresh one.
        recycle_beside: whether a recycled process's replacement starts beside it (else after it).
        start_timeout: the limit in seconds for a LibreOffice process to start.
        check_members: also check each input's zip members' CRCs (as the cold converter does).
        full_layout: True: documents are loaded and stored through UNO, which lays a long
            document out as it lays out its parts alone; ``soffice --convert-to`` does not, so
            composed conversion (``compose=True``) uses only converters that say this.
    """

    full_layout: ClassVar[bool] = True

    def __init__(
        self,
        soffice: str | Path | None = None,
        *,
        instances: int = 2,
        timeout: float = 60.0,
        recycle_after: int = 500,
        recycle_beside: bool = True,
        start_timeout: float = 120.0,
        python: str | Path | None = None,
        check_members: bool = True,
    ) -> None:
        """Set up a converter; LibreOffice starts with :meth:`start` (or the first conversion).

        Args:
            soffice: the ``soffice`` executable; default: :func:`~consentkit.convert.find_soffice`.
            instances: LibreOffice processes to run (each about 200 MiB; more than the number of
                CPUs gains nothing).
            timeout: the limit in seconds for converting one document.
            recycle_after: replace each LibreOffice process after this many documents (its
                memory grows slowly with every document).
            recycle_beside: start a recycled process's replacement beside it, so that no
                document waits for the start (default); ``False``: stop it first (that slot
                converts nothing for the start, about 1.5 s), so that memory never holds more
                than ``instances`` LibreOffice processes.
            start_timeout: the limit in seconds for one LibreOffice process to start.
            python: a Python that can ``import uno``; default: :func:`find_uno_python`.
            check_members: also decompress every member of each input to check its CRC.

        Raises:
            ConversionError: LibreOffice, a Python with ``uno`` or unoserver is not found.
            ValueError: an argument is out of range.
        """
        if instances < 1:
            raise ValueError(f"instances must be at least 1, not {instances!r}")
        if not timeout > 0 or not start_timeout > 0:
            raise ValueError("timeout and start_timeout must be positive")
        if recycle_after < 1:
            raise ValueError(f"recycle_after must be at least 1, not {recycle_after!r}")
        if soffice is None:
            self.soffice = find_soffice()
        else:
            found = shutil.which(str(soffice))
            if found is None:
                raise ConversionError(f"soffice {str(soffice)!r} is not an executable file. {INSTALL_HINT}")
            self.soffice = Path(found).absolute()
        if python is None:
            self.python = find_uno_python(self.soffice)
        else:
            self.python = Path(python)
            if not _has_uno(str(self.python)):
                raise ConversionError(f"python {str(python)!r} cannot import uno. {UNO_HINT}")
        _unoserver_folder()
        self.instances = instances
        self.timeout = timeout
        self.recycle_after = recycle_after
        self.recycle_beside = recycle_beside
        self.start_timeout = start_timeout
        self.check_members = check_members
        self._root: Path | None = None
        self._registry = _Registry()
        self._finalizer: weakref.finalize[[_Registry, Path], WarmConverter] | None = None
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._slots = [_Slot(index=i) for i in range(instances)]
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._names = itertools.count(1)
        self._documents = 0
        self._failures = 0
        self._restarts = 0
        self._recycles = 0

    # --- life cycle -----------------------------------------------------------------------------

    def start(self, *, wait: bool = True) -> Self:
        """Start the LibreOffice processes and wait until every one is ready.

        Args:
            wait: ``False``: only begin starting them and return at once (a batch renders its
                first packets meanwhile); a conversion waits for them, and a process that
                cannot start fails the conversion that needs it.

        Returns:
            The converter itself.

        Raises:
            ConversionError: the converter is closed, or a LibreOffice process did not start.
        """
        self._spawn()
        starting = [self._starting(slot) for slot in self._slots]
        if not wait:
            return self
        for pending in starting:
            if pending is None:
                continue
            try:
                pending.result()
            except ConsentKitError:
                raise
            except Exception as exc:
                raise ConversionError(f"LibreOffice did not start ({type(exc).__name__})") from exc
        return self

    def close(self) -> None:
        """Stop every LibreOffice process (killing its process group) and remove the profiles.

        Conversions still waiting fail with :class:`~consentkit.errors.ConversionError`. Calling
        it again does nothing.
        """
        with self._lock:
            threads, self._threads = self._threads, []
            finalizer = self._finalizer
        with self._registry.lock:
            self._registry.closed = True
        for _ in threads:
            self._queue.put(None)
        if finalizer is not None:
            finalizer()
        for thread in threads:
            thread.join(timeout=30)
        self._fail_waiting()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def stats(self) -> WarmStats:
        """Counts of documents, failures, restarts and recycles, and the running process groups."""
        with self._registry.lock:
            groups = tuple(sorted(s.pgid for s in self._registry.servers if s.pgid is not None))
        with self._lock:
            return WarmStats(
                documents=self._documents,
                failures=self._failures,
                restarts=self._restarts,
                recycles=self._recycles,
                process_groups=groups,
            )

    # --- converting -----------------------------------------------------------------------------

    def convert(self, documents: Sequence[Path], outdir: Path) -> list[Path]:
        """Convert DOCX documents to PDF/A-3b files ``outdir/<stem>.pdf``.

        The documents are checked to be DOCX, queued, and converted by whichever LibreOffice
        process is free, side by side. Each PDF is checked (a PDF claiming PDF/A-3b in its XMP);
        when all are good they are moved into ``outdir`` with mode 0600, replacing files of the
        same name; when any document fails, none is.

        Args:
            documents: the DOCX files; their stems must differ.
            outdir: the folder for the PDFs (created if missing).

        Returns:
            The PDF paths, in the order of ``documents``.

        Raises:
            ConversionError: a document is not a readable DOCX, two documents share a stem,
                LibreOffice failed on a document or crashed while converting it (it is
                restarted), the PDF is not PDF/A-3, or the converter is closed; ``document``
                names the first document concerned.
            ConversionTimeout: LibreOffice ran past ``timeout`` on a document (it is restarted).
        """
        inputs = checked_inputs(documents, members=self.check_members)
        if not inputs:
            return []
        self._spawn()
        outdir = Path(outdir).absolute()
        outdir.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
        with staging_folder(outdir) as staging:
            jobs = [_Job(document=doc, target=staging / f"{doc.stem}.pdf") for doc in inputs]
            futures = [job.future for job in jobs]
            try:
                for job in jobs:
                    self._queue.put(job)
                wait(futures, return_when=FIRST_EXCEPTION)
            finally:
                # After a failure (or an interruption) the documents not yet taken are dropped,
                # and the ones being converted finish before their folder is removed.
                for future in futures:
                    future.cancel()
                wait(futures)
            for job in jobs:
                if job.future.cancelled():
                    continue
                exc = job.future.exception()
                if isinstance(exc, ConversionError):
                    raise exc
                if exc is not None:
                    raise ConversionError(
                        f"unexpected error ({type(exc).__name__})", document=job.document.name
                    ) from exc
            if any(job.future.cancelled() for job in jobs):
                raise ConversionError("the warm converter is closed")
            return place_outputs(inputs, staging, outdir)

    # --- the worker threads -----------------------------------------------------------------------

    def _spawn(self) -> None:
        """Make the folder and start the worker threads, once."""
        with self._lock:
            if self._registry.closed:
                raise ConversionError("the warm converter is closed")
            if self._threads:
                return
            root = Path(tempfile.mkdtemp(prefix="consentkit-warm-")).absolute()
            self._root = root
            self._finalizer = weakref.finalize(self, _cleanup, self._registry, root)
            for slot in self._slots:
                thread = threading.Thread(
                    target=self._work, args=(slot,), name=f"consentkit-warm-{slot.index}", daemon=True
                )
                self._threads.append(thread)
                thread.start()

    def _new_server(self) -> _Server:
        assert self._root is not None
        return _Server(
            python=self.python,
            soffice=self.soffice,
            folder=self._root / f"lo-{next(self._names)}",
            registry=self._registry,
        )

    def _begin_start(self, slot: _Slot, reason: str) -> Future[_Server]:
        """Start a server for ``slot`` in the background; the caller holds ``slot.lock``."""
        server = self._new_server()
        pending: Future[_Server] = Future()

        def run() -> None:
            try:
                server.start(self.start_timeout)
            except BaseException as exc:
                server.stop()
                pending.set_exception(exc)
            else:
                pending.set_result(server)

        slot.replacement = pending
        slot.reason = reason
        threading.Thread(target=run, name=f"consentkit-warm-start-{slot.index}", daemon=True).start()
        return pending

    def _starting(self, slot: _Slot) -> Future[_Server] | None:
        """The server being started for ``slot``; one is started if the slot has none at all."""
        with slot.lock:
            if slot.replacement is None and slot.server is None:
                return self._begin_start(slot, "start")
            return slot.replacement

    def _server_for(self, slot: _Slot) -> _Server:
        """The server to convert with (called by the slot's worker): the replacement once it is
        ready (waiting for it when the slot has no live server), else the current one.

        Raises:
            ConversionError: the slot has no server and none could be started.
        """
        pending = self._starting(slot)
        if pending is None or (slot.server is not None and not pending.done()):
            assert slot.server is not None
            return slot.server
        try:
            fresh = pending.result()
        except Exception as exc:
            with slot.lock:
                if slot.replacement is pending:
                    slot.replacement = None
            if slot.server is not None:
                return slot.server  # a recycle failed: go on with the old one, try again later
            detail = f": {exc}" if isinstance(exc, ConsentKitError) else f" ({type(exc).__name__})"
            raise ConversionError(f"LibreOffice could not be started{detail}") from exc
        with slot.lock:
            slot.replacement = None
            reason = slot.reason
        if reason == "start":
            # Stagger the slots' first recycles (slot i after a share i/instances fewer
            # documents), so that they are not all replaced at the same moment.
            fresh.documents = self.recycle_after * slot.index // self.instances
        if slot.server is not None:
            slot.server.stop()
            if reason == "recycle":
                with self._lock:
                    self._recycles += 1
        slot.server = fresh
        return fresh

    def _recycle_in_place(self, slot: _Slot, server: _Server) -> None:
        """Stop the slot's server, then start its replacement (``recycle_beside=False``)."""
        with slot.lock:
            if slot.server is not server or slot.replacement is not None:
                return
            slot.server = None
        server.stop()
        with self._lock:
            self._recycles += 1
        self._replace(slot, "recycle")

    def _replace(self, slot: _Slot, reason: str) -> None:
        """Start a replacement for the slot's server unless one is on its way."""
        with slot.lock:
            if slot.replacement is None and not self._registry.closed:
                self._begin_start(slot, reason)

    def _work(self, slot: _Slot) -> None:
        """The loop of a slot's worker thread: have a server ready, then take the next document.

        A slot whose LibreOffice is starting takes no document, so the other slots convert
        everything meanwhile; with one slot, the documents wait in the queue for the restart.
        While idle, the worker looks at its server twice a second: a replacement that is ready
        takes over, and a LibreOffice that died is restarted before a document needs it.
        """
        while True:
            failure: ConversionError | None = None
            if not self._registry.closed:
                try:
                    server = self._server_for(slot)
                except ConversionError as exc:
                    failure = exc
                else:
                    if server.process is None or server.process.poll() is not None:
                        self._lost(slot, server)
                        continue
            try:
                # After a failed start, the next attempt waits for a document to need it.
                job = self._queue.get(timeout=None if failure is not None else 0.5)
            except queue.Empty:
                continue
            if job is None:
                break
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                if failure is not None:
                    # The caller learns why; the next round tries to start LibreOffice again.
                    raise ConversionError(str(failure), document=job.document.name) from failure
                self._convert_one(slot, job)
            except BaseException as exc:
                with self._lock:
                    self._failures += 1
                job.future.set_exception(exc)
            else:
                with self._lock:
                    self._documents += 1
                job.future.set_result(None)
        if slot.server is not None:
            slot.server.stop()

    def _lost(self, slot: _Slot, server: _Server) -> None:
        """The slot's server crashed or hung: kill it and start another at once."""
        server.stop()
        slot.server = None
        if not self._registry.closed:
            with self._lock:
                self._restarts += 1
            self._replace(slot, "restart")

    def _convert_one(self, slot: _Slot, job: _Job) -> None:
        name = job.document.name
        if self._registry.closed:
            raise ConversionError("the warm converter is closed", document=name)
        server = self._server_for(slot)
        if server.process is None or server.process.poll() is not None:
            self._lost(slot, server)  # it died while idle: this document waits for the restart
            server = self._server_for(slot)
        try:
            server.convert(job.document, job.target, self.timeout)
        except _Refused as exc:
            raise ConversionError(f"LibreOffice could not convert it ({exc.args[0]})", document=name) from exc
        except (_Hang, _Crash) as exc:
            self._lost(slot, server)
            if self._registry.closed:
                raise ConversionError(
                    "the warm converter was closed while converting it", document=name
                ) from exc
            if isinstance(exc, _Hang):
                raise ConversionTimeout(
                    f"LibreOffice ran past the {self.timeout:g} s limit converting it; it was killed "
                    "and is being restarted",
                    document=name,
                ) from exc
            raise ConversionError(
                "LibreOffice stopped while converting it (it crashed or was killed); it is being restarted",
                document=name,
            ) from exc
        server.documents += 1
        if server.documents >= self.recycle_after:
            if self.recycle_beside:
                self._replace(slot, "recycle")
            else:
                self._recycle_in_place(slot, server)
        problem = output_problem(job.target)
        if problem is not None:
            raise ConversionError(problem, document=name)

    def _fail_waiting(self) -> None:
        """Fail the jobs still queued (after close)."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is not None and job.future.set_running_or_notify_cancel():
                job.future.set_exception(
                    ConversionError("the warm converter is closed", document=job.document.name)
                )
