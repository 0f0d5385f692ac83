"""``consentkit fhir`` (print a packet's FHIR Consents) and ``consentkit revoke``.

``fhir`` exits 0 after printing the Bundle, 2 when the file is unusable (unreadable, not a
finalized consentkit packet, invalid records). ``revoke`` exits 0 after writing the revocation
packet, 1 with a one-line error otherwise (like ``finalize``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..lifecycle import bundle_json, read_consent_bundle, revoke_packet
from ._commands import command_help
from ._errors import EXIT_OK, unusable_input
from ._output import binary_stdout, is_stdio, printable, result
from ._seal import add_seal_arguments, seal_from_args


def register(commands: Any) -> None:
    fhir: argparse.ArgumentParser = commands.add_parser(
        "fhir",
        help=command_help("fhir"),
        description=(
            "Print the FHIR Consent resources of a finalized packet or revocation packet: the embedded "
            "consent.fhir.json when present, otherwise built from the embedded audit record. Exit status: "
            "0 printed, 2 unusable input."
        ),
    )
    fhir.add_argument("file", type=Path, metavar="PACKET.pdf")
    fhir.add_argument(
        "--fhir-version",
        dest="fhir_version",
        choices=["r4b"],
        default="r4b",
        help="the FHIR release (only r4b: R4B, 4.3.0)",
    )
    fhir.set_defaults(func=run_fhir)

    revoke: argparse.ArgumentParser = commands.add_parser(
        "revoke",
        help=command_help("revoke"),
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
    revoke.add_argument(
        "--out", required=True, type=Path, metavar="NEW.pdf", help="the file to create; - for standard output"
    )
    add_seal_arguments(revoke)
    revoke.add_argument("--json", action="store_true", help="print the result as JSON")
    revoke.set_defaults(func=run_revoke)


def _now() -> datetime:
    return datetime.now(UTC)


def run_fhir(args: argparse.Namespace) -> int:
    with unusable_input():
        bundle = read_consent_bundle(args.file)
    sys.stdout.write(bundle_json(bundle).decode("utf-8"))
    return EXIT_OK


def run_revoke(args: argparse.Namespace) -> int:
    stdout = binary_stdout(args, "revocation packet") if is_stdio(args.out) else None
    seal = seal_from_args(args)
    options: dict[str, Any] = {
        "reason": args.reason,
        "by": args.by,
        "now": _now(),
        "seal": seal,
        "timestamp_url": args.timestamp_url,
    }
    if stdout is not None:
        # The library writes whole files only; the packet is made in a private folder (0700),
        # copied out and removed.
        with tempfile.TemporaryDirectory(prefix="consentkit-revoke-") as folder:
            made = revoke_packet(args.file, out=Path(folder) / "revocation.pdf", **options)
            stdout.write(made.path.read_bytes())
        stdout.flush()
        return EXIT_OK
    done = revoke_packet(args.file, out=args.out, **options)
    sealed = f"sealed by {done.sealed_by}" if done.sealed_by else "not sealed"
    result(
        args,
        [
            f"wrote {printable(done.path)}: revocation of packet {printable(done.packet_id)}, "
            f"{printable(sealed)}",
            f"the original {printable(args.file.name)} is embedded unchanged (sha256 {done.original_sha256})",
            f"sha256 {done.sha256}",
        ],
        {
            "revocation": str(done.path),
            "packet_id": done.packet_id,
            "revoked_at": done.revoked_at.isoformat(),
            "original_sha256": done.original_sha256,
            "sealed_by": done.sealed_by,
            "sha256": done.sha256,
        },
    )
    return EXIT_OK
