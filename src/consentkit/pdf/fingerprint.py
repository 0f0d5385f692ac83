"""Page fingerprints: a hash of everything that decides how a page of the reviewed PDF looks.

Finalize keeps each reviewed page's content streams untouched and adds the signatures and footer
as one more content stream that draws a form XObject, so a page of the archive has the content
``[q, <original streams...>, <overlay>]``. The fingerprint of a page (scheme
``consentkit.page/1``) is the SHA-256 of a canonical serialisation of:

- the page's media box, crop box, rotation and transparency group;
- its resources (fonts, images, forms, colour spaces, recursively, with every stream's *decoded*
  data hashed), without the overlay's own XObject entry;
- the decoded bytes of each original content stream, in order;
- its annotations other than signature fields (pages referred to are replaced by their number).

Stream encodings, object numbers and the order of dictionary keys do not matter, so a page
rewritten by another PDF library keeps its fingerprint, while any change to what it draws does
not. The same function reads the reviewed PDF (``layout="reviewed"``) and the archive
(``layout="archive"``), which is how :func:`~consentkit.signing.verify_packet` checks that the
signed pages still show what the signers reviewed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

import pikepdf

from .overlay import OVERLAY_NAME, original_contents

__all__ = [
    "FINGERPRINT_SCHEME",
    "page_fingerprints",
]

FINGERPRINT_SCHEME = "consentkit.page/1"
_PAGE_KEYS = ("/MediaBox", "/CropBox", "/Rotate", "/Group", "/Resources")
_INHERITABLE = frozenset({"/MediaBox", "/CropBox", "/Rotate", "/Resources"})
_ENCODING_KEYS = frozenset({"/Length", "/Filter", "/DecodeParms", "/DL"})
_LINK_KEYS = frozenset({"/P", "/Parent", "/StructParent", "/StructParents"})


def _inherited(page: pikepdf.Dictionary, key: str) -> object:
    node: object = page
    for _ in range(64):
        if not isinstance(node, pikepdf.Dictionary):
            return None
        if key in node:
            return node[key]
        if key not in _INHERITABLE:
            return None
        node = node.get("/Parent")
    return None


class _Canon:
    """Canonical digests of PDF objects within one file (memoised by object number)."""

    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self._memo: dict[tuple[int, int], bytes] = {}
        self._active: set[tuple[int, int]] = set()
        self._pages = {page.obj.objgen: number for number, page in enumerate(pdf.pages, start=1)}

    def digest(self, obj: object, *, skip: frozenset[str] = frozenset()) -> bytes:
        if isinstance(obj, pikepdf.Object) and obj.is_indirect:
            ref = obj.objgen
            if ref in self._pages:
                return hashlib.sha256(f"page {self._pages[ref]}".encode()).digest()
            if ref in self._memo and not skip:
                return self._memo[ref]
            if ref in self._active:
                return hashlib.sha256(b"cycle").digest()
            self._active.add(ref)
            try:
                value = hashlib.sha256(self._serialise(obj, skip)).digest()
            finally:
                self._active.discard(ref)
            if not skip:
                self._memo[ref] = value
            return value
        return hashlib.sha256(self._serialise(obj, skip)).digest()

    def _dict(self, obj: pikepdf.Dictionary | pikepdf.Stream, skip: Iterable[str]) -> bytes:
        skipped = set(skip)
        parts = [b"<<"]
        for key in sorted(k for k in obj.keys() if k not in skipped):  # noqa: SIM118 (pikepdf API)
            parts.append(key.encode("utf-8", "surrogateescape"))
            parts.append(self.digest(obj[key]))
        parts.append(b">>")
        return b"".join(parts)

    def _serialise(self, obj: object, skip: frozenset[str]) -> bytes:
        if isinstance(obj, pikepdf.Stream):
            try:
                data = obj.read_bytes()
                head = self._dict(obj, _ENCODING_KEYS | skip)
            except pikepdf.PdfError:
                # Filters qpdf does not decode (DCT, JPX, ...) are kept as they are.
                data = obj.read_raw_bytes()
                head = self._dict(obj, frozenset({"/Length"}) | skip)
            return b"S" + head + hashlib.sha256(data).digest()
        if isinstance(obj, pikepdf.Dictionary):
            return b"D" + self._dict(obj, skip)
        if isinstance(obj, pikepdf.Array):
            return b"A[" + b"".join(self.digest(item) for item in obj) + b"]"
        if isinstance(obj, pikepdf.Name):
            return b"N" + str(obj).encode("utf-8", "surrogateescape")
        if isinstance(obj, pikepdf.String):
            return b"T" + bytes(obj).hex().encode()
        if isinstance(obj, bool):
            return b"B1" if obj else b"B0"
        if isinstance(obj, int):
            return b"I" + str(obj).encode()
        if isinstance(obj, Decimal | float):
            return b"R" + format(Decimal(str(obj)).normalize(), "f").encode()
        if obj is None:
            return b"null"
        return b"?" + repr(obj).encode()

    def resources(self, resources: object, layout: str) -> bytes:
        if not isinstance(resources, pikepdf.Dictionary):
            return self.digest(resources)
        parts = [b"<<"]
        for key in sorted(resources.keys()):
            value = resources[key]
            if key == "/XObject" and isinstance(value, pikepdf.Dictionary):
                # The overlay's entry is not part of the reviewed page; an XObject dictionary
                # that is empty without it counts as absent (finalize may have created it).
                names = sorted(k for k in value.keys() if layout == "reviewed" or k != OVERLAY_NAME)  # noqa: SIM118
                if not names:
                    continue
                inner = [b"D<<"]
                for name in names:
                    inner.append(name.encode("utf-8", "surrogateescape"))
                    inner.append(self.digest(value[name]))
                inner.append(b">>")
                parts.append(key.encode())
                parts.append(hashlib.sha256(b"".join(inner)).digest())
                continue
            parts.append(key.encode("utf-8", "surrogateescape"))
            parts.append(self.digest(value))
        parts.append(b">>")
        return b"".join(parts)

    def annotations(self, page: pikepdf.Dictionary) -> bytes:
        annots = page.get("/Annots")
        if not isinstance(annots, pikepdf.Array):
            return b"[]"
        parts = [b"["]
        for annot in annots:
            if not isinstance(annot, pikepdf.Dictionary) or _is_signature_field(annot):
                continue
            parts.append(self.digest(annot, skip=_LINK_KEYS))
        parts.append(b"]")
        return b"".join(parts)


def _is_signature_field(annot: pikepdf.Dictionary) -> bool:
    if annot.get("/FT") == pikepdf.Name.Sig:
        return True
    parent = annot.get("/Parent")
    return isinstance(parent, pikepdf.Dictionary) and parent.get("/FT") == pikepdf.Name.Sig


def page_fingerprints(pdf: pikepdf.Pdf, count: int, *, layout: Literal["reviewed", "archive"]) -> list[str]:
    """Fingerprints of the first ``count`` pages (hex SHA-256, scheme ``consentkit.page/1``).

    Raises:
        LayoutError: ``layout="archive"`` and a page lacks the finalize layout.
        pikepdf.PdfError: the file's objects cannot be read.
    """
    canon = _Canon(pdf)
    prints = []
    for number in range(count):
        page = pdf.pages[number].obj
        digest = hashlib.sha256(FINGERPRINT_SCHEME.encode())
        for key in _PAGE_KEYS:
            value = _inherited(page, key)
            digest.update(key.encode())
            if key == "/Resources":
                digest.update(hashlib.sha256(canon.resources(value, layout)).digest())
            else:
                digest.update(canon.digest(value))
        digest.update(b"/Contents")
        for stream in original_contents(page, layout):
            data = stream.read_bytes() if isinstance(stream, pikepdf.Stream) else b""
            digest.update(hashlib.sha256(data).digest())
        digest.update(b"/Annots")
        digest.update(hashlib.sha256(canon.annotations(page)).digest())
        prints.append(digest.hexdigest())
    return prints
