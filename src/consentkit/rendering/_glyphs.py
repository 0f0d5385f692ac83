"""Characters no installed font can show.

LibreOffice draws a character that no installed font has as an empty box (the font's ``.notdef``
glyph) and says nothing: a client named in Chinese, with only Latin fonts installed, got a
packet of boxes with status ok. Before a packet is rendered, every text field of the client and
the practice is checked against the characters the installed fonts cover (fontconfig's charsets,
the ones LibreOffice falls back through), and a field holding a character none covers is refused
with its name.

Without fontconfig (``fc-list`` missing) nothing can be known, and nothing is refused.
"""

from __future__ import annotations

import bisect
import functools
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import attrs

__all__ = ["covered", "uncovered_fields"]

#: Characters that are never drawn with a glyph (controls, joiners, variation selectors).
_INVISIBLE = (
    frozenset(range(0x20)) | {0x7F, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF} | set(range(0xFE00, 0xFE10))
)


@functools.cache
def _ranges() -> tuple[list[int], list[int]] | None:
    """The union of the installed fonts' charsets, as sorted starts and ends (``None``: unknown)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        done = subprocess.run(
            [fc_list, "--format", "%{charset}\\n"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    spans: list[tuple[int, int]] = []
    for word in done.stdout.split():
        first, _, last = word.partition("-")
        try:
            spans.append((int(first, 16), int(last or first, 16)))
        except ValueError:
            continue
    if not spans:
        return None
    spans.sort()
    starts: list[int] = []
    ends: list[int] = []
    for start, end in spans:
        if ends and start <= ends[-1] + 1:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def covered(char: str) -> bool:
    """Whether an installed font has a glyph for ``char`` (``True`` when that cannot be known)."""
    code = ord(char)
    if code in _INVISIBLE:
        return True
    ranges = _ranges()
    if ranges is None:
        return True
    starts, ends = ranges
    index = bisect.bisect_right(starts, code) - 1
    return index >= 0 and code <= ends[index]


def _texts(value: Any, path: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield ".".join(path), value
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from _texts(getattr(value, field.name), (*path, field.name))
    elif isinstance(value, list | tuple):
        for number, item in enumerate(value, start=1):
            yield from _texts(item, (*path, str(number)))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, (*path, str(key)))


def uncovered_fields(value: Any, prefix: str) -> list[str]:
    """The dotted names of the text fields of ``value`` (a model) holding a character no
    installed font can show, e.g. ``["client.legal_name"]``."""
    if _ranges() is None:
        return []
    return [
        field
        for field, text in _texts(value, (prefix,))
        if not text.isascii() and not all(covered(c) for c in text)
    ]
