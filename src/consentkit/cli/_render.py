"""``consentkit render``: one client's packet."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from ..loaders import load_client, load_practice
from ..packet import render_packet
from ._output import printable


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "render",
        help="render one client's packet (DOCX, PDF/A, packet.pdf, manifest.json)",
        description="Render one client's consent packet into a folder.",
    )
    parser.add_argument("--practice", required=True, type=Path, help="practice TOML file")
    parser.add_argument("--client", required=True, type=Path, help="client TOML or JSON file")
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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    practice = load_practice(args.practice)
    client = load_client(args.client)
    result = render_packet(
        practice, client, args.out, language=args.language, on=args.date, include_english=args.include_english
    )
    for warning in result.warnings:
        print(f"warning: {printable(warning)}")
    documents, packet = result.manifest.documents, result.manifest.packet
    pages = packet.pages if packet is not None else 0
    print(f"wrote {result.out_dir}: {len(documents)} documents, {pages} pages")
    return 0
