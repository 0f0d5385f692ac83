"""``consentkit finalize``: stamp the signatures, add the audit certificate, seal."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..lifecycle import fhir_associated_files
from ..signing import SealConfig, finalize_packet, load_signatures


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
    parser.add_argument(
        "--seal", type=Path, metavar="CERT.p12", help="the practice's PKCS#12 sealing certificate"
    )
    parser.add_argument(
        "--seal-password-file",
        type=Path,
        metavar="FILE",
        help="a file holding the PKCS#12 password (one trailing newline is ignored)",
    )
    parser.add_argument(
        "--timestamp-url", metavar="URL", help="an RFC 3161 timestamp server for the seal (PAdES B-T)"
    )
    parser.add_argument(
        "--time-zone", metavar="ZONE", help="the practice's IANA time zone, if the manifest does not name one"
    )
    parser.set_defaults(func=run)


def _password(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the password file ({exc.strerror})", source=path.name) from exc
    if data.endswith(b"\r\n"):
        return data[:-2]
    return data.removesuffix(b"\n")


def run(args: argparse.Namespace) -> int:
    if args.seal_password_file is not None and args.seal is None:
        raise InputError("--seal-password-file needs --seal")
    seal = SealConfig(pkcs12=args.seal, password=_password(args.seal_password_file)) if args.seal else None
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
