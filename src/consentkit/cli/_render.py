"""``consentkit render``: one client's packet."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from ..loaders import MAX_FILE_BYTES, client_from_bytes, load_client, load_practice, practice_from_bytes
from ..packet import render_packet
from ._commands import command_help
from ._compose import add_compose_argument, compose_converter
from ._errors import UsageError
from ._output import detail, is_stdio, printable, read_stdin, result, warn


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "render",
        help=command_help("render"),
        description="Render one client's consent packet into a folder.",
    )
    parser.add_argument(
        "--practice", required=True, type=Path, help="practice TOML or JSON file (- for standard input)"
    )
    parser.add_argument(
        "--client",
        required=True,
        type=Path,
        help="client TOML or JSON file (- for standard input: JSON if it starts with '{', else TOML)",
    )
    parser.add_argument("--out", required=True, type=Path, help="packet folder to write")
    parser.add_argument(
        "--language", help="force a template locale (e.g. en-US, es-US) or a custom set folder"
    )
    parser.add_argument(
        "--include-english",
        action="store_true",
        help="add an unsigned English copy of each document after a translated packet",
    )
    parser.add_argument("--date", type=date.fromisoformat, help="document date (YYYY-MM-DD); default today")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_compose_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if is_stdio(args.practice) and is_stdio(args.client):
        raise UsageError("only one of --practice and --client can be read from standard input")
    if is_stdio(args.practice):
        practice = practice_from_bytes(read_stdin(MAX_FILE_BYTES), source="<stdin>")
    else:
        practice = load_practice(args.practice)
    if is_stdio(args.client):
        client = client_from_bytes(read_stdin(MAX_FILE_BYTES), source="<stdin>")
    else:
        client = load_client(args.client)
    with compose_converter(args, instances=1) as converter:
        rendered = render_packet(
            practice,
            client,
            args.out,
            language=args.language,
            on=args.date,
            include_english=args.include_english,
            compose=args.compose,
            converter=converter,
        )
    manifest = rendered.manifest
    for warning in rendered.warnings:
        warn(args, warning)
    for document in manifest.documents:
        detail(args, f"  {document.id}: {document.pages} pages ({document.locale or manifest.locale})")
    packet = manifest.packet
    pages = packet.pages if packet is not None else 0
    result(
        args,
        [f"wrote {printable(rendered.out_dir)}: {len(manifest.documents)} documents, {pages} pages"],
        {
            "packet_dir": str(rendered.out_dir),
            "packet_id": manifest.packet_id,
            "client_id": manifest.client_id,
            "locale": manifest.locale,
            "documents": [
                {"id": d.id, "pages": d.pages, "reference_only": d.reference_only} for d in manifest.documents
            ],
            "pages": pages,
            "packet_sha256": packet.sha256 if packet is not None else None,
            "warnings": list(rendered.warnings),
        },
    )
    return 0
