"""The ``consentkit`` command: a thin layer that parses arguments, calls the library and maps its
errors to one-line messages and exit codes.

Exit codes: 0 success; 1 the command ran and failed or found problems (the message says why);
2 usage error. ``verify`` and ``batch`` document their own finer codes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .._version import __version__
from . import _batch, _fhir_revoke, _finalize, _lifecycle, _render, _rules, _templates, _verify
from ._errors import EXIT_INTERNAL, exit_code
from ._output import printable

__all__ = ["main"]

#: Each module adds its subcommand(s) to the parser; a new command is one more module here.
COMMANDS = (_render, _templates, _rules, _batch, _finalize, _verify, _lifecycle, _fhir_revoke)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="consentkit",
        description="Informed-consent and telehealth paperwork for counseling practices. Not legal advice.",
    )
    parser.add_argument("--version", action="version", version=f"consentkit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback for unexpected errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
            print(f"consentkit: error: {printable(exc)}", file=sys.stderr)
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
