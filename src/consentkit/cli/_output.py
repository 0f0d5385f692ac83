"""What the command line prints of outside text: never a control character.

Client ids, field names from a CSV header and error messages carry outside text. Printed raw, a
newline in a client id fakes a line of the log it is captured in, and an escape sequence reaches
the terminal. Control and format characters are shown as escapes instead.
"""

from __future__ import annotations

import unicodedata

__all__ = ["printable"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def printable(text: object) -> str:
    """``text`` with every control, format or line/paragraph separator character escaped.

    >>> printable("C-1\\n2026-01-01 row 3 C-9: ok")
    'C-1\\\\n2026-01-01 row 3 C-9: ok'
    >>> printable("\\x1b[2J")
    '\\\\x1b[2J'
    >>> printable("Zoë")
    'Zoë'
    """
    out = []
    for char in str(text):
        if char in _NAMED:
            out.append(_NAMED[char])
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            code = ord(char)
            out.append(
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
        else:
            out.append(char)
    return "".join(out)
