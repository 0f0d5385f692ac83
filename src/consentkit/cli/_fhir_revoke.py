"""``consentkit fhir`` (print a packet's FHIR Consents) and ``consentkit revoke``.

``fhir`` exits 0 after printing the Bundle, 2 when the file is unusable (unreadable, not a
finalized consentkit packet, invalid records). ``revoke`` exits 0 after writing the revocation
packet, 1 with a one-line error otherwise (like ``finalize``).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..lifecycle import bundle_json, read_consent_bundle, revoke_packet
from ._errors import EXIT_OK, unusable_input
from ._seal import add_seal_arguments, seal_from_args


def register(commands: Any) -> None:
    fhir: argparse.ArgumentParser = commands.add_parser(
        "fhir",
        help="print a finalized packet's consents as FHIR R4B Consent resources (a Bundle, JSON)",
        description=(
            "Print the FHIR Consent resources of a finalized packet or revocation packet: the embedded "
            "consent.fhir.json when present, otherwise built from the embedded audit record. Exit status: "
            "0 printed, 2 unusable input."
        ),
    )
    fhir.add_argument("file", type=Path, metavar="PACKET.pdf")
    fhir.add_argument(
        "--version",
        dest="fhir_version",
        choices=["r4b"],
        default="r4b",
        help="the FHIR release (only r4b: R4B, 4.3.0)",
    )
    fhir.set_defaults(func=run_fhir)

    revoke: argparse.ArgumentParser = commands.add_parser(
        "revoke",
        help="record that a client withdrew consent: a new archival packet (the original is kept unchanged)",
        description=(
            "Write a new archival PDF/A-3 packet recording the revocation of a finalized packet: a "
            "revocation page, revocation.json, the consents as FHIR with status inactive, and the original "
            "archive embedded unchanged. The original file is only read. Refuses to overwrite an existing "
            "file."
        ),
    )
    revoke.add_argument("file", type=Path, metavar="PACKET.pdf", help="the finalized archive")
    revoke.add_argument("--reason", required=True, metavar="TEXT", help="why, in one line")
    revoke.add_argument("--by", required=True, metavar="NAME", help="who records the revocation")
    revoke.add_argument("--out", required=True, type=Path, metavar="NEW.pdf", help="the file to create")
    add_seal_arguments(revoke)
    revoke.set_defaults(func=run_revoke)


def _now() -> datetime:
    return datetime.now(UTC)


def run_fhir(args: argparse.Namespace) -> int:
    with unusable_input():
        bundle = read_consent_bundle(args.file)
    sys.stdout.write(bundle_json(bundle).decode("utf-8"))
    return EXIT_OK


def run_revoke(args: argparse.Namespace) -> int:
    seal = seal_from_args(args)
    result = revoke_packet(
        args.file,
        reason=args.reason,
        by=args.by,
        out=args.out,
        now=_now(),
        seal=seal,
        timestamp_url=args.timestamp_url,
    )
    sealed = f"sealed by {result.sealed_by}" if result.sealed_by else "not sealed"
    print(f"wrote {result.path}: revocation of packet {result.packet_id}, {sealed}")
    print(f"the original {args.file.name} is embedded unchanged (sha256 {result.original_sha256})")
    print(f"sha256 {result.sha256}")
    return EXIT_OK
