"""``consentkit verify``: is a finalized packet intact?

Exit codes: 0 intact; 1 not intact (or, with ``--trust``, not sealed by a trusted certificate);
2 unusable input (the file cannot be read or is not a PDF, or a trust file is unusable).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from ..errors import VerificationError
from ..signing import verify_packet
from ._commands import command_help
from ._errors import EXIT_FAILED, EXIT_OK, UnusableInput
from ._output import is_stdio, printable, read_stdin

#: The largest archive read from standard input.
MAX_STDIN_ARCHIVE = 2 * 1024 * 1024 * 1024

EXIT_INTACT, EXIT_NOT_INTACT = EXIT_OK, EXIT_FAILED


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "verify",
        help=command_help("verify"),
        description=(
            "Check a finalized packet: its structure, its PDF/A-3b claim (a subset of the rules), "
            "that the embedded audit.json hashes match the signed pages and the embedded reviewed "
            "packet, and that the seal (if any) is valid and covers the whole file. Exit status: "
            "0 intact, 1 not intact, 2 unusable input."
        ),
    )
    parser.add_argument("file", type=Path, metavar="PACKET.pdf", help="the archive; - for standard input")
    parser.add_argument(
        "--trust",
        type=Path,
        action="append",
        metavar="CA.pem",
        help="a CA certificate (PEM or DER) to trust for the seal; repeatable. With --trust "
        "a seal is required and must chain to one of these",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--show-names",
        action="store_true",
        help="also print the signers' names from the audit record (kept out of the output by "
        "default: they are protected health information)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # pyHanko logs validation details (with tracebacks) as warnings; the report says what matters.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).addHandler(logging.NullHandler())
        logging.getLogger(name).propagate = False
    try:
        archive = read_stdin(MAX_STDIN_ARCHIVE) if is_stdio(args.file) else args.file
        report = verify_packet(archive, trust=args.trust)
    except VerificationError as exc:
        raise UnusableInput(exc) from exc
    if args.json:
        print(json.dumps(report.to_dict(show_names=args.show_names), indent=2, ensure_ascii=False))
    else:
        print("\n".join(printable(line) for line in report.summary(show_names=args.show_names)))
    return EXIT_INTACT if report.intact else EXIT_NOT_INTACT
