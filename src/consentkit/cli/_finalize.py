"""``consentkit finalize``: stamp the signatures, add the audit certificate, seal."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..lifecycle import fhir_associated_files
from ..signing import finalize_packet, load_signatures
from ._seal import add_seal_arguments, seal_from_args


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "finalize",
        help="turn a rendered, signed packet into its sealed archival PDF/A-3",
        description=(
            "Check the signatures against the rendered packet, draw them at their places, append the "
            "audit certificate, embed audit.json and the reviewed packet, and optionally seal the file "
            "with the practice's certificate. Refuses to overwrite an existing file."
        ),
    )
    parser.add_argument("packet_dir", type=Path, metavar="DIR", help="the folder 'consentkit render' wrote")
    parser.add_argument(
        "--signatures",
        required=True,
        type=Path,
        metavar="SIGNATURES.json",
        help="the signature records (see docs/signing.md)",
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="PACKET.pdf", help="the archive file to create"
    )
    add_seal_arguments(parser)
    parser.add_argument(
        "--time-zone", metavar="ZONE", help="the practice's IANA time zone, if the manifest does not name one"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    seal = seal_from_args(args)
    signatures = load_signatures(args.signatures)
    result = finalize_packet(
        args.packet_dir,
        signatures,
        args.out,
        seal=seal,
        timestamp_url=args.timestamp_url,
        time_zone=args.time_zone,
        extra_files=fhir_associated_files,
    )
    first, last = result.audit_pages
    sealed = f"sealed by {result.sealed_by}" if result.sealed_by else "not sealed"
    print(f"wrote {result.path}: {result.pages} pages (audit certificate on pages {first}-{last}), {sealed}")
    print(f"sha256 {result.sha256}")
    return 0
