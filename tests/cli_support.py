"""Run the ``consentkit`` command line in this process: what a test needs of a run, without the
two seconds a new interpreter takes to import the library.

A few tests still start a real process where the process boundary itself is the subject (killing
a running batch, a missing LibreOffice on ``PATH``, ``python -m consentkit.cli``).
"""

from __future__ import annotations

import contextlib
import io
import sys

import attrs

from consentkit.cli import main


@attrs.frozen
class CliResult:
    """What a run of the command line returned and printed (as ``subprocess.CompletedProcess``
    names them)."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, stdin: str | None = None) -> CliResult:
    """Run ``consentkit ARGS...`` in this process and capture its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: usage errors, --help, --version
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        sys.stdin = saved_stdin
    return CliResult(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())
