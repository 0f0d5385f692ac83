"""Golden layout: the first page of every stock document, rendered to a small image, against the
image committed in ``tests/golden/``.

Text checks do not see a layout that broke (a table pushed onto the next page, a heading that lost
its style, a signature line that moved); a picture does. As pyHanko's ``compare_output`` does for
its stamps, each page is rasterised (poppler's ``pdftoppm``, 20 dpi, greyscale) and compared pixel
by pixel with a tolerance that absorbs anti-aliasing, not a moved block.

A change of layout that is wanted (a template edited on purpose) regenerates the images, and the
diff of the PNGs is reviewed with the change::

    make golden    # CONSENTKIT_GOLDEN=regenerate pytest tests/test_golden_layout.py
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from consentkit.records import read_manifest

GOLDEN = Path(__file__).parent / "golden"
RESOLUTION = 20
#: A pixel counts as changed when its grey level differs by more than this (of 255) ...
PIXEL_TOLERANCE = 48
#: ... and a page as changed when more than this share of its pixels changed.
PAGE_TOLERANCE = 0.004
REGENERATE = os.environ.get("CONSENTKIT_GOLDEN") == "regenerate"

#: One packet per stock template set: the adult's (en-US) and the Spanish-speaking client's.
PACKETS = {"en-US": "adult", "es-US": "spanish"}

pytestmark = pytest.mark.libreoffice


def first_page(pdf: Path, out: Path) -> Image.Image:
    """The first page of ``pdf`` as a greyscale image at :data:`RESOLUTION` dpi."""
    prefix = out / pdf.stem
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(RESOLUTION),
            "-f",
            "1",
            "-l",
            "1",
            "-gray",
            "-png",
            "-singlefile",
            str(pdf),
            str(prefix),
        ],
        check=True,
        capture_output=True,
    )
    with Image.open(prefix.with_suffix(".png")) as image:
        return image.convert("L")


def changed_share(actual: Image.Image, expected: Image.Image) -> float:
    """The share of pixels whose grey level differs by more than :data:`PIXEL_TOLERANCE`."""
    if actual.size != expected.size:
        return 1.0
    difference = ImageChops.difference(actual, expected).point(lambda v: 255 if v > PIXEL_TOLERANCE else 0)
    histogram = difference.histogram()
    return histogram[255] / (actual.size[0] * actual.size[1])


def _documents() -> list[tuple[str, str]]:
    return [
        (locale, path.stem)
        for locale in PACKETS
        for path in sorted((Path(__file__).parents[1] / "templates" / locale).glob("*.docx"))
    ]


@pytest.mark.parametrize(("locale", "document"), _documents())
def test_the_first_page_of_each_stock_document_looks_as_committed(
    rendered_examples: dict[str, Path], tmp_path: Path, locale: str, document: str
) -> None:
    folder = rendered_examples[PACKETS[locale]]
    assert read_manifest(folder).locale == locale
    actual = first_page(folder / f"{document}.pdf", tmp_path)
    golden = GOLDEN / locale / f"{document}.png"
    if REGENERATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        actual.save(golden, optimize=True)
    assert golden.is_file(), f"no golden image {golden.name}: run make golden and review it"
    with Image.open(golden) as stored:
        share = changed_share(actual, stored.convert("L"))
    assert share <= PAGE_TOLERANCE, (
        f"{locale}/{document}: {share:.2%} of the first page differs from tests/golden "
        "(a layout change? if wanted, run make golden and review the images)"
    )


def test_a_moved_block_is_caught_and_anti_aliasing_is_not(tmp_path: Path) -> None:
    """The comparison itself can fail: a block moved by a few pixels is a change, a one-level
    shade difference everywhere is not."""
    page = Image.new("L", (170, 220), 255)
    page.paste(0, (20, 30, 150, 40))  # a line of "text"
    shaded = page.point(lambda v: max(0, v - 12))
    moved = Image.new("L", (170, 220), 255)
    moved.paste(0, (20, 36, 150, 46))
    assert changed_share(shaded, page) == 0
    assert changed_share(moved, page) > PAGE_TOLERANCE
    assert changed_share(page.resize((171, 220)), page) == 1.0
