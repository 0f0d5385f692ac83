"""``--compose``, shared by ``render`` and ``batch``: the option and the converter it needs."""

from __future__ import annotations

import argparse
import contextlib
from contextlib import AbstractContextManager

from ..warm import WarmConverter

__all__ = ["add_compose_argument", "compose_converter"]


def add_compose_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--compose",
        action="store_true",
        help="convert the documents as one joined DOCX through a warm LibreOffice (no PDF per document)",
    )


def compose_converter(
    args: argparse.Namespace, instances: int
) -> AbstractContextManager[WarmConverter | None]:
    """With ``--compose``, a warm converter for the run (composed conversion lays documents out
    faithfully only through it), closed at the end; else nothing. It starts LibreOffice at its
    first conversion, so a batch with every packet already complete never does, and recycles in
    place: a long batch never holds more than ``instances`` LibreOffice processes."""
    if not args.compose:
        return contextlib.nullcontext()
    return contextlib.closing(WarmConverter(instances=instances, recycle_beside=False))
