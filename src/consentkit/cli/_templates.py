"""``consentkit templates check``: check a custom DOCX template before use."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..rendering import check_template, load_template_set


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser("templates", help="work with templates")
    sub = parser.add_subparsers(dest="templates_command", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check",
        help="report unknown variables, leftover tags and missing signature places",
        description="Dry-render DOCX templates with sample clients and report problems.",
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE.docx")
    check.add_argument("--language", default="en-US", help="the template set whose vocabulary to use")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    templates = load_template_set(args.language)
    failed = 0
    for path in args.files:
        report = check_template(path, templates=templates)
        if report.ok:
            places = ", ".join(report.signature_places)
            print(f"{report.template}: ok (signature places: {places})")
        else:
            failed += 1
            for problem in report.problems:
                print(f"{report.template}: {problem}")
    return 1 if failed else 0
