"""Names no installed font can show (issue 15): refused with the field named, never boxes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import attrs
import pytest

from consentkit import InputError, render_packet
from consentkit.models import Client, Practice
from consentkit.pdf.fonts import font_set

from .conftest import DOC_DATE, ROOT
from .pdf_support import pdf_text

UNCOVERED = "\U0001fae8"  # an emoji no installed font has (DejaVu Sans has the older ones)
CHINESE = "王小明"


class _NoConversion:
    def convert(self, documents: object, outdir: object) -> list[Path]:
        raise AssertionError("a packet with an unprintable name reached LibreOffice")


@pytest.mark.parametrize("field", ["legal_name", "preferred_name"])
def test_a_name_no_font_can_show_is_refused_naming_the_field(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client], field: str
) -> None:
    client = attrs.evolve(example_clients["adult"], **{field: f"Pat {UNCOVERED}"})
    with pytest.raises(InputError) as caught:
        render_packet(practice, client, tmp_path / "out", on=DOC_DATE, converter=_NoConversion())  # type: ignore[arg-type]
    assert caught.value.field == f"client.{field}"
    assert UNCOVERED not in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_setup_installs_cjk_fonts() -> None:
    script = (ROOT / "tools" / "ensure-system-deps.sh").read_text(encoding="utf-8")
    assert "fonts-noto-cjk" in script and "Noto Sans CJK" in script


@pytest.mark.libreoffice
def test_a_chinese_name_is_printed_with_an_embedded_cjk_font(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client], converter: object
) -> None:
    client = attrs.evolve(example_clients["adult"], legal_name=CHINESE)
    result = render_packet(
        practice,
        client,
        tmp_path / "out",
        on=DOC_DATE,
        template_ids=["emergency_plan"],
        converter=converter,  # type: ignore[arg-type]
    )
    pdf = result.out_dir / "emergency_plan.pdf"
    text = pdf_text(pdf)
    assert CHINESE in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line or "Droid" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts


def test_the_signature_stamp_draws_a_typed_chinese_name() -> None:
    fonts = font_set()
    font = fonts.for_text(CHINESE, (fonts.script, fonts.italic))
    assert fonts.printable(CHINESE, font) == CHINESE


def test_a_typed_name_no_stamp_font_can_draw_is_known() -> None:
    assert not font_set().can_draw(f"Pat {UNCOVERED}")
