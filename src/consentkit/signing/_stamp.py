"""Draw the overlay: signatures at their places and a footer on every page (reportlab).

The overlay is a separate PDF with one page per archive page; :mod:`._archive` draws each of its
pages over the matching archive page as a form XObject, so the reviewed content stays as it was.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs
from PIL import Image, UnidentifiedImageError
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from ..errors import SigningError
from ._anchors import Anchor
from ._fonts import FontSet
from ._model import Method, SignatureRecord

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


def _draw_signature(canvas: Canvas, fonts: FontSet, stamp: Stamp, zone: ZoneInfo) -> None:
    anchor, record = stamp.anchor, stamp.record
    x, y, width = anchor.x, anchor.y, anchor.width
    when = utc_minute(record.signed_at)
    canvas.setFillColorRGB(*INK)
    if record.method is Method.DRAWN:
        reader, pixel_w, pixel_h = _image(record)
        box_h = AREA_HEIGHT - 4
        scale = min(box_h / pixel_h, (width * 0.55) / pixel_w)
        draw_w, draw_h = pixel_w * scale, pixel_h * scale
        canvas.drawImage(reader, x, y + 2, draw_w, draw_h, mask="auto")
        room = width - draw_w - 6
        lines = ["Electronically signed by", record.full_name, when]
        if room >= 80:
            _caption_lines(canvas, fonts, lines, x + draw_w + 6, y + 3, room)
        else:
            _caption_lines(
                canvas, fonts, [f"Electronically signed by {record.full_name}, {when}"], x, y + 2, width
            )
    else:
        font = fonts.for_text(record.full_name, (fonts.script, fonts.italic))
        name = fonts.printable(record.full_name, font)
        size = _fit(name, font, 20, width, 8)
        canvas.setFont(font, size)
        canvas.drawString(x, y + 14, name)
        _caption_lines(
            canvas, fonts, [f"Electronically signed by {record.full_name}, {when}"], x, y + 2, width
        )
    if anchor.date_x is not None:
        canvas.setFont(fonts.sans, 9)
        # The date line shows the date where the practice is, as a hand-written date would.
        canvas.drawString(anchor.date_x + 2, y + 2, record.signed_at.astimezone(zone).strftime("%Y-%m-%d"))


def draw_overlay(
    sizes: Sequence[tuple[float, float]],
    stamps: Sequence[Stamp],
    fonts: FontSet,
    *,
    packet_id: str,
    signed_on: str,
    time_zone: str = "UTC",
) -> bytes:
    """One overlay page per archive page: the stamps that belong to it and the footer.

    Args:
        sizes: (width, height) of every archive page, in order.
        stamps: the signatures, with 1-based page numbers in their anchors.
        fonts: the registered fonts.
        packet_id: printed in the footer.
        signed_on: the signing date printed in the footer (``YYYY-MM-DD``).
        time_zone: the practice's time zone, for the dates written on date lines.

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
    for number, (width, height) in enumerate(sizes, start=1):
        canvas.setPageSize((width, height))
        for stamp in stamps:
            if stamp.anchor.page == number:
                _draw_signature(canvas, fonts, stamp, zone)
        footer = f"Packet {packet_id}  ·  Page {number} of {total}  ·  Electronically signed  ·  {signed_on}"
        font = fonts.for_text(footer)
        footer = fonts.printable(footer, font)
        size = _fit(footer, font, FOOTER_SIZE, width - 72, 5)
        canvas.setFillColorRGB(*FOOTER_GREY)
        canvas.setFont(font, size)
        canvas.drawCentredString(width / 2, FOOTER_Y, footer)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
