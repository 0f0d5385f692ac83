"""The byte-level readers of content streams (``consentkit.pdf._content``) against pikepdf's parser.

Marker scanning and artifact marking read LibreOffice's pages as bytes because parsing them into
objects costs several times more. These tests hold the byte paths to the parser's results: on
every page LibreOffice makes of the stock documents, and on hand-written streams that exercise
what LibreOffice rarely writes (transformations, scaled text, other colour operators). Streams
the byte paths cannot read safely go to the parser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pytest

from consentkit.models import Client, Practice
from consentkit.packet import _ANCHOR_OR_END, stage_packet
from consentkit.pdf import markers
from consentkit.pdf._content import page_content, readable_as_bytes
from consentkit.pdf.tagging import _wrap_bytes, _wrap_untagged

from .conftest import DOC_DATE

_IDENTITY_CMAP = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
1 begincodespacerange <00> <FF> endcodespacerange
1 beginbfrange <00> <FF> <0000> endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end"""


def _hex(text: str) -> str:
    return "<" + text.encode().hex() + ">"


def _page(pdf: pikepdf.Pdf, content: bytes) -> pikepdf.Page:
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.Type1,
        BaseFont=pikepdf.Name.Helvetica,
        ToUnicode=pdf.make_stream(_IDENTITY_CMAP),
    )
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.pages[-1]
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pdf.make_indirect(font)))
    page.obj.Contents = pdf.make_stream(content)
    return page


def _operations(page: pikepdf.Page) -> list[tuple[list[str], str]]:
    return [([str(o) for o in op.operands], str(op.operator)) for op in pikepdf.parse_content_stream(page)]


def _both_ways(content: bytes) -> tuple[list[markers.Marker], list[markers.Marker], bool]:
    """The markers and the remaining operations by the byte path and by the parser; and whether
    the byte path read the stream (``strip_markers`` took it)."""
    with pikepdf.new() as fast, pikepdf.new() as parsed:
        fast_page, parsed_page = _page(fast, content), _page(parsed, content)
        found = markers.strip_markers(fast, _ANCHOR_OR_END)
        fonts = parsed_page.obj.Resources.Font
        expected = markers._strip_parsed(parsed, parsed_page, 0, _ANCHOR_OR_END, fonts, {})
        assert _operations(fast_page) == _operations(parsed_page)
        byte_read = readable_as_bytes(content)
        if byte_read:
            try:
                markers._scan_bytes(b"\n" + content, 0, _ANCHOR_OR_END, fonts, {})
            except markers._Unreadable:
                byte_read = False
        return found, expected, byte_read


HAND_WRITTEN = {
    "scaled by cm inside q": (
        "q 0 0 0 rg BT /F1 11 Tf 72 700 Td <41>Tj ET Q\n"
        f"q 0.5 0 0 0.5 100 50 cm 1 g BT /F1 4 Tf 10 20 Td {_hex('ck-sig-client')} Tj ET Q\n"
        f"1 1 1 rg BT /F1 2 Tf 72 600 Td [{_hex('ck-sig-')} -20 {_hex('clinician')}]TJ ET"
    ),
    "text matrix, leading and the next line": (
        f"0 0 0 0 k BT /F1 3 Tf 3 TL 0.5 0 0 0.5 50 400 Tm {_hex('plain')} Tj T* {_hex('ck-end-1')} Tj "
        f"0 -10 TD {_hex('ck-end-2')} Tj ET"
    ),
    "not white, too large, or restored by Q": (
        f"0 g BT /F1 2 Tf 72 500 Td {_hex('ck-sig-client')} Tj ET\n"
        f"1 g BT /F1 9 Tf 72 480 Td {_hex('ck-sig-client')} Tj ET\n"
        f"q 1 g Q BT /F1 2 Tf 72 460 Td {_hex('ck-sig-client')} Tj ET\n"
        f"1 g /Cs1 cs 1 sc BT /F1 2 Tf 72 440 Td {_hex('ck-sig-client')} Tj ET"
    ),
    "marked content stays around a removed marker": (
        f"/Span<</MCID 0>>BDC 1 g BT /F1 2 Tf 72 300 Td {_hex('ck-sig-guardian-1')}Tj ET EMC"
    ),
}


@pytest.mark.parametrize("content", HAND_WRITTEN.values(), ids=HAND_WRITTEN.keys())
def test_the_byte_path_finds_and_removes_what_the_parser_does(content: str) -> None:
    found, expected, byte_read = _both_ways(content.encode())
    assert byte_read
    assert found == expected


def test_hand_written_markers_are_found_where_they_are_drawn() -> None:
    found, _, _ = _both_ways(HAND_WRITTEN["scaled by cm inside q"].encode())
    assert [(m.text, m.x, m.y, m.size) for m in found] == [
        ("ck-sig-client", 105.0, 60.0, 2.0),
        ("ck-sig-clinician", 72.0, 600.0, 2.0),
    ]
    found, _, _ = _both_ways(HAND_WRITTEN["text matrix, leading and the next line"].encode())
    assert [(m.text, m.x, m.y) for m in found] == [("ck-end-1", 50.0, 398.5), ("ck-end-2", 50.0, 393.5)]


@pytest.mark.parametrize(
    "content",
    [
        f"1 g BT /F1 2 Tf 72 300 Td 3 TL {_hex('ck-sig-client')}' ET",  # text shown by '
        f"1 g BT /F1 2 Tf 72 300 Td (x) Tj {_hex('ck-sig-client')}Tj ET",  # a literal string
        "1 g BT /F1 2 Tf 72 300 Td < 636b2d7369672d636c69656e74 >Tj ET",  # spaced hexadecimal
        f"1 g BT /F#31 2 Tf 72 300 Td {_hex('ck-sig-client')}Tj ET",  # an escaped font name
    ],
    ids=["quote operator", "literal string", "spaced hex", "escaped name"],
)
def test_what_the_byte_path_cannot_read_is_parsed(content: str) -> None:
    found, expected, byte_read = _both_ways(content.encode())
    assert not byte_read
    assert found == expected


NESTED = [
    b"72 72 m 100 100 l S /P<</MCID 0>>BDC BT ET EMC 10 10 m 20 20 l S",
    b"/Span<</MCID 0>>BDC /Link<</MCID 1>>BDC 1 1 m 2 2 l S EMC EMC 3 3 m 4 4 l f",
    b"/Span<</MCID 0>>BDC /Link<</MCID 1>>BDC EMC 1 1 m 2 2 l S EMC 3 3 m 4 4 l f",
    b"EMC 1 1 m 2 2 l S EMC EMC",
    b"/Im1 Do /A BMC /Im2 Do EMC q 1 0 0 1 0 0 cm /Im3 Do Q",
    b"BT /F1 1 Tf ET /X BMC EMC 0 0 10 10 re f",
]


@pytest.mark.parametrize("content", NESTED)
def test_nested_and_unbalanced_marked_content_is_marked_as_the_parser_does(content: bytes) -> None:
    wrapped = _wrap_bytes(content)
    assert wrapped is not None
    with pikepdf.new() as pdf:
        expected, _ = _wrap_untagged(list(pikepdf.parse_content_stream(pdf.make_stream(content))))
        got = list(pikepdf.parse_content_stream(pdf.make_stream(wrapped)))
    assert [str(op.operator) for op in got] == [str(op.operator) for op in expected]


_SMALL_FONT_FORWARDS = re.compile(rb"[\s/][0-3](?:\.\d*)?\s+Tf\b")
SIZES = [b"/F1 2 Tf", b"/F1 12 Tf", b"/F1 0.5 Tf", b"/F1 3.99 Tf\n", b"/F1 4 Tf", b"/F1 2 Tfx", b"/F1 .5 Tf"]


@pytest.mark.parametrize("content", SIZES)
def test_small_fonts_are_found_as_a_forward_search_finds_them(content: bytes) -> None:
    assert markers._sets_small_font(content) == bool(_SMALL_FONT_FORWARDS.search(content))


def test_artifact_marking_leaves_operands_it_cannot_find_to_the_parser() -> None:
    # One number before m: not a path's start as the byte path knows it.
    assert _wrap_bytes(b"72 m 10 10 l S") is None
    assert _wrap_bytes(b"q 72 72.5 m -10 .5 l S Q") is not None
    wrapped = _wrap_bytes(b"q 1 0 0 1 0 0 cm 72 72.5 m -10 .5 l S Q /Im1 Do")
    assert wrapped == (
        b"q 1 0 0 1 0 0 cm /Artifact BMC\n72 72.5 m -10 .5 l S\nEMC Q /Artifact BMC\n/Im1 Do\nEMC"
    )


@pytest.fixture(scope="module")
def libreoffice_pages(
    tmp_path_factory: pytest.TempPathFactory,
    practice: Practice,
    example_clients: dict[str, Client],
    converter: object,
) -> list[Path]:
    """The stock documents of an English and a Spanish packet, converted and left unfinished
    (markers and untagged lines still in)."""
    out = tmp_path_factory.mktemp("content-bytes")
    pdfs = []
    for name in ("couple", "spanish"):
        staged = stage_packet(practice, example_clients[name], out / name, on=DOC_DATE)
        try:
            pdfs += converter.convert(staged.docx_paths, out / f"{name}-pdf")  # type: ignore[attr-defined]
        finally:
            staged.discard()
    return pdfs


def test_on_libreoffice_pages_the_byte_paths_agree_with_the_parser(libreoffice_pages: list[Path]) -> None:
    anchors = 0
    for path in libreoffice_pages:
        with pikepdf.open(path) as fast, pikepdf.open(path) as parsed:
            for index, page in enumerate(fast.pages):
                content = page_content(page)
                assert readable_as_bytes(content), path.name
                # Artifact marking: the same operations once wrapped.
                wrapped = _wrap_bytes(content)
                assert wrapped is not None, path.name
                expected, _ = _wrap_untagged(list(pikepdf.parse_content_stream(page)))
                got = list(pikepdf.parse_content_stream(fast.make_stream(wrapped)))
                assert [str(op.operator) for op in got] == [str(op.operator) for op in expected]
                assert markers._sets_small_font(content) == bool(_SMALL_FONT_FORWARDS.search(content))
                # Marker scanning reads every page as bytes (no fallback to the parser).
                markers._scan_bytes(b"\n" + content, index, _ANCHOR_OR_END, page.obj.Resources.Font, {})
            found = markers.strip_markers(fast, _ANCHOR_OR_END)
            expected_markers = [
                marker
                for index, page in enumerate(parsed.pages)
                for marker in markers._strip_parsed(
                    parsed, page, index, _ANCHOR_OR_END, page.obj.Resources.Font, {}
                )
            ]
            assert found == expected_markers, path.name
            for page, other in zip(fast.pages, parsed.pages, strict=True):
                assert _operations(page) == _operations(other), path.name
            anchors += len(found)
    assert anchors >= 10  # the signature places of both packets, found both ways
