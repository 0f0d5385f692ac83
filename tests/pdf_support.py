"""Reading the PDFs the tests make with an independent tool: poppler's ``pdftotext``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def pdf_text(path: Path, *, flat: bool = False, pages: tuple[int, int] | None = None) -> str:
    """The text of a PDF as ``pdftotext`` reads it (UTF-8, reading order, pages ending in form
    feeds); with ``flat``, every run of white space (line breaks included) is one space; with
    ``pages``, only the pages from first to last (1-based)."""
    only = ["-f", str(pages[0]), "-l", str(pages[1])] if pages is not None else []
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *only, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return re.sub(r"\s+", " ", text) if flat else text


def page_texts(path: Path) -> list[str]:
    """The text of each page."""
    return pdf_text(path).split("\f")[:-1]
