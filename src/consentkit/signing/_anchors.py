"""Find the signature places (``ck-sig-<key>`` anchor text) in the reviewed PDF.

The stock templates put the anchor as tiny white text at the bottom-left of an empty area at
least 48 pt tall, just above the signature rule; the signature is drawn in that area. Positions
are in PDF user space (origin bottom-left of the page's media box, y upwards).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pdfplumber
from pdfminer.pdfparser import PDFSyntaxError

from ..errors import SigningError
from ..pdf.positions import line_beside, line_under, pages_mentioning, search_small_text
from ..records import DocumentEntry

__all__ = ["ANCHOR_PREFIX", "Anchor", "find_anchors"]

ANCHOR_PREFIX = "ck-sig-"
_ANCHOR = re.compile(r"ck-sig-(?:client|clinician|co_client-\d+|guardian-\d+)")
#: The signature area when no rule is found under the anchor.
DEFAULT_WIDTH = 240.0
MAX_WIDTH = 300.0
#: Anchor text is drawn at 2 pt; ordinary text is far larger.
_ANCHOR_MAX_SIZE = 3.5
#: How far below the anchor's bottom the signature rule may be.
_RULE_GAP = 10.0


@attrs.frozen
class Anchor:
    """Where one signature place is.

    Attributes:
        document: the document id.
        key: the signer key.
        page: the 1-based page number in the packet.
        x: left edge of the anchor text.
        y: bottom of the anchor text (the signature area starts here and extends upwards).
        width: the width of the signature area (the rule's length when a rule is found).
        date_x: the left end of a date line on the same rule, if any.
        date_width: that date line's length.
        locale: the language of the document (the manifest's document ``locale``), if known.
    """

    document: str
    key: str
    page: int
    x: float
    y: float
    width: float
    date_x: float | None = None
    date_width: float | None = None
    locale: str | None = None


def find_anchors(pdf: bytes, documents: Sequence[DocumentEntry]) -> list[Anchor]:
    """Locate every signature place the manifest lists, each within its document's pages.

    A packet rendered by this version records where each place is (``signature_anchors``: the
    anchor text itself was removed from the PDF after conversion, see
    :mod:`consentkit.pdf.markers`); only the signature line and date line around it are read here.
    A packet rendered before kept the anchor text, which is searched for.

    Args:
        pdf: the reviewed packet PDF.
        documents: the manifest's document entries (``id``, ``packet_pages``, ``signature_places``,
            and ``signature_anchors`` when recorded).

    Returns:
        One anchor per (document, signature place), in manifest order.

    Raises:
        SigningError: a place is missing from its pages or appears more than once.
    """
    if all(d.signature_anchors is not None for d in documents):
        return _recorded_anchors(pdf, documents)
    anchors: list[Anchor] = []
    # Pages whose quick text extraction shows an anchor are searched first; places not found
    # there are searched for on every page of their document.
    likely = pages_mentioning(pdf, ANCHOR_PREFIX)
    try:
        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            found: dict[int, list[tuple[str, Mapping[str, Any]]]] = {}

            def search(number: int) -> list[tuple[str, Mapping[str, Any]]]:
                if number not in found:
                    found[number] = search_small_text(doc.pages[number - 1], _ANCHOR, _ANCHOR_MAX_SIZE)
                return found[number]

            for document in documents:
                first, last = _pages(document)
                wanted = list(document.signature_places)
                hits: dict[str, list[tuple[int, Mapping[str, Any]]]] = {key: [] for key in wanted}
                pages = list(range(first, last + 1))
                quick = [n for n in pages if likely is not None and n in likely]
                for attempt in (quick, [n for n in pages if n not in quick]):
                    for number in attempt:
                        for text, match in search(number):
                            key = text[len(ANCHOR_PREFIX) :]
                            if key in hits:
                                hits[key].append((number, match))
                    if all(hits.values()) and likely is not None:
                        break
                for key in wanted:
                    if not hits[key]:
                        raise SigningError(
                            f"{document.id}: the signature place for {key} was not found on packet pages "
                            f"{first}-{last}"
                        )
                    if len(hits[key]) > 1:
                        raise SigningError(
                            f"{document.id}: the signature place for {key} appears more than once"
                        )
                    number, match = hits[key][0]
                    anchor = _anchor(document.id, key, number, match, doc.pages[number - 1])
                    anchors.append(attrs.evolve(anchor, locale=document.locale or None))
    except (PDFSyntaxError, IndexError, KeyError, TypeError, ValueError) as exc:
        raise SigningError(f"cannot read the signature places from packet.pdf ({exc})") from exc
    return anchors


def _anchor(document: str, key: str, number: int, match: Mapping[str, Any], page: Any) -> Anchor:
    height = float(page.height)
    x = float(match["x0"])
    bottom = float(match["bottom"])
    edges = page.horizontal_edges
    rule = line_under(edges, x, bottom, gap=_RULE_GAP)
    page_room = float(page.width) - x - 18
    # A table cell's right border (or any vertical line right of the anchor) bounds the area too.
    for edge in page.vertical_edges:
        edge_x = float(edge["x0"])
        if edge_x > x + 20 and float(edge["top"]) - 1 <= bottom <= float(edge["bottom"]) + 1:
            page_room = min(page_room, edge_x - x - 3)
    date_x = date_width = None
    if rule is not None:
        width = min(float(rule["x1"]) - x, MAX_WIDTH, page_room)
        date_line = line_beside(edges, rule)
        if date_line is not None:
            date_x, date_width = date_line
    else:
        width = min(DEFAULT_WIDTH, page_room)
    return Anchor(
        document=document,
        key=key,
        page=number,
        x=x,
        y=height - bottom,
        width=width,
        date_x=date_x,
        date_width=date_width,
    )


def _pages(document: DocumentEntry) -> tuple[int, int]:
    if document.packet_pages is None:
        raise SigningError(f"{document.id}: the manifest records no packet pages")
    return document.packet_pages


def _recorded_anchors(pdf: bytes, documents: Sequence[DocumentEntry]) -> list[Anchor]:
    """The anchors at the positions the manifest records, measured against the lines around them."""
    anchors: list[Anchor] = []
    try:
        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            for document in documents:
                first, last = _pages(document)
                recorded = {a.key: a for a in document.signature_anchors or ()}
                for key in document.signature_places:
                    place = recorded.get(key)
                    if place is None:
                        raise SigningError(
                            f"{document.id}: the manifest records no position for the signature place "
                            f"of {key}"
                        )
                    number = place.page
                    if not first <= number <= last:
                        raise SigningError(
                            f"{document.id}: the signature place for {key} is recorded outside "
                            f"packet pages {first}-{last}"
                        )
                    page = doc.pages[number - 1]
                    match = {"x0": place.x, "bottom": float(page.height) - place.y}
                    anchor = _anchor(document.id, key, number, match, page)
                    anchors.append(attrs.evolve(anchor, locale=document.locale or None))
    except (PDFSyntaxError, IndexError, KeyError, TypeError, ValueError) as exc:
        raise SigningError(f"cannot read the signature places from packet.pdf ({exc})") from exc
    return anchors
