"""Where things are on a PDF page: small text found by a pattern, and the horizontal lines near a
point (pdfplumber, which reads text per character and lines as edges; positions in pdfplumber's
top-down coordinates unless said otherwise)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PyPdfError

__all__ = ["line_beside", "line_under", "pages_mentioning", "search_small_text"]


def line_under(
    edges: Iterable[Mapping[str, Any]], x: float, bottom: float, *, gap: float
) -> Mapping[str, Any] | None:
    """The horizontal line closest below ``bottom`` (at most ``gap`` below it) that starts at or
    left of ``x`` and runs at least 20 pt past it."""
    best = None
    for edge in edges:
        if edge.get("orientation") != "h":
            continue
        top = float(edge["top"])
        if (
            bottom - 1 <= top <= bottom + gap
            and float(edge["x0"]) - 3 <= x <= float(edge["x1"]) - 20
            and (best is None or top < float(best["top"]))
        ):
            best = edge
    return best


def line_beside(edges: Iterable[Mapping[str, Any]], line: Mapping[str, Any]) -> tuple[float, float] | None:
    """The left end and length of another horizontal line at the level of ``line``, right of it."""
    for edge in edges:
        if (
            edge.get("orientation") == "h"
            and abs(float(edge["top"]) - float(line["top"])) < 1.5
            and float(edge["x0"]) > float(line["x1"]) + 4
        ):
            return float(edge["x0"]), float(edge["x1"]) - float(edge["x0"])
    return None


def search_small_text(
    page: Any, pattern: re.Pattern[str], max_size: float
) -> list[tuple[str, Mapping[str, Any]]]:
    """Text matching ``pattern`` on a pdfplumber page, as (text, match with its box).

    Small text (below ``max_size`` pt) is searched on its own first, with a tight line tolerance:
    read among ordinary text, a line just below it (a label under a signature line, say) can be
    taken for the same line and interleave with it. Then the whole page is searched.
    """
    tiny = page.filter(lambda obj: obj.get("object_type") != "char" or float(obj.get("size", 0)) < max_size)
    for source in (tiny, page):
        matches = source.search(pattern, regex=True, return_chars=False, y_tolerance=0.5)
        if matches:
            return [(m["text"], m) for m in matches]
    return []


def pages_mentioning(pdf: bytes, text: str) -> set[int] | None:
    """The 1-based pages whose text (as pypdf extracts it, quickly) holds ``text``; ``None`` when
    pypdf cannot read the file. Only a shortcut: pypdf misses text split across chunks."""
    try:
        reader = PdfReader(io.BytesIO(pdf))
        return {n for n, page in enumerate(reader.pages, start=1) if text in (page.extract_text() or "")}
    except (PyPdfError, ValueError, KeyError, TypeError):
        return None
