"""The ``consentkit`` command: a thin layer that parses arguments, calls the library and maps its
errors to messages and exit codes.

Exit codes: 0 success; 1 the command ran and failed or found problems (the message says why);
2 usage error or unusable input; 70 an unexpected error. ``verify`` and ``batch`` document their
own finer codes.

Output: results on standard output (``--json``: one JSON object), diagnostics (warnings,
progress, errors) on standard error; ``-q`` keeps only results and errors, ``-v`` adds detail.

Start-up: only the module of the command that runs is imported (``consentkit --version`` and
``consentkit --help`` import none of them), so they answer without loading LibreOffice's bridge,
pyHanko, docxtpl or FHIR.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from .._version import __version__
from ..errors import InputError
from ._commands import COMMANDS
from ._errors import EXIT_INTERNAL, UnusableInput, exit_code
from ._output import printable

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """A parser whose every (sub)command accepts ``-q``/``-v``, before or after its name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        noise = self.add_mutually_exclusive_group()
        noise.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            default=argparse.SUPPRESS,
            help="print only results and errors (no warnings, no progress)",
        )
        noise.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,
            help="print more detail on standard error (never client data)",
        )


def _chosen(argv: Sequence[str]) -> str | None:
    """The command named on the command line (the first word that is one), if any."""
    return next((word for word in argv if word in COMMANDS), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser. Given the command line ``argv``, only the module of the command it names is
    imported and registers its options (the others are listed with their help line); without
    ``argv``, every command is registered."""
    parser = _Parser(
        prog="consentkit",
        description="Informed-consent and telehealth paperwork for counseling practices. Not legal advice.",
    )
    parser.add_argument("--version", action="version", version=f"consentkit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback for unexpected errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _chosen(argv) if argv is not None else None
    chosen_module = COMMANDS[chosen][0] if chosen is not None else None
    for name, (module, help_line) in COMMANDS.items():
        if name in commands.choices:
            continue  # registered with another command of its module
        if argv is None or module == chosen_module:
            importlib.import_module(f".{module}", __name__).register(commands)
        else:
            commands.add_parser(name, help=help_line, add_help=False)
    return parser


def _problems(exc: BaseException) -> list[str]:
    cause = exc.cause if isinstance(exc, UnusableInput) else exc
    if isinstance(cause, InputError) and len(cause.problems) > 1:
        return [printable(problem) for problem in cause.problems]
    return []


def _json_error(exc: BaseException, code: int) -> dict[str, Any]:
    cause = exc.cause if isinstance(exc, UnusableInput) else exc
    error: dict[str, Any] = {"type": type(cause).__name__, "message": str(cause), "exit_code": code}
    if isinstance(cause, InputError):
        error["problems"] = [
            {"source": p.source, "row": p.row, "field": p.field, "reason": p.reason} for p in cause.problems
        ]
    return {"error": error}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words)
    args = parser.parse_args(words)
    try:
        code: int = args.func(args)
    except (Exception, KeyboardInterrupt) as exc:
        mapped = exit_code(exc)
        if isinstance(exc, KeyboardInterrupt):
            print("consentkit: interrupted", file=sys.stderr)
        elif isinstance(exc, BrokenPipeError):
            # Stop quietly, as Unix tools do; nothing more may be written to the closed pipe.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        elif mapped is not None:
            problems = _problems(exc)
            if problems:
                print(f"consentkit: error: {len(problems)} problems:", file=sys.stderr)
                for problem in problems:
                    print(f"  {problem}", file=sys.stderr)
            else:
                print(f"consentkit: error: {printable(exc)}", file=sys.stderr)
            if getattr(args, "json", False) and not getattr(args, "stdout_taken", False):
                print(json.dumps(_json_error(exc, mapped), indent=2, ensure_ascii=False))
        elif args.debug:
            raise
        else:
            print(
                f"consentkit: internal error ({type(exc).__name__}); run again with --debug and report it",
                file=sys.stderr,
            )
        return mapped if mapped is not None else EXIT_INTERNAL
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
