"""Render the example packets: every client in examples/clients/ into OUT/<client id>/.

Run through ``make demo``. It uses the library API the way a host application would.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from consentkit import ConsentKitError, load_client, load_practice, render_packet
from consentkit.convert import LibreOfficeConverter

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    parser.add_argument("--date", type=date.fromisoformat, default=None, help="document date (default today)")
    args = parser.parse_args()
    practice = load_practice(HERE / "practice.toml")
    failures = 0
    with LibreOfficeConverter() as converter:
        for path in sorted((HERE / "clients").glob("*.toml")):
            client = load_client(path)
            try:
                result = render_packet(
                    practice, client, args.out / client.id, converter=converter, on=args.date
                )
            except ConsentKitError as exc:
                failures += 1
                print(f"{path.name}: error: {exc}", file=sys.stderr)
                continue
            manifest = result.manifest
            print(
                f"{client.id}: {len(manifest['documents'])} documents, {manifest['packet']['pages']} pages "
                f"({manifest['locale']}) -> {result.packet_pdf}"
            )
            for warning in result.warnings:
                print(f"  warning: {warning}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
