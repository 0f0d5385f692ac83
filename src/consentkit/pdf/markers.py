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

from ._content import operator_pattern, page_content, readable_as_bytes

__all__ = ["Marker", "strip_markers"]

#: Text at or below this size (in points, after scaling) is a candidate marker.
MAX_MARKER_SIZE = 3.5
# A content stream that sets no font size below 4 pt holds no marker: skip reading it further.
# ``<size> Tf`` with a size of 0 to 3.x, looked for in the reversed stream: a pattern that starts
# with a literal ("fT") lets the regular-expression engine skip ahead, seven times faster than
# ``[\s/][0-3](?:\.\d*)?\s+Tf\b`` forwards.
_SMALL_FONT_REVERSED = re.compile(rb"fT\s+(?:\d*\.)?[0-3][\s/]")


def _sets_small_font(content: bytes) -> bool:
    """Whether ``content`` sets a font size under 4 pt (``Tf`` as a whole word)."""
    reversed_content = content[::-1]
    for match in _SMALL_FONT_REVERSED.finditer(reversed_content):
        before = reversed_content[match.start() - 1 : match.start()]  # the byte after "Tf"
        if not (before.isalnum() or before == b"_"):
            return True
    return False


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


#: ``/ToUnicode`` maps already read in one call of :func:`strip_markers`, by font object.
_MapCache = dict[tuple[int, int], tuple[dict[bytes, str], int]]


def _font_map(font: Any, cache: _MapCache) -> tuple[dict[bytes, str], int]:
    """The font's map, read once per document (pages share their fonts)."""
    key = font.objgen
    if key == (0, 0):  # a direct object: no identity to key it by
        return _to_unicode_map(font)
    if key not in cache:
        cache[key] = _to_unicode_map(font)
    return cache[key]


def _decode(raw: bytes, mapping: dict[bytes, str], width: int) -> str:
    return "".join(mapping.get(raw[i : i + width], "\ufffd") for i in range(0, len(raw), width))


def _shown_bytes(operator: str, operands: list[Any]) -> bytes:
    """The string bytes a text-showing operator shows (``TJ`` numbers are spacing, not text)."""
    if operator == "TJ" and operands and isinstance(operands[0], pikepdf.Array):
        return b"".join(bytes(item) for item in operands[0] if isinstance(item, pikepdf.String))
    if operands and isinstance(operands[-1], pikepdf.String):
        return bytes(operands[-1])
    return b""


def _white(operator: str, values: list[float]) -> bool:
    if operator == "g":
        return values == [1.0]
    if operator == "rg":
        return values == [1.0, 1.0, 1.0]
    if operator == "k":
        return values == [0.0, 0.0, 0.0, 0.0]
    return False


@attrs.define
class _TextState:
    """What places text and says whether it is white: the transformation matrix (saved by ``q``),
    the fill colour, the text and line matrices, the font, its size and the leading. Both
    scanners follow the same operators through it."""

    ctm: Matrix = _IDENTITY
    white: bool = False
    tm: Matrix = _IDENTITY
    tlm: Matrix = _IDENTITY
    font: str = ""
    size: float = 0.0
    leading: float = 0.0
    saved: list[tuple[Matrix, bool]] = attrs.Factory(list)

    def apply(self, operator: str, values: list[float]) -> None:
        """Follow one operator of :data:`_TRACKED` other than ``Tf``, given its numbers."""
        if operator == "q":
            self.saved.append((self.ctm, self.white))
        elif operator == "Q":
            self.ctm, self.white = self.saved.pop() if self.saved else (_IDENTITY, False)
        elif operator == "cm" and len(values) == 6:
            self.ctm = _multiply((values[0], values[1], values[2], values[3], values[4], values[5]), self.ctm)
        elif operator in ("g", "rg", "k"):
            self.white = _white(operator, values)
        elif operator in ("sc", "scn", "cs"):
            self.white = False
        elif operator == "BT":
            self.tm = self.tlm = _IDENTITY
        elif operator == "TL" and values:
            self.leading = values[0]
        elif operator in ("Td", "TD") and len(values) == 2:
            if operator == "TD":
                self.leading = -values[1]
            self.tlm = self.tm = _multiply((1.0, 0.0, 0.0, 1.0, values[0], values[1]), self.tlm)
        elif operator == "Tm" and len(values) == 6:
            self.tlm = self.tm = (values[0], values[1], values[2], values[3], values[4], values[5])
        elif operator in ("T*", "'", '"'):
            self.tlm = self.tm = _multiply((1.0, 0.0, 0.0, 1.0, 0.0, -self.leading), self.tlm)

    def place(self, fonts: Any) -> tuple[Matrix, float] | None:
        """Where text shown now is drawn and at what size, when it can be a marker: white, at
        most :data:`MAX_MARKER_SIZE`, in a font of the page."""
        render = _multiply(self.tm, self.ctm)
        size = self.size * (render[0] ** 2 + render[1] ** 2) ** 0.5
        if not self.white or size > MAX_MARKER_SIZE or self.font not in fonts:
            return None
        return render, size

    def marker(
        self,
        shown: bytes,
        place: tuple[Matrix, float],
        fonts: Any,
        maps: _MapCache,
        pattern: re.Pattern[str],
        page: int,
    ) -> Marker | None:
        """The marker ``shown`` at ``place`` is, if its text matches ``pattern``."""
        mapping, width = _font_map(fonts[self.font], maps)
        text = _decode(shown, mapping, width).strip()
        if not pattern.fullmatch(text):
            return None
        render, size = place
        return Marker(text=text, page=page, x=render[4], y=render[5], size=size)


def _scan(
    fonts: Any, index: int, pattern: re.Pattern[str], instructions: Sequence[Any], maps: _MapCache
) -> Iterator[tuple[int, Marker]]:
    """Yield (operator index, marker) for marker text on one page, given its fonts and parsed
    content."""
    state = _TextState()
    for number, instruction in enumerate(instructions):
        operator = str(instruction.operator)
        if operator not in _TRACKED:
            continue
        # Text shown while the fill colour is not white is never a marker (most of a page); ' and "
        # also move to the next line, so they are always followed.
        if not state.white and operator in ("Tj", "TJ"):
            continue
        operands = list(instruction.operands)
        if operator == "Tf":
            if len(operands) == 2:
                state.font, state.size = str(operands[0]), float(operands[1])
            continue
        state.apply(operator, _numbers(operands))
        if operator in _SHOWN and (place := state.place(fonts)) is not None:
            marker = state.marker(_shown_bytes(operator, operands), place, fonts, maps, pattern, index)
            if marker is not None:
                yield number, marker


#: The operators the byte path follows (the others neither move text nor change its colour).
_BYTE_OPERATORS = operator_pattern(*_TRACKED)
_HEX_STRING = re.compile(rb"<([0-9A-Fa-f]*)>")
#: How many numbers each operator the byte path follows takes.
_ARITY = {b"cm": 6, b"Tm": 6, b"Td": 2, b"TD": 2, b"TL": 1, b"g": 1, b"rg": 3, b"k": 4}


class _Unreadable(Exception):
    """The byte path met what it does not read (the page is parsed instead)."""


def _last_numbers(content: bytes, begin: int, end: int, count: int) -> list[float]:
    """The ``count`` numbers just before ``end`` (after ``begin``, the previous operator followed)."""
    tokens = content[begin:end].split()[-count:]
    if len(tokens) != count:
        raise _Unreadable
    try:
        return [float(token) for token in tokens]
    except ValueError:
        raise _Unreadable from None


def _scan_bytes(
    content: bytes, index: int, pattern: re.Pattern[str], fonts: Any, maps: _MapCache
) -> list[tuple[int, int, Marker]]:
    """:func:`_scan` on a content stream's bytes (a readable one, see
    :func:`._content.readable_as_bytes`) with a newline put before it: the span of each
    marker's text-showing operation, its operands included, and the marker.

    Raises:
        _Unreadable: an operand is not where or what it should be, or text is shown with ``'``
            or ``"`` (the parser reads such a page).
    """
    hits: list[tuple[int, int, Marker]] = []
    state = _TextState()
    previous = 0
    for match in _BYTE_OPERATORS.finditer(content):
        operator, begin, after = match.group(1), match.start(1), previous
        previous = match.end()
        if operator in (b"Tj", b"TJ"):
            if not state.white:
                continue
        elif operator in (b"'", b'"'):
            raise _Unreadable
        elif operator == b"Tf":
            tokens = content[after:begin].split()
            if len(tokens) < 2 or not tokens[-2].startswith(b"/") or b"#" in tokens[-2]:
                raise _Unreadable
            state.font = tokens[-2].decode("ascii", "replace")
            state.size = _last_numbers(content, after, begin, 1)[0]
            continue
        else:
            count = _ARITY.get(operator)
            values = _last_numbers(content, after, begin, count) if count else []
            state.apply(operator.decode(), values)
            continue
        # Text shown in white.
        place = state.place(fonts)
        if place is None:
            continue
        opening = content.rfind(b"[" if operator == b"TJ" else b"<", after, begin)
        if opening < 0:
            raise _Unreadable
        shown = b"".join(_hex(h.decode()) for h in _HEX_STRING.findall(content, opening, begin))
        marker = state.marker(shown, place, fonts, maps, pattern, index)
        if marker is not None:
            hits.append((opening, match.end(), marker))
    return hits


def _strip_parsed(
    pdf: pikepdf.Pdf, page: pikepdf.Page, index: int, pattern: re.Pattern[str], fonts: Any, maps: _MapCache
) -> list[Marker]:
    instructions = pikepdf.parse_content_stream(page)
    hits = list(_scan(fonts, index, pattern, instructions, maps))
    if hits:
        drop = {number for number, _ in hits}
        kept = [op for number, op in enumerate(instructions) if number not in drop]
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(kept))
    return [marker for _, marker in hits]


def strip_markers(pdf: pikepdf.Pdf, pattern: re.Pattern[str]) -> list[Marker]:
    """Find marker text matching ``pattern`` (tiny, white), remove it from the pages, and return it.

    A page whose content stream sets no font size under 4 pt is not read further. LibreOffice's
    pages are read as bytes (:func:`_scan_bytes`); others are parsed with pikepdf. The caller
    saves ``pdf``.
    """
    found: list[Marker] = []
    maps: _MapCache = {}
    for index, page in enumerate(pdf.pages):
        content = page_content(page)
        if not _sets_small_font(content):
            continue
        resources = page.obj.get("/Resources")
        fonts: Any = resources.get("/Font", {}) if isinstance(resources, pikepdf.Dictionary) else {}
        try:
            if not readable_as_bytes(content):
                raise _Unreadable
            spaced = b"\n" + content
            hits = _scan_bytes(spaced, index, pattern, fonts, maps)
        except _Unreadable:
            found.extend(_strip_parsed(pdf, page, index, pattern, fonts, maps))
            continue
        if hits:
            pieces, done = [], 1
            for begin, end, _ in hits:
                pieces.append(spaced[done:begin])
                done = end
            pieces.append(spaced[done:])
            page.obj.Contents = pdf.make_stream(b"".join(pieces))
            found.extend(marker for _, _, marker in hits)
    return found
