"""What the command line prints, and where: never a control character, results on standard
output, diagnostics on standard error.

Client ids, field names from a CSV header and error messages carry outside text. Printed raw, a
newline in a client id fakes a line of the log it is captured in, and an escape sequence reaches
the terminal. Control and format characters are shown as escapes instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO

from ..errors import InputError
from ._errors import UsageError

__all__ = [
    "STDIO",
    "binary_stdout",
    "detail",
    "is_stdio",
    "note",
    "printable",
    "quiet",
    "read_stdin",
    "result",
    "verbose",
    "warn",
]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def printable(text: object) -> str:
    """``text`` with every control, format or line/paragraph separator character escaped.

    >>> printable("C-1\\n2026-01-01 row 3 C-9: ok")
    'C-1\\\\n2026-01-01 row 3 C-9: ok'
    >>> printable("\\x1b[2J")
    '\\\\x1b[2J'
    >>> printable("Zoë")
    'Zoë'
    """
    out = []
    for char in str(text):
        if char in _NAMED:
            out.append(_NAMED[char])
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            code = ord(char)
            out.append(
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
        else:
            out.append(char)
    return "".join(out)


# --- where output goes -------------------------------------------------------------------------
#
# Results go to standard output (with --json: one JSON object); warnings, progress and errors to
# standard error, so `consentkit finalize ... --json | jq` and `2>log` work as scripts expect.
# -q keeps only results and errors; -v adds detail (never client data).

#: The name that means standard input or output where a file is read or written.
STDIO = "-"


def is_stdio(path: object) -> bool:
    """Whether a file argument is ``-``."""
    return path is not None and str(path) == STDIO


def quiet(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "quiet", False))


def verbose(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "verbose", False))


def warn(args: argparse.Namespace, text: object) -> None:
    """A warning on standard error (not with ``-q``)."""
    if not quiet(args):
        print(f"warning: {printable(text)}", file=sys.stderr)


def note(args: argparse.Namespace, text: str) -> None:
    """A progress or status line on standard error (not with ``-q``)."""
    if not quiet(args):
        print(text, file=sys.stderr, flush=True)


def detail(args: argparse.Namespace, text: str) -> None:
    """A line of detail on standard error (only with ``-v``)."""
    if verbose(args):
        print(text, file=sys.stderr, flush=True)


def result(args: argparse.Namespace, lines: Iterable[str], data: Mapping[str, Any]) -> None:
    """The command's result on standard output: ``lines``, or with ``--json`` ``data`` as JSON."""
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        for line in lines:
            print(line)


def read_stdin(limit: int) -> bytes:
    """Standard input's bytes (at most ``limit``; more is an error)."""
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"larger than {limit // (1024 * 1024)} MB", source="<stdin>")
    return data


def binary_stdout(args: argparse.Namespace, what: str) -> BinaryIO:
    """Standard output for a file's bytes (``--out -``), refused on a terminal and with ``--json``.

    Raises:
        UsageError: standard output is a terminal, or ``--json`` also wants it.
    """
    if getattr(args, "json", False):
        raise UsageError(f"--json and --out - both need standard output; write the {what} to a file")
    if sys.stdout.isatty():
        raise UsageError(f"refusing to write the {what} to a terminal; redirect standard output")
    args.stdout_taken = True
    return sys.stdout.buffer
