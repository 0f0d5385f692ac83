"""``consentkit templates check``: check a custom DOCX template before use."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..rendering import check_template, load_template_set
from ._commands import command_help
from ._output import printable, result


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser("templates", help=command_help("templates"))
    sub = parser.add_subparsers(dest="templates_command", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check",
        help="report unknown variables, leftover tags and missing signature places",
        description="Dry-render DOCX templates with sample clients and report problems.",
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE.docx")
    check.add_argument("--language", default="en-US", help="the template set whose vocabulary to use")
    check.add_argument("--json", action="store_true", help="print the reports as JSON")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    templates = load_template_set(args.language)
    reports = [check_template(path, templates=templates) for path in args.files]
    lines = []
    for report in reports:
        lines += [f"{printable(report.template)}: warning: {printable(w)}" for w in report.warnings]
        if report.ok:
            places = ", ".join(report.signature_places)
            lines.append(f"{printable(report.template)}: ok (signature places: {printable(places)})")
        else:
            lines += [f"{printable(report.template)}: {printable(problem)}" for problem in report.problems]
    result(
        args,
        lines,
        {
            "ok": all(report.ok for report in reports),
            "templates": [
                {
                    "template": report.template,
                    "ok": report.ok,
                    "signature_places": list(report.signature_places),
                    "problems": list(report.problems),
                    "warnings": list(report.warnings),
                }
                for report in reports
            ],
        },
    )
    return 0 if all(report.ok for report in reports) else 1
