"""Draw the overlay: signatures at their places and a footer on every page (reportlab).

The overlay is a separate PDF with one page per archive page; :mod:`._archive` draws each of its
pages over the matching archive page as a form XObject, so the reviewed content stays as it was.

The words (captions, footer) come from the ``[stamp]`` table of the stock template set of the
packet's language and the dates from babel in that language (:mod:`._words`); UTC times stay ISO.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import attrs
from PIL import Image, UnidentifiedImageError
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from ..errors import SigningError
from ..pdf.fonts import FontSet
from ..pdf.tagging import FigureTag
from ._anchors import Anchor
from ._model import Method, SignatureRecord
from ._words import Words, words_for

__all__ = ["Stamp", "draw_overlay", "utc_minute"]

#: The ink of everything consentkit adds: dark blue, so a reader tells it from the printed form.
INK = (0.09, 0.2, 0.48)
FOOTER_GREY = (0.33, 0.33, 0.33)
#: The signature area above the anchor.
AREA_HEIGHT = 46.0
FOOTER_Y = 26.0
FOOTER_SIZE = 7.0


def utc_minute(value: datetime) -> str:
    """``2026-11-27 15:02 UTC``."""
    return value.strftime("%Y-%m-%d %H:%M UTC")


@attrs.frozen
class Stamp:
    """A signature to draw at an anchor."""

    anchor: Anchor
    record: SignatureRecord


def _fit(text: str, font: str, size: float, width: float, minimum: float) -> float:
    """The largest font size up to ``size`` at which ``text`` fits ``width`` (not below ``minimum``)."""
    measured = stringWidth(text, font, size)
    if measured <= width or measured == 0:
        return size
    return max(minimum, size * width / float(measured))


def _caption_lines(
    canvas: Canvas, fonts: FontSet, lines: Sequence[str], x: float, y: float, width: float
) -> None:
    """Small lines of text, the last one's baseline at ``y``."""
    size = 6.5
    for line in lines:
        font = fonts.for_text(line)
        size = min(size, _fit(fonts.printable(line, font), font, 6.5, width, 4.5))
    for offset, line in enumerate(reversed(lines)):
        font = fonts.for_text(line)
        canvas.setFont(font, size)
        canvas.drawString(x, y + offset * (size + 1.5), fonts.printable(line, font))


def _image(record: SignatureRecord) -> tuple[ImageReader, int, int]:
    assert record.image is not None
    try:
        with Image.open(io.BytesIO(record.image)) as probe:
            probe.load()
            width, height = probe.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise SigningError(f"the drawn signature of {record.key} cannot be decoded as a PNG image") from exc
    return ImageReader(io.BytesIO(record.image)), width, height


def _alt(stamp: Stamp, zone: ZoneInfo, words: Words) -> str:
    """What a screen reader reads for a stamp: whose signature, in what role, on what day."""
    record = stamp.record
    return words.stamp(
        "alt",
        name=record.full_name,
        role=words.role(record.role.value),
        date=words.date(record.signed_at.astimezone(zone).date()),
    )


def _draw_signature(
    canvas: Canvas, fonts: FontSet, stamp: Stamp, zone: ZoneInfo, words: Words, page_width: float
) -> None:
    anchor, record = stamp.anchor, stamp.record
    x, y, width = anchor.x, anchor.y, anchor.width
    when = utc_minute(record.signed_at)
    signed_by = words.stamp("signed_by_name", name=record.full_name, when=when)
    canvas.setFillColorRGB(*INK)
    if record.method is Method.DRAWN:
        reader, pixel_w, pixel_h = _image(record)
        box_h = AREA_HEIGHT - 4
        scale = min(box_h / pixel_h, (width * 0.55) / pixel_w)
        draw_w, draw_h = pixel_w * scale, pixel_h * scale
        canvas.drawImage(reader, x, y + 2, draw_w, draw_h, mask="auto")
        room = width - draw_w - 6
        lines = [words.stamp("signed_by"), record.full_name, when]
        if room >= 80:
            _caption_lines(canvas, fonts, lines, x + draw_w + 6, y + 3, room)
        else:
            _caption_lines(canvas, fonts, [signed_by], x, y + 2, width)
    else:
        font = fonts.for_text(record.full_name, (fonts.script, fonts.italic))
        name = fonts.printable(record.full_name, font)
        size = _fit(name, font, 20, width, 8)
        canvas.setFont(font, size)
        canvas.drawString(x, y + 14, name)
        _caption_lines(canvas, fonts, [signed_by], x, y + 2, width)
    if anchor.date_x is not None:
        # The date line shows the date where the practice is, as a hand-written date would, in
        # the document's language (long form, so 11/12 is never read as 12 November).
        day = words.date(record.signed_at.astimezone(zone).date())
        font = fonts.for_text(day)
        day = fonts.printable(day, font)
        room = anchor.date_width - 4 if anchor.date_width else page_width - anchor.date_x - 38
        canvas.setFont(font, _fit(day, font, 9, room, 5.5))
        canvas.drawString(anchor.date_x + 2, y + 2, day)


def _signed_locale(stamps: Sequence[Stamp]) -> str | None:
    """The language of the documents signed: the packet's (reference copies have no places)."""
    counts = Counter(s.anchor.locale for s in stamps if s.anchor.locale)
    return counts.most_common(1)[0][0] if counts else None


def draw_overlay(
    sizes: Sequence[tuple[float, float]],
    stamps: Sequence[Stamp],
    fonts: FontSet,
    *,
    packet_id: str,
    signed_on: str,
    time_zone: str = "UTC",
    locale: str | None = None,
) -> tuple[bytes, list[FigureTag]]:
    """One overlay page per archive page: the stamps that belong to it and the footer; and the
    figures to tag.

    Each stamp is marked content of its own (``/Figure``, an MCID counted per page) whose
    alternative text names the signer, their role and the day; the footer is an ``/Artifact``
    (pagination), which a screen reader skips.

    Args:
        sizes: (width, height) of every archive page, in order.
        stamps: the signatures, with 1-based page numbers in their anchors.
        fonts: the registered fonts.
        packet_id: printed in the footer.
        signed_on: the signing date printed in the footer (``YYYY-MM-DD``; shown in long form).
        time_zone: the practice's time zone, for the dates written on date lines.
        locale: the packet's locale (the manifest's ``locale``) for the footer's words and date.
            Default: the language of the documents signed (their anchors carry it), else en-US.
            Each caption and date line follows the language of its own document.

    Raises:
        SigningError: a drawn signature cannot be decoded.
    """
    buffer = io.BytesIO()
    width, height = sizes[0]
    canvas = Canvas(
        buffer,
        pagesize=(width, height),
        initialFontName=fonts.sans,
        initialFontSize=FOOTER_SIZE,
        invariant=True,
        pageCompression=1,
    )
    total = len(sizes)
    zone = ZoneInfo(time_zone)
    words = words_for(locale or _signed_locale(stamps))
    try:
        signed_day = words.date(date.fromisoformat(signed_on))
    except ValueError:
        signed_day = signed_on
    figures: list[FigureTag] = []
    for number, (width, height) in enumerate(sizes, start=1):
        canvas.setPageSize((width, height))
        mcid = 0
        for stamp in stamps:
            if stamp.anchor.page == number:
                own = words_for(stamp.anchor.locale) if stamp.anchor.locale else words
                canvas.addLiteral(f"/Figure <</MCID {mcid}>> BDC")
                canvas.saveState()
                _draw_signature(canvas, fonts, stamp, zone, own, width)
                canvas.restoreState()
                canvas.addLiteral("EMC")
                figures.append(FigureTag(page=number - 1, mcid=mcid, alt=_alt(stamp, zone, own)))
                mcid += 1
        footer = words.stamp("footer", packet_id=packet_id, page=number, pages=total, date=signed_day)
        font = fonts.for_text(footer)
        footer = fonts.printable(footer, font)
        size = _fit(footer, font, FOOTER_SIZE, width - 72, 5)
        canvas.addLiteral("/Artifact <</Type /Pagination /Subtype /Footer>> BDC")
        canvas.saveState()
        canvas.setFillColorRGB(*FOOTER_GREY)
        canvas.setFont(font, size)
        canvas.drawCentredString(width / 2, FOOTER_Y, footer)
        canvas.restoreState()
        canvas.addLiteral("EMC")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue(), figures
