"""The one way consentkit writes a CSV file: cells that a spreadsheet would run as a formula are
neutralised, and the file is replaced atomically (mode 0600).

A practice opens ``report.csv`` in a spreadsheet. A cell starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is read there as a formula (CSV injection), and cells hold client data
(an id such as ``=HYPERLINK(...)``). As OWASP recommends, such a cell is written with a single
quote in front, which spreadsheets show as text and do not evaluate.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from ._files import atomic_writer

__all__ = ["neutralise", "write_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell's text, with a ``'`` in front when a spreadsheet would read it as a formula.

    >>> neutralise("=1+1")
    "'=1+1"
    >>> neutralise("C-1001")
    'C-1001'
    >>> neutralise(3)
    '3'
    """
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """Write a CSV file (UTF-8, ``\\n`` line ends, every cell neutralised), replacing ``path``
    atomically; ``rows`` may be a generator (thousands of rows never sit in memory as text)."""
    path = Path(path)
    with atomic_writer(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow([neutralise(cell) for cell in header])
        for row in rows:
            writer.writerow([neutralise(cell) for cell in row])
        text.flush()
        text.detach()  # atomic_writer syncs, closes and renames the file itself
    return path
