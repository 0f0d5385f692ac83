"""Find and remove marker text: tiny white text that locates a place on a page and must not stay in
the PDF a person receives.

Templates put each signature place as an invisible run, ``ck-sig-<key>`` at 2 pt in white, so that
LibreOffice lays it out exactly where the signature goes (in the body or in a table cell). After
conversion its position is read here, straight from the content stream, and the text-showing
operator is removed: nothing of it is left for copy and paste, text extraction or a screen reader.
The marked-content sequence around it stays, now empty, so the structure tree still matches.

Only what the content stream states is used: the text matrix (``Tm``, ``Td``, ``TD``, ``T*``), the
current transformation matrix (``cm`` within ``q``/``Q``), the font size (``Tf``), the fill colour
(``g``, ``rg``, ``k``) and the font's ``/ToUnicode`` map to read the characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import pikepdf

__all__ = ["Marker", "strip_markers"]

#: Text at or below this size (in points, after scaling) is a candidate marker.
MAX_MARKER_SIZE = 3.5
# A content stream that sets no font size below 4 pt holds no marker: skip parsing it.
_SMALL_FONT = re.compile(rb"[\s/][0-3](?:\.\d*)?\s+Tf\b")

#: The operators that move the text position, change the colour or show text; the others are skipped.
_SHOWN = frozenset({"Tj", "TJ", "'", '"'})
_TRACKED = _SHOWN | {"q", "Q", "cm", "g", "rg", "k", "sc", "scn", "cs"}
_TRACKED |= {"BT", "Tf", "TL", "Td", "TD", "Tm", "T*"}

Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@attrs.frozen
class Marker:
    """Marker text found (and removed) on a page.

    Attributes:
        text: the characters, as the font's ``/ToUnicode`` map reads them.
        page: the 0-based page index.
        x: the left end of the text's baseline, in default user space.
        y: the baseline's height, in default user space (origin bottom-left).
        size: the font size in points.
    """

    text: str
    page: int
    x: float
    y: float
    size: float


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """``m`` then ``n`` (row vectors, as PDF writes matrices)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def _numbers(operands: list[Any]) -> list[float]:
    values = []
    for operand in operands:
        try:
            values.append(float(operand))
        except (TypeError, ValueError):
            return []
    return values


def _hex(token: str) -> bytes:
    return bytes.fromhex(token) if len(token) % 2 == 0 else bytes.fromhex(token + "0")


_CMAP_TOKEN = re.compile(rb"<([0-9A-Fa-f]*)>|\[|\]|beginbfchar|endbfchar|beginbfrange|endbfrange")


def _to_unicode_map(font: Any) -> tuple[dict[bytes, str], int]:
    """A font's ``/ToUnicode`` map (code bytes to text) and its code length in bytes."""
    width = 2 if font.get("/Subtype") == "/Type0" else 1
    stream = font.get("/ToUnicode")
    if not isinstance(stream, pikepdf.Stream):
        return {}, width
    try:
        data = stream.read_bytes()
    except pikepdf.PdfError:
        return {}, width
    mapping: dict[bytes, str] = {}
    tokens = [m.group(0) for m in _CMAP_TOKEN.finditer(data)]
    mode = b""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in (b"beginbfchar", b"beginbfrange"):
            mode = token
        elif token in (b"endbfchar", b"endbfrange"):
            mode = b""
        elif mode == b"beginbfchar" and token.startswith(b"<") and i + 1 < len(tokens):
            source, target = _hex(token[1:-1].decode()), tokens[i + 1]
            if target.startswith(b"<"):
                mapping[source] = _hex(target[1:-1].decode()).decode("utf-16-be", "replace")
            i += 1
        elif mode == b"beginbfrange" and token.startswith(b"<") and i + 2 < len(tokens):
            low, high = _hex(token[1:-1].decode()), _hex(tokens[i + 1][1:-1].decode())
            start = int.from_bytes(low, "big")
            end = min(int.from_bytes(high, "big"), start + 65535)
            target = tokens[i + 2]
            if target == b"[":
                j, k = i + 3, 0
                while j < len(tokens) and tokens[j] != b"]":
                    key = (start + k).to_bytes(len(low), "big")
                    mapping[key] = _hex(tokens[j][1:-1].decode()).decode("utf-16-be", "replace")
                    j, k = j + 1, k + 1
                i = j
            elif target.startswith(b"<"):
                base = _hex(target[1:-1].decode())
                first = int.from_bytes(base, "big")
                for code in range(start, end + 1):
                    value = (first + code - start).to_bytes(max(len(base), 2), "big")
                    mapping[code.to_bytes(len(low), "big")] = value.decode("utf-16-be", "replace")
                i += 2
        i += 1
    if mapping:
        width = len(next(iter(mapping)))
    return mapping, width


def _decode(raw: bytes, mapping: dict[bytes, str], width: int) -> str:
    return "".join(mapping.get(raw[i : i + width], "\ufffd") for i in range(0, len(raw), width))


def _shown_bytes(operator: str, operands: list[Any]) -> bytes:
    """The string bytes a text-showing operator shows (``TJ`` numbers are spacing, not text)."""
    if operator == "TJ" and operands and isinstance(operands[0], pikepdf.Array):
        return b"".join(bytes(item) for item in operands[0] if isinstance(item, pikepdf.String))
    if operands and isinstance(operands[-1], pikepdf.String):
        return bytes(operands[-1])
    return b""


def _content_bytes(page: pikepdf.Page) -> bytes:
    contents = page.obj.get("/Contents")
    if isinstance(contents, pikepdf.Stream):
        return contents.read_bytes()
    if isinstance(contents, pikepdf.Array):
        return b"\n".join(s.read_bytes() for s in contents if isinstance(s, pikepdf.Stream))
    return b""


def _white(operator: str, values: list[float]) -> bool:
    if operator == "g":
        return values == [1.0]
    if operator == "rg":
        return values == [1.0, 1.0, 1.0]
    if operator == "k":
        return values == [0.0, 0.0, 0.0, 0.0]
    return False


def _scan(
    page: pikepdf.Page, index: int, pattern: re.Pattern[str], instructions: Sequence[Any]
) -> Iterator[tuple[int, Marker]]:
    """Yield (operator index, marker) for marker text on one page, given its parsed content."""
    resources = page.obj.get("/Resources")
    fonts: Any = resources.get("/Font", {}) if isinstance(resources, pikepdf.Dictionary) else {}
    maps: dict[str, tuple[dict[bytes, str], int]] = {}
    ctm, stack = _IDENTITY, []
    white, white_stack = False, []
    tm = tlm = _IDENTITY
    font_name, size, leading = "", 0.0, 0.0
    for number, instruction in enumerate(instructions):
        operator = str(instruction.operator)
        if operator not in _TRACKED:
            continue
        # Text shown while the fill colour is not white is never a marker (most of a page); ' and "
        # also move to the next line, so they are always followed.
        if not white and operator in ("Tj", "TJ"):
            continue
        operands = list(instruction.operands)
        if operator == "q":
            stack.append(ctm)
            white_stack.append(white)
        elif operator == "Q":
            ctm = stack.pop() if stack else _IDENTITY
            white = white_stack.pop() if white_stack else False
        elif operator == "cm" and len(values := _numbers(operands)) == 6:
            ctm = _multiply((values[0], values[1], values[2], values[3], values[4], values[5]), ctm)
        elif operator in ("g", "rg", "k"):
            white = _white(operator, _numbers(operands))
        elif operator in ("sc", "scn", "cs"):
            white = False
        elif operator == "BT":
            tm = tlm = _IDENTITY
        elif operator == "Tf" and len(operands) == 2:
            font_name, size = str(operands[0]), float(operands[1])
        elif operator == "TL" and operands:
            leading = float(operands[0])
        elif operator in ("Td", "TD") and len(values := _numbers(operands)) == 2:
            if operator == "TD":
                leading = -values[1]
            tlm = tm = _multiply((1.0, 0.0, 0.0, 1.0, values[0], values[1]), tlm)
        elif operator == "Tm" and len(values := _numbers(operands)) == 6:
            tlm = tm = (values[0], values[1], values[2], values[3], values[4], values[5])
        elif operator in ("T*", "'", '"'):
            tlm = tm = _multiply((1.0, 0.0, 0.0, 1.0, 0.0, -leading), tlm)
        if operator in _SHOWN:
            render = _multiply(tm, ctm)
            scale = (render[0] ** 2 + render[1] ** 2) ** 0.5
            if not white or size * scale > MAX_MARKER_SIZE or font_name not in fonts:
                continue
            if font_name not in maps:
                maps[font_name] = _to_unicode_map(fonts[font_name])
            mapping, width = maps[font_name]
            text = _decode(_shown_bytes(operator, operands), mapping, width)
            if pattern.fullmatch(text.strip()):
                yield (
                    number,
                    Marker(text=text.strip(), page=index, x=render[4], y=render[5], size=size * scale),
                )


def strip_markers(pdf: pikepdf.Pdf, pattern: re.Pattern[str]) -> list[Marker]:
    """Find marker text matching ``pattern`` (tiny, white), remove it from the pages, and return it.

    A page whose content stream sets no font size under 4 pt is not parsed. The caller saves ``pdf``.
    """
    found: list[Marker] = []
    for index, page in enumerate(pdf.pages):
        if not _SMALL_FONT.search(_content_bytes(page)):
            continue
        instructions = pikepdf.parse_content_stream(page)
        hits = list(_scan(page, index, pattern, instructions))
        if not hits:
            continue
        drop = {number for number, _ in hits}
        kept = [op for number, op in enumerate(instructions) if number not in drop]
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(kept))
        found.extend(marker for _, marker in hits)
    return found
