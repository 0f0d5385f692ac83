"""Composed conversion (issue 16, part 2): a packet's documents joined into one DOCX and converted
in one LibreOffice load, checked against the separate conversion with independent tools: every
page of every stock document in both languages rendered by poppler's ``pdftoppm`` and compared in
pixels, page numbers read by ``pdftotext``, the archive sealed and verified with pyHanko."""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pikepdf
import pytest
from lxml import etree
from PIL import Image, ImageChops

from consentkit import render_packet
from consentkit.batch import generate_packets
from consentkit.errors import PacketError
from consentkit.models import Client, Practice
from consentkit.packet import _document_ends
from consentkit.pdf.accessibility import accessibility_problems, struct_elements
from consentkit.pdf.archival import check_archival
from consentkit.pdf.markers import Marker
from consentkit.records import DocumentEntry
from consentkit.rendering._compose import END_MARKER, compose_docx
from consentkit.signing import finalize_packet, verify_packet
from consentkit.warm import WarmConverter

from .cli_support import run_cli
from .conftest import DOC_DATE, EXAMPLES, NOW
from .pdf_support import page_texts, pdf_text
from .signing_fixtures import FINALIZED_AT, Pki, example_signatures, pki  # noqa: F401 (fixture)

pytestmark = pytest.mark.libreoffice

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
LANGUAGES = ("en-US", "es-US")
#: pdftoppm's resolution for the comparison, and the share of a page's pixels that may differ by
#: more than a quarter of the grey scale. Anti-aliasing differences measure about 0.1 %; a line
#: moved to another page changes several per cent of the page.
DPI = 40
MOST_DIFFERING = 0.005
FOOTER = {"en-US": re.compile(r"Page (\d+) of (\d+)"), "es-US": re.compile(r"Página (\d+) de (\d+)")}


@pytest.fixture(scope="module")
def warm() -> Iterator[WarmConverter]:
    with WarmConverter(instances=1) as converter:
        yield converter


@pytest.fixture(scope="module")
def both_ways(
    tmp_path_factory: pytest.TempPathFactory,
    practice: Practice,
    example_clients: dict[str, Client],
    warm: WarmConverter,
) -> dict[tuple[str, str], tuple[Path, Path]]:
    """Every example client in both languages, converted document by document and composed."""
    out = tmp_path_factory.mktemp("composed")
    folders = {}
    for name, client in example_clients.items():
        for language in LANGUAGES:
            made = []
            for compose in (False, True):
                result = render_packet(
                    practice,
                    client,
                    out / f"{name}-{language}-{'composed' if compose else 'separate'}",
                    language=language,
                    on=DOC_DATE,
                    now=NOW,
                    packet_id=f"PKT-{client.id}",
                    converter=warm,
                    compose=compose,
                )
                made.append(result.out_dir)
            folders[(name, language)] = (made[0], made[1])
    return folders


def manifest(folder: Path) -> dict[str, object]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def rendered_pages(pdf: Path, tmp: Path) -> list[Image.Image]:
    tmp.mkdir()
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", str(pdf), str(tmp / "p")], check=True)
    return [Image.open(path) for path in sorted(tmp.glob("p-*.pgm"))]


def differing(a: Image.Image, b: Image.Image) -> float:
    """The share of pixels whose grey differs by more than 64 of 255."""
    if a.size != b.size:
        return 1.0
    mask = ImageChops.difference(a, b).point(lambda v: 255 if v > 64 else 0)
    return mask.histogram()[255] / (a.size[0] * a.size[1])


CASES = [(name, language) for name in ("adult", "couple", "minor", "spanish") for language in LANGUAGES]


@pytest.mark.parametrize(("name", "language"), CASES)
def test_a_composed_packet_looks_like_the_separate_conversion_page_by_page(
    both_ways: dict[tuple[str, str], tuple[Path, Path]], name: str, language: str, tmp_path: Path
) -> None:
    separate, composed = both_ways[(name, language)]
    ours, theirs = manifest(composed), manifest(separate)
    ranges = [(d["id"], d["packet_pages"]) for d in ours["documents"]]  # type: ignore[attr-defined]
    assert ranges == [(d["id"], d["packet_pages"]) for d in theirs["documents"]]  # type: ignore[attr-defined]
    a = rendered_pages(separate / "packet.pdf", tmp_path / "separate")
    b = rendered_pages(composed / "packet.pdf", tmp_path / "composed")
    assert len(a) == len(b) == ours["packet"]["pages"]  # type: ignore[index]
    worst = max(differing(x, y) for x, y in zip(a, b, strict=True))
    assert worst < MOST_DIFFERING, f"a page differs in {worst:.2%} of its pixels"


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_composed_document_numbers_its_own_pages(
    both_ways: dict[tuple[str, str], tuple[Path, Path]], language: str
) -> None:
    _, composed = both_ways[("couple", language)]
    texts = page_texts(composed / "packet.pdf")
    for document in manifest(composed)["documents"]:  # type: ignore[attr-defined]
        first, last = document["packet_pages"]
        numbers = [FOOTER[language].findall(texts[page - 1]) for page in range(first, last + 1)]
        expected = [[(str(n), str(last - first + 1))] for n in range(1, last - first + 2)]
        assert numbers == expected, document["id"]


def test_a_composed_packet_keeps_no_marker_and_passes_the_archival_and_accessibility_checks(
    both_ways: dict[tuple[str, str], tuple[Path, Path]],
) -> None:
    _, composed = both_ways[("minor", "en-US")]
    packet = composed / "packet.pdf"
    assert "ck-" not in pdf_text(packet)
    assert check_archival(packet) == []
    with pikepdf.open(packet) as pdf:
        assert accessibility_problems(pdf) == []
        parts = [e for e in struct_elements(pdf) if str(e.get("/S")) == "/Part"]
        assert len(parts) == len(manifest(composed)["documents"])  # type: ignore[arg-type]
    # No PDF per document; the DOCX of each is kept and hashed.
    assert sorted(p.name for p in composed.glob("*.pdf")) == ["packet.pdf"]
    for document in manifest(composed)["documents"]:  # type: ignore[attr-defined]
        assert document["pdf"] is None and (composed / document["docx"]).is_file()
    assert oct(packet.stat().st_mode & 0o777) == "0o600"


def test_a_composed_packet_is_signed_sealed_and_verified(
    both_ways: dict[tuple[str, str], tuple[Path, Path]],
    pki: Pki,  # noqa: F811
    tmp_path: Path,
) -> None:
    _, composed = both_ways[("couple", "en-US")]
    client_id = manifest(composed)["client_id"]
    result = finalize_packet(
        composed,
        example_signatures(str(client_id), composed),
        tmp_path / "archive.pdf",
        seal=pki.seal,
        now=FINALIZED_AT,
    )
    report = verify_packet(result.path, trust=pki.ca_pem)
    assert report.intact and report.sealed and report.trusted, report.problems
    assert check_archival(result.path) == []


def assert_converted_one_by_one(folder: Path, documents: Sequence[DocumentEntry]) -> None:
    for document in documents:
        assert document.pdf is not None and (folder / document.pdf).is_file()


def test_soffice_convert_to_never_composes(
    practice: Practice, example_clients: dict[str, Client], converter: object, tmp_path: Path
) -> None:
    # `soffice --convert-to` lays joined documents out differently (docs/batch.md): a cold
    # converter converts the documents one by one even when asked to compose.
    result = render_packet(
        practice,
        example_clients["adult"],
        tmp_path / "packet",
        on=DOC_DATE,
        converter=converter,
        compose=True,
    )  # type: ignore[arg-type]
    assert_converted_one_by_one(result.out_dir, result.manifest.documents)


def test_documents_that_cannot_be_joined_are_converted_one_by_one(
    practice: Practice, example_clients: dict[str, Client], warm: WarmConverter, tmp_path: Path
) -> None:
    # English reference copies after Spanish documents have other styles (another language).
    result = render_packet(
        practice,
        example_clients["spanish"],
        tmp_path / "packet",
        on=DOC_DATE,
        converter=warm,
        include_english=True,
        compose=True,
    )
    assert_converted_one_by_one(result.out_dir, result.manifest.documents)


def test_a_batch_composes_resumes_and_reports_every_file(
    practice: Practice, warm: WarmConverter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from consentkit.loaders import iter_clients_csv

    rows = list(iter_clients_csv(EXAMPLES / "clients.csv"))
    made = generate_packets(practice, rows, tmp_path, workers=1, on=DOC_DATE, compose=True, converter=warm)
    results = list(made)
    assert [r.status for r in results] == ["ok"] * len(rows)
    for r in results:
        folder = tmp_path / str(r.folder)
        assert sorted(p.name for p in folder.glob("*.pdf")) == ["packet.pdf"]
        assert f"{r.folder}/packet.pdf" in r.hashes and f"{r.folder}/informed_consent.docx" in r.hashes
    again = list(generate_packets(practice, rows, tmp_path, on=DOC_DATE, compose=True, converter=warm))
    assert [r.status for r in again] == ["skipped"] * len(rows)

    # Run again from the command line: nothing is left to make, so LibreOffice never starts.
    def no_start(self: WarmConverter) -> None:
        raise AssertionError("the warm converter started")

    monkeypatch.setattr(WarmConverter, "_spawn", no_start)
    done = run_cli(
        "batch", "--practice", str(EXAMPLES / "practice.toml"), "--clients", str(EXAMPLES / "clients.csv"),
        "--out", str(tmp_path), "--date", DOC_DATE.isoformat(), "--compose", "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


# --- the joined DOCX, without LibreOffice ----------------------------------------------------------


def _docx(footer: str = " NUMPAGES ") -> bytes:
    body = (
        f'<w:document xmlns:w="{W}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        "<w:body><w:p><w:r><w:t>text</w:t></w:r></w:p><w:tbl/>"
        '<w:sectPr><w:footerReference w:type="default" r:id="rIdFooter1"/><w:pgSz w:w="12240" w:h="15840"/>'
        '<w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440"/></w:sectPr>'
        "</w:body></w:document>"
    )
    footer_xml = f'<w:ftr xmlns:w="{W}"><w:p><w:fldSimple w:instr="{footer}"/></w:p></w:ftr>'
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rIdFooter1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/footer" Target="footer1.xml"/></Relationships>'
    )
    types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Override PartName="/word/footer1.xml" ContentType="footer"/></Types>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", types)
        package.writestr("word/document.xml", body)
        package.writestr("word/_rels/document.xml.rels", rels)
        package.writestr("word/footer1.xml", footer_xml)
    return out.getvalue()


def test_the_joined_docx_has_a_lead_page_and_a_section_per_document() -> None:
    joined = zipfile.ZipFile(io.BytesIO(compose_docx([_docx(), _docx(), _docx()])))
    document = etree.fromstring(joined.read("word/document.xml"))
    sections = document.findall(f".//{{{W}}}sectPr")
    assert len(sections) == 4
    # The lead page: no footer, no page numbering of its own.
    assert sections[0].find(f"{{{W}}}footerReference") is None
    assert sections[0].find(f"{{{W}}}pgNumType") is None
    for section in sections[1:]:
        assert section.find(f"{{{W}}}pgNumType").get(f"{{{W}}}start") == "1"
    texts = [t.text for t in document.iter(f"{{{W}}}t")]
    assert [t for t in texts if t.startswith(END_MARKER)] == [f"{END_MARKER}{n}" for n in (1, 2, 3)]
    # Each document counts its own pages: NUMPAGES becomes a reference to its end.
    footers = sorted(n for n in joined.namelist() if "footer" in n and n.endswith(".xml"))
    assert footers == ["word/ck1-footer1.xml", "word/ck2-footer1.xml", "word/ck3-footer1.xml"]
    for n, name in enumerate(footers, start=1):
        assert f"PAGEREF ck_end_{n}" in joined.read(name).decode()
    names = [b.get(f"{{{W}}}name") for b in document.iter(f"{{{W}}}bookmarkStart")]
    assert names == ["ck_end_1", "ck_end_2", "ck_end_3"]


def test_documents_whose_joining_fails_are_converted_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from types import SimpleNamespace

    import consentkit.packet as packet_module

    good = [tmp_path / f"d{n}.docx" for n in (1, 2)]
    for path in good:
        path.write_bytes(_docx())
    staged = SimpleNamespace(docx_paths=good)
    assert packet_module.compose_staged(staged) is not None  # type: ignore[arg-type]

    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    staged = SimpleNamespace(docx_paths=[good[0], broken])
    with caplog.at_level("INFO", logger="consentkit.packet"):
        assert packet_module.compose_staged(staged) is None  # type: ignore[arg-type]

    def fails(documents: object) -> bytes:
        raise ValueError("document 2 has no body section")

    monkeypatch.setattr(packet_module, "compose_docx", fails)
    with caplog.at_level("INFO", logger="consentkit.packet"):
        assert packet_module.compose_staged(SimpleNamespace(docx_paths=good)) is None  # type: ignore[arg-type]
    reasons = [r.getMessage() for r in caplog.records if "one by one" in r.getMessage()]
    assert reasons == [
        "converting the documents one by one: joining failed (BadZipFile)",
        "converting the documents one by one: joining failed (ValueError)",
    ]


def _end(number: int, page: int) -> Marker:
    return Marker(text=f"{END_MARKER}{number}", page=page, x=0.0, y=0.0, size=2.0)


def test_the_ends_of_the_documents_must_all_be_there_once_and_in_order() -> None:
    assert _document_ends([_end(1, 2), _end(2, 4)], 2, 4) == [2, 4]
    with pytest.raises(PacketError, match="missing"):
        _document_ends([_end(1, 2)], 2, 4)
    with pytest.raises(PacketError, match="twice"):
        _document_ends([_end(1, 2), _end(1, 3), _end(2, 4)], 2, 4)
    with pytest.raises(PacketError, match="out of order"):
        _document_ends([_end(1, 4), _end(2, 2)], 2, 4)
    with pytest.raises(PacketError, match="out of order"):
        _document_ends([_end(1, 2), _end(2, 3)], 2, 4)


def test_the_cli_composes_on_request(tmp_path: Path) -> None:
    practice, client = EXAMPLES / "practice.toml", EXAMPLES / "clients" / "adult.toml"
    out = tmp_path / "pkt"
    done = run_cli(
        "render", "--practice", str(practice), "--client", str(client), "--out", str(out), "--compose"
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.glob("*.pdf")) == ["packet.pdf"]
