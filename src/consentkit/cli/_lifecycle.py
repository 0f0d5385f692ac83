"""``consentkit practice check``, ``consentkit reconsent-check`` and ``consentkit session``.

Exit codes of the checks: 0 all clear (practice ready; nobody must re-consent; the session may go
on), 1 the check found something (not ready; someone must re-consent or a packet could not be
checked; the session is not allowed here), 2 unusable input (a practice, client or log file
cannot be read, a bad option value).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from ..errors import InputError
from ..lifecycle import (
    ReconsentDecision,
    ScanResult,
    SessionCheck,
    append_session,
    check_practice,
    check_session,
    load_manifest,
    reconsent_check,
    reconsent_scan,
    render_session_log_pdf,
)
from ..loaders import iter_clients_csv, load_client, load_practice
from ..models import Address, Client
from ..rendering import TemplateSet, load_template_set
from ._commands import command_help
from ._errors import EXIT_FAILED, EXIT_OK, UsageError, unusable_input
from ._output import printable, result, warn

EXIT_CLEAR, EXIT_FOUND = EXIT_OK, EXIT_FAILED


def register(commands: Any) -> None:
    _register_practice(commands)
    _register_reconsent(commands)
    _register_session(commands)


# --- practice check -------------------------------------------------------------------------------


def _register_practice(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser("practice", help=command_help("practice"))
    sub = parser.add_subparsers(dest="practice_command", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check",
        help="platform, BAA, malpractice, licenses and state training per clinician and state "
        "(exit 0 ready, 1 not ready, 2 unusable input)",
        description=(
            "Report, for each clinician and state served, whether the practice is ready for "
            "telehealth. States served: each clinician's license and compact-privilege states, plus "
            "--state. Exit status: 0 ready (warnings allowed), 1 not ready, 2 unusable input."
        ),
    )
    check.add_argument("practice", type=Path, metavar="PRACTICE.toml")
    check.add_argument(
        "--state",
        action="append",
        default=[],
        metavar="XX",
        help="a state the practice's clients are in (repeatable, or comma-separated)",
    )
    check.add_argument("--date", type=date.fromisoformat, help="check as of this date (default today)")
    check.add_argument(
        "--training-hours",
        action="append",
        default=[],
        metavar="ID=HOURS",
        help="telehealth training hours a clinician completed, as the practice attests (repeatable)",
    )
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(func=run_practice_check)


def _training_hours(values: list[str]) -> dict[str, float]:
    hours: dict[str, float] = {}
    for value in values:
        clinician_id, _, number = value.partition("=")
        try:
            hours[clinician_id.strip()] = float(number)
        except ValueError:
            raise InputError("write ID=HOURS, e.g. dwhitfield=9", field="--training-hours") from None
    return hours


def run_practice_check(args: argparse.Namespace) -> int:
    with unusable_input():
        practice = load_practice(args.practice)
        states = [s for value in args.state for s in value.split(",") if s.strip()]
        report = check_practice(
            practice,
            args.date or date.today(),
            states=states,
            training_hours=_training_hours(args.training_hours),
        )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return EXIT_CLEAR if report.ready else EXIT_FOUND
    console = Console(width=160 if not sys.stdout.isatty() else None)
    table = Table(title=f"{practice.name}: telehealth readiness on {report.checked_on.isoformat()}")
    for column in ("", "clinician", "state", "finding"):
        table.add_column(column, overflow="fold")
    for finding in report.findings:
        table.add_row(
            "ERROR" if finding.severity == "error" else "warning",
            finding.clinician_id or "(practice)",
            finding.state or "",
            finding.message,
        )
    if report.findings:
        console.print(table)
    for clinician_id, checked in report.clinician_states.items():
        console.print(f"{clinician_id}: checked for {', '.join(checked) or 'no state'}")
    verdict = "READY" if report.ready else "NOT READY"
    console.print(
        f"{verdict}: {len(report.errors)} error(s), {len(report.warnings)} warning(s). Not legal advice."
    )
    return EXIT_CLEAR if report.ready else EXIT_FOUND


# --- reconsent-check ------------------------------------------------------------------------------


def _register_reconsent(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "reconsent-check",
        help=command_help("reconsent-check"),
        description=(
            "Compare a packet's manifest.json with today's practice, client, templates and state "
            "rules. One client: --client C.toml PACKET_DIR. A caseload: --clients clients.csv "
            "--packets DIR (every packet folder directly in DIR). Exit status: 0 nobody must "
            "re-consent, 1 someone must (or a packet could not be checked, or a client has no "
            "packet), 2 unusable input."
        ),
    )
    parser.add_argument("--practice", required=True, type=Path, help="practice TOML file")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--client", type=Path, help="client TOML or JSON file (with PACKET_DIR)")
    who.add_argument("--clients", type=Path, help="clients CSV file (with --packets)")
    parser.add_argument("--packets", type=Path, metavar="DIR", help="folder of packet folders")
    parser.add_argument("packet", nargs="?", type=Path, metavar="PACKET_DIR", help="one packet folder")
    parser.add_argument("--date", type=date.fromisoformat, help="check as of this date (default today)")
    parser.add_argument(
        "--templates", type=Path, metavar="DIR", help="a custom template set folder to compare with"
    )
    parser.add_argument("--json", action="store_true", help="print the decisions as JSON")
    parser.set_defaults(func=run_reconsent_check)


def _print_decision(decision: ReconsentDecision, where: str) -> None:
    if not decision.required:
        print(f"{where}: client {printable(decision.client_id)}: no re-consent needed")
        return
    print(f"{where}: client {printable(decision.client_id)}: MUST RE-CONSENT")
    for reason in decision.reasons:
        print(f"  - [{reason.code}] {reason.message}")


def _print_scan_result(result: ScanResult) -> None:
    where = result.folder.name if result.folder is not None else "(no packet)"
    if result.decision is not None:
        _print_decision(result.decision, where)
    elif result.status == "no_packet":
        print(f"{where}: client {printable(result.client_id)}: has no packet in the folder")
    elif result.status == "superseded":
        print(f"{where}: client {printable(result.client_id)}: superseded by a later packet")
    else:
        print(
            f"{where}: client {printable(result.client_id or '?')}: could not be checked: "
            f"{printable(result.error)}"
        )


def run_reconsent_check(args: argparse.Namespace) -> int:
    if args.client is not None and (args.packet is None or args.packets is not None):
        raise UsageError("--client needs one PACKET_DIR (and no --packets)")
    if args.clients is not None and (args.packets is None or args.packet is not None):
        raise UsageError("--clients needs --packets DIR (and no PACKET_DIR)")
    on = args.date or date.today()
    with unusable_input():
        practice = load_practice(args.practice)
        templates: TemplateSet | None = load_template_set(args.templates) if args.templates else None
        if args.client is not None:
            client = load_client(args.client)
            manifest = load_manifest(args.packet)
            decision = reconsent_check(manifest, practice, client, on=on, templates=templates)
    if args.client is not None:
        if args.json:
            print(json.dumps(decision.to_dict(), indent=2, ensure_ascii=False))
        else:
            _print_decision(decision, args.packet.name)
        return EXIT_FOUND if decision.required else EXIT_CLEAR
    clients: dict[str, Client] = {}
    bad_rows: list[str] = []
    with unusable_input():
        for row in iter_clients_csv(args.clients):
            if row.client is not None:
                clients[row.client.id] = row.client
            elif not row.blank:
                bad_rows.append(str(row.error))
        results = reconsent_scan(args.packets, practice, clients, on, templates=templates)
    attention = bool(bad_rows) or any(r.needs_attention for r in results)
    if args.json:
        payload = {
            "checked_on": on.isoformat(),
            "reconsent_needed": attention,
            "bad_client_rows": bad_rows,
            "results": [r.to_dict() for r in results],
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return EXIT_FOUND if attention else EXIT_CLEAR
    for message in bad_rows:
        warn(args, f"{message} (this client could not be checked)")
    for scanned in results:
        _print_scan_result(scanned)
    counts = {status: sum(1 for r in results if r.status == status) for status in _STATUSES}
    print(
        f"{counts['current']} current, {counts['reconsent']} must re-consent, {counts['error']} could not "
        f"be checked, {counts['no_packet']} without a packet, {counts['superseded']} superseded "
        f"(as of {on.isoformat()})"
    )
    return EXIT_FOUND if attention else EXIT_CLEAR


_STATUSES = ("current", "reconsent", "error", "no_packet", "superseded")


# --- session ----------------------------------------------------------------------------------------


def _register_session(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser("session", help=command_help("session"))
    sub = parser.add_subparsers(dest="session_command", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check",
        help="check where the client is at the start of a session (exit 0 allowed, 1 not allowed)",
        description=(
            "Compare where the client says they are with the plan on file and say what must happen; "
            "with --log, append the check to the client's session log. Exit status: 0 the session "
            "may go on (do what the warnings say), 1 not allowed where the client is, 2 unusable input."
        ),
    )
    check.add_argument("--practice", required=True, type=Path, help="practice TOML file")
    check.add_argument("--client", required=True, type=Path, help="client TOML or JSON file")
    check.add_argument("--address-line1", required=True, help="where the client is: street address")
    check.add_argument("--address-line2", help="apartment, suite, ...")
    check.add_argument("--city", required=True)
    check.add_argument("--state", required=True, metavar="XX", help="USPS state code")
    check.add_argument("--zip", required=True, help="ZIP code")
    check.add_argument("--clinician", help="clinician id (default: the client's clinician)")
    check.add_argument("--reported-by", default="client", help="who gave the location (default: client)")
    check.add_argument(
        "--emergency-contact-confirmed",
        action="store_true",
        help="the emergency contact on file was confirmed this session",
    )
    check.add_argument("--notes", default="", help="a short note (no clinical content)")
    check.add_argument(
        "--time",
        help="session start, ISO 8601 (default now); without an offset, in the practice's time zone",
    )
    check.add_argument("--log", type=Path, metavar="LOG.jsonl", help="append the check to this session log")
    check.add_argument("--json", action="store_true", help="print the findings as JSON")
    check.set_defaults(func=run_session_check)
    log_pdf = sub.add_parser(
        "log-pdf",
        help="render a client's session log as a PDF/A-3b document",
        description="Render a client's session log (JSON Lines) as a PDF/A-3b document.",
    )
    log_pdf.add_argument("--practice", required=True, type=Path, help="practice TOML file")
    log_pdf.add_argument("--client", required=True, type=Path, help="client TOML or JSON file")
    log_pdf.add_argument("--log", required=True, type=Path, metavar="LOG.jsonl", help="the session log")
    log_pdf.add_argument("--out", required=True, type=Path, metavar="OUT.pdf", help="the PDF to write")
    log_pdf.add_argument("--json", action="store_true", help="print the result as JSON")
    log_pdf.set_defaults(func=run_session_log_pdf)


def _session_time(text: str | None, time_zone: str) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError("not an ISO 8601 date and time, e.g. 2026-11-27T09:00", field="--time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(time_zone))


def run_session_check(args: argparse.Namespace) -> int:
    with unusable_input():
        practice = load_practice(args.practice)
        client = load_client(args.client)
        address = Address(
            line1=args.address_line1,
            line2=args.address_line2,
            city=args.city,
            state=args.state,
            postal_code=args.zip,
        )
        clinician_id = args.clinician or practice.clinician(client.clinician_id).id
        reported = SessionCheck(
            session_time=_session_time(args.time, practice.time_zone),
            client_id=client.id,
            clinician_id=clinician_id,
            reported_address=address,
            reported_by=args.reported_by,
            emergency_contact_confirmed=args.emergency_contact_confirmed,
            notes=args.notes,
        )
        findings = check_session(practice, client, reported)
        if args.log is not None:
            logged = append_session(args.log, findings)
    if args.json:
        print(json.dumps(findings.to_dict(), indent=2, ensure_ascii=False))
    else:
        if findings.authorization:
            print(f"authorised: {findings.authorization}")
        for finding in findings.findings:
            print(f"{'ERROR' if finding.severity == 'error' else 'action'}: {finding.message}")
        if not findings.findings:
            print("the client is where the plan on file says; nothing to do")
        if args.log is not None:
            print(f"logged as line {logged.line} of {args.log.name}")
    return EXIT_CLEAR if findings.allowed else EXIT_FOUND


def run_session_log_pdf(args: argparse.Namespace) -> int:
    practice = load_practice(args.practice)
    client = load_client(args.client)
    out = render_session_log_pdf(args.log, args.out, practice=practice, client=client)
    result(args, [f"wrote {printable(out)}"], {"pdf": str(out), "client_id": client.id})
    return 0
