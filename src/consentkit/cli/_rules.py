"""``consentkit rules show STATE`` and ``consentkit rules check``."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from ..rules import RULE_TABLE_HEADER, check_rules, dataset_version, format_rule_table, load_jurisdiction
from ._commands import command_help
from ._output import quiet


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "rules",
        help=command_help("rules"),
        description="State rule data: research by the consentkit maintainers, not legal advice.",
    )
    sub = parser.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="a table of one jurisdiction's rules with their citations")
    show.add_argument(
        "state", metavar="STATE", help="a state or DC postal code, or US for the federal baseline"
    )
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show.set_defaults(func=run_show)
    check = sub.add_parser(
        "check",
        help="schema, citations, staleness; exit 1 when a rule lacks a citation or a review date",
    )
    check.add_argument("--today", type=date.fromisoformat, default=None, help="check as of this date")
    check.add_argument("--max-age-days", type=int, default=365, help="older reviews are stale (default 365)")
    check.add_argument("--json", action="store_true", help="print the findings and the summary as JSON")
    check.add_argument(
        "files", nargs="*", type=Path, help="check these data files instead of the bundled ones"
    )
    check.set_defaults(func=run_check)


def run_show(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    code = args.state.strip().upper()
    ruleset = load_jurisdiction(code)
    rows = format_rule_table(ruleset)
    if args.json:
        print(
            json.dumps(
                [dict(zip(RULE_TABLE_HEADER, row, strict=True)) for row in rows], indent=2, ensure_ascii=False
            )
        )
        return 0
    console = Console(width=200 if not Console().is_terminal else None)
    table = Table(title=f"{ruleset.name} ({code}) - rule data {dataset_version()}", show_lines=True)
    for column in RULE_TABLE_HEADER:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(
        "Not legal advice. 'unverified' rules are conservative defaults whose sources were not reviewed."
    )
    return 0


def run_check(args: argparse.Namespace) -> int:
    today = args.today or date.today()
    report = check_rules(today, args.max_age_days, paths=args.files or None)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "dataset_version": report.dataset_version,
                    "as_of": today.isoformat(),
                    "errors": [f.message for f in report.errors],
                    "warnings": [{"code": f.code, "message": f.message} for f in report.warnings],
                    "jurisdictions": [
                        {
                            "jurisdiction": s.jurisdiction,
                            "primary": s.primary,
                            "secondary": s.secondary,
                            "unverified": s.unverified,
                        }
                        for s in report.summaries
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0 if report.ok else 1
    for finding in report.errors:
        print(f"error: {finding.message}")
    if not quiet(args):
        for finding in report.warnings:
            print(f"warning: [{finding.code}] {finding.message}")
    print()
    print(f"{'jurisdiction':<14}{'primary':>9}{'secondary':>11}{'unverified':>12}")
    for summary in report.summaries:
        print(
            f"{summary.jurisdiction:<14}{summary.primary:>9}{summary.secondary:>11}{summary.unverified:>12}"
        )
    verdict = "ok" if report.ok else "FAILED"
    print(
        f"\nrules check {verdict}: {len(report.errors)} error(s), {len(report.warnings)} warning(s), "
        f"dataset {report.dataset_version or '?'}, as of {today.isoformat()}"
    )
    return 0 if report.ok else 1
