"""Fonts for overlays and audit pages, always embedded.

reportlab's canvas starts with the standard Helvetica, which is never embedded and breaks PDF/A,
so every canvas is created with ``initialFontName`` set to a registered TrueType font found on the
system. Typed signatures use a calligraphic font when one is installed (URW's Z003, a Type 1
font reportlab embeds whole), otherwise an italic TrueType font.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import attrs
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from ..errors import SigningError

__all__ = ["FontSet", "font_set"]

_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path("/Library/Fonts"))

#: (registered name, candidate file names, fontconfig pattern, family fontconfig must report)
_TRUETYPE: dict[str, tuple[tuple[str, ...], str, str]] = {
    "ConsentKit-Sans": (
        ("LiberationSans-Regular.ttf", "DejaVuSans.ttf"),
        "Liberation Sans:style=Regular",
        "Liberation Sans",
    ),
    "ConsentKit-SansBold": (
        ("LiberationSans-Bold.ttf", "DejaVuSans-Bold.ttf"),
        "Liberation Sans:style=Bold",
        "Liberation Sans",
    ),
    "ConsentKit-Wide": (("DejaVuSans.ttf",), "DejaVu Sans:style=Book", "DejaVu Sans"),
    # Chinese, Japanese and Korean names (a TrueType font: reportlab cannot embed Noto CJK's CFF).
    "ConsentKit-CJK": (("DroidSansFallbackFull.ttf",), "Droid Sans Fallback", "Droid Sans Fallback"),
    "ConsentKit-Italic": (
        ("LiberationSerif-Italic.ttf", "DejaVuSerif-Italic.ttf", "LiberationSans-Italic.ttf"),
        "Liberation Serif:style=Italic",
        "Liberation Serif",
    ),
}
_SCRIPT_NAME = "ConsentKit-Script"
_SCRIPT_FILES = ("Z003-MediumItalic.afm", "Z003-MediumItalic.pfb")


@attrs.frozen
class FontSet:
    """The registered reportlab font names to draw with.

    ``sans`` and ``bold`` are always TrueType (embedded subsets); ``wide`` covers more scripts
    when installed; ``script`` is the typed-signature font (may equal ``italic``).
    """

    sans: str
    bold: str
    italic: str
    script: str
    wide: str | None
    #: Chinese, Japanese and Korean, when installed.
    cjk: str | None = None

    def for_text(self, text: str, preferred: Sequence[str] = ()) -> str:
        """The first of ``preferred``, ``sans``, ``wide``, ``cjk`` that can draw every character
        of ``text``."""
        for name in (*preferred, self.sans, self.wide, self.cjk):
            if name is not None and covers(name, text):
                return name
        return self.sans

    def can_draw(self, text: str) -> bool:
        """Whether one of the fonts draws every character of ``text``."""
        return any(name is not None and covers(name, text) for name in (self.sans, self.wide, self.cjk))

    def printable(self, text: str, font: str) -> str:
        """``text`` with characters ``font`` cannot draw replaced by ``?`` (never a missing glyph)."""
        return "".join(c if covers(font, c) else "?" for c in text)


def covers(font_name: str, text: str) -> bool:
    """Whether a registered font has a glyph for every character of ``text``."""
    font = pdfmetrics.getFont(font_name)
    if isinstance(font, TTFont):
        glyphs = font.face.charToGlyph
        return all(ord(c) in glyphs for c in text if c not in "\n\t")
    try:
        encoded = text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    names = font.face.glyphNames
    vector = font.encoding.vector
    return all(vector[b] in names for b in encoded)


def _find_file(names: Sequence[str]) -> Path | None:
    for name in names:
        for folder in _FONT_DIRS:
            if not folder.is_dir():
                continue
            hit = next(iter(sorted(folder.rglob(name))), None)
            if hit is not None:
                return hit
    return None


def _fc_match(pattern: str, family: str) -> Path | None:
    """A TrueType file fontconfig finds for ``pattern``, only if it is really that family."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        done = subprocess.run(
            [fc_match, "-f", "%{family}\n%{file}", pattern],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.splitlines()
    if done.returncode != 0 or len(lines) < 2 or family not in lines[0].split(","):
        return None
    path = Path(lines[1])
    return path if path.suffix.lower() == ".ttf" and path.is_file() else None


def _register_truetype(name: str) -> bool:
    if name in pdfmetrics.getRegisteredFontNames():
        return True
    files, pattern, family = _TRUETYPE[name]
    for path in (_find_file(files), _fc_match(pattern, family)):
        if path is None:
            continue
        try:
            pdfmetrics.registerFont(TTFont(name, str(path)))
        except (TTFError, OSError):
            continue
        return True
    return False


def _register_script() -> bool:
    if _SCRIPT_NAME in pdfmetrics.getRegisteredFontNames():
        return True
    afm = _find_file(_SCRIPT_FILES[:1])
    pfb = _find_file(_SCRIPT_FILES[1:])
    if afm is None or pfb is None:
        return False
    try:
        face = pdfmetrics.EmbeddedType1Face(str(afm), str(pfb))
        pdfmetrics.registerTypeFace(face)
        pdfmetrics.registerFont(pdfmetrics.Font(_SCRIPT_NAME, face.name, "WinAnsiEncoding"))
    except Exception:  # reportlab raises plain Exceptions for unreadable font files
        return False
    return True


@cache
def font_set() -> FontSet:
    """Find and register the fonts (once per process).

    Raises:
        SigningError: no usable TrueType font is installed.
    """
    if not _register_truetype("ConsentKit-Sans"):
        raise SigningError(
            "no TrueType font for the signature overlay was found: install Liberation Sans "
            "(Debian: fonts-liberation2) or DejaVu Sans (fonts-dejavu-core)"
        )
    bold = "ConsentKit-SansBold" if _register_truetype("ConsentKit-SansBold") else "ConsentKit-Sans"
    italic = "ConsentKit-Italic" if _register_truetype("ConsentKit-Italic") else "ConsentKit-Sans"
    wide = "ConsentKit-Wide" if _register_truetype("ConsentKit-Wide") else None
    cjk = "ConsentKit-CJK" if _register_truetype("ConsentKit-CJK") else None
    script = _SCRIPT_NAME if _register_script() else italic
    return FontSet(sans="ConsentKit-Sans", bold=bold, italic=italic, script=script, wide=wide, cjk=cjk)
