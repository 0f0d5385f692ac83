"""``consentkit finalize``: stamp the signatures, add the audit certificate, seal."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..lifecycle import fhir_associated_files
from ..loaders import MAX_FILE_BYTES, parse_json
from ..signing import finalize_archive, finalize_packet, load_signatures, signatures_from_dict
from ._commands import command_help
from ._output import binary_stdout, is_stdio, printable, read_stdin, result
from ._seal import add_seal_arguments, seal_from_args


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "finalize",
        help=command_help("finalize"),
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
        help="the signature records (see docs/signing.md); - for standard input (image files are "
        "then found from the current folder)",
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="PACKET.pdf",
        help="the archive file to create; - writes it to standard output",
    )
    add_seal_arguments(parser)
    parser.add_argument(
        "--time-zone", metavar="ZONE", help="the practice's IANA time zone, if the manifest does not name one"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stdout = binary_stdout(args, "archive") if is_stdio(args.out) else None
    seal = seal_from_args(args)
    if is_stdio(args.signatures):
        data = parse_json(read_stdin(MAX_FILE_BYTES), source="<stdin>")
        signatures = signatures_from_dict(data, source="<stdin>", base_dir=Path.cwd())
    else:
        signatures = load_signatures(args.signatures)
    options: dict[str, Any] = {
        "seal": seal,
        "timestamp_url": args.timestamp_url,
        "time_zone": args.time_zone,
        "extra_files": fhir_associated_files,
    }
    if stdout is not None:
        archive = finalize_archive(args.packet_dir, signatures, **options)
        stdout.write(archive.data)
        stdout.flush()
        return 0
    done = finalize_packet(args.packet_dir, signatures, args.out, **options)
    first, last = done.audit_pages
    sealed = f"sealed by {done.sealed_by}" if done.sealed_by else "not sealed"
    result(
        args,
        [
            f"wrote {printable(done.path)}: {done.pages} pages (audit certificate on pages {first}-{last}), "
            f"{printable(sealed)}",
            f"sha256 {done.sha256}",
        ],
        {
            "archive": str(done.path),
            "packet_id": done.packet_id,
            "pages": done.pages,
            "audit_pages": [first, last],
            "sealed_by": done.sealed_by,
            "sha256": done.sha256,
        },
    )
    return 0
