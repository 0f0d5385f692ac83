"""The PDF/A consistency checks pass LibreOffice's PDF/A-3b and catch each known way to break it.

Every broken variant is made the way the pipeline was seen to break a file (a plain export, a plain
pypdf merge, a reportlab overlay, a bare pypdf attachment, pypdf's XMP setters), starting from a
real LibreOffice PDF/A-3b, so each test shows one rule failing while the rest still pass.
"""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from docx import Document
from hypothesis import given
from hypothesis import strategies as st
from pikepdf import Array, Dictionary, Name, String
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, NameObject, TextStringObject
from reportlab.pdfgen import canvas

from consentkit.convert import LibreOfficeConverter
from consentkit.errors import ConversionError
from consentkit.pdf import check_archival, pdf_text, pdffonts_all_embedded, xmp_problems

TEXT = "Consent to treatment for Jane Example"


@pytest.fixture(scope="module")
def docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("archival") / "consent.docx"
    document = Document()
    document.add_heading("Consent", level=1)
    document.add_paragraph(TEXT)
    document.save(str(path))
    return path


@pytest.fixture(scope="module")
def pdfa(docx: Path, converter: LibreOfficeConverter) -> Path:
    """LibreOffice's PDF/A-3b of a small document."""
    return converter.convert([docx], docx.parent / "pdfa")[0]


@pytest.fixture(scope="module")
def plain_pdf(docx: Path, converter: LibreOfficeConverter) -> Path:
    """The same document exported with a plain ``--convert-to pdf`` (the session profile is idle)."""
    out = docx.parent / "plain"
    subprocess.run(
        [
            str(converter.soffice),
            f"-env:UserInstallation={converter.profile_dir.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(docx),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out / "consent.pdf"


def helvetica_page() -> bytes:
    """A reportlab page drawn in Helvetica, which reportlab never embeds."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.setFont("Helvetica", 12)
    page.drawString(72, 72, "Reviewed")
    page.save()
    return buffer.getvalue()


# --- LibreOffice's output and the recommended merge pass ----------------------------------------


@pytest.mark.libreoffice
def test_libreoffice_pdfa3b_is_consistent(pdfa: Path) -> None:
    assert check_archival(pdfa) == []
    assert pdffonts_all_embedded(pdfa) == []
    assert TEXT in pdf_text(pdfa)


@pytest.mark.libreoffice
def test_merge_cloned_from_the_first_document_stays_consistent(pdfa: Path, tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=pdfa)
    writer.append(pdfa)
    writer.write(tmp_path / "merged.pdf")
    assert check_archival(tmp_path / "merged.pdf") == []


@pytest.mark.libreoffice
def test_claim_of_another_part_is_reported(pdfa: Path) -> None:
    assert check_archival(pdfa, part=2) == ["the XMP metadata claims PDF/A-3, not PDF/A-2"]
    with pytest.raises(ValueError, match="1, 2 or 3"):
        check_archival(pdfa, part=4)


# --- each known way to break it is caught -----------------------------------------------------


@pytest.mark.libreoffice
def test_plain_export_is_not_pdfa(plain_pdf: Path) -> None:
    problems = check_archival(plain_pdf)
    assert "the catalog has no XMP metadata stream (/Metadata)" in problems
    assert "the catalog has no /OutputIntents" in problems


@pytest.mark.libreoffice
def test_plain_pypdf_merge_loses_id_xmp_and_output_intent(pdfa: Path, tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.append(pdfa)
    writer.append(pdfa)
    writer.write(tmp_path / "merged.pdf")
    assert check_archival(tmp_path / "merged.pdf") == [
        "the trailer has no file identifier (/ID)",
        "the catalog has no XMP metadata stream (/Metadata)",
        "the catalog has no /OutputIntents",
    ]


@pytest.mark.libreoffice
def test_reportlab_overlay_with_helvetica_is_caught_in_page_resources(pdfa: Path, tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=pdfa)
    writer.pages[0].merge_page(PdfReader(io.BytesIO(helvetica_page())).pages[0])
    writer.write(tmp_path / "stamped.pdf")
    assert check_archival(tmp_path / "stamped.pdf") == ["font Helvetica is not embedded (used on page 1)"]
    assert pdffonts_all_embedded(tmp_path / "stamped.pdf") == ["Helvetica"]


@pytest.mark.libreoffice
def test_helvetica_inside_a_form_xobject_is_caught(pdfa: Path, tmp_path: Path) -> None:
    with pikepdf.open(pdfa) as pdf, pikepdf.open(io.BytesIO(helvetica_page())) as overlay:
        pdf.pages[0].add_overlay(overlay.pages[0], None)  # wraps the overlay in a form XObject
        pdf.save(tmp_path / "overlay.pdf")
    assert check_archival(tmp_path / "overlay.pdf") == ["font Helvetica is not embedded (used on page 1)"]


@pytest.mark.libreoffice
def test_helvetica_in_an_annotation_appearance_is_caught(pdfa: Path, tmp_path: Path) -> None:
    with pikepdf.open(pdfa) as pdf, pikepdf.open(io.BytesIO(helvetica_page())) as overlay:
        appearance = pdf.copy_foreign(overlay.pages[0].as_form_xobject())
        annotation = Dictionary(
            Type=Name.Annot, Subtype=Name.FreeText, Rect=[72, 72, 200, 100], F=4, AP=Dictionary(N=appearance)
        )
        pdf.pages[0].obj.Annots = pdf.make_indirect(Array([pdf.make_indirect(annotation)]))
        pdf.save(tmp_path / "annotated.pdf")
    assert check_archival(tmp_path / "annotated.pdf") == ["font Helvetica is not embedded (used on page 1)"]


@pytest.mark.libreoffice
def test_type0_font_needs_an_embedded_descendant(pdfa: Path, tmp_path: Path) -> None:
    def type0(embedded: bool) -> Dictionary:
        descriptor = Dictionary(Type=Name.FontDescriptor, FontName=Name("/Example"))
        if embedded:
            descriptor.FontFile2 = pikepdf.Stream(pdf, b"font program")
        descendant = Dictionary(Type=Name.Font, Subtype=Name.CIDFontType2, FontDescriptor=descriptor)
        return Dictionary(
            Type=Name.Font, Subtype=Name.Type0, BaseFont=Name("/Example"), DescendantFonts=[descendant]
        )

    with pikepdf.open(pdfa) as pdf:
        pdf.pages[0].obj.Resources.Font.FX = pdf.make_indirect(type0(embedded=False))
        pdf.pages[0].obj.Resources.Font.FY = pdf.make_indirect(type0(embedded=True))
        pdf.save(tmp_path / "type0.pdf")
    assert check_archival(tmp_path / "type0.pdf") == ["font Example is not embedded (used on page 1)"]


@pytest.mark.libreoffice
def test_bare_pypdf_attachment_lacks_the_pdfa3_keys(pdfa: Path, tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=pdfa)
    writer.add_attachment("audit.json", b"{}")
    writer.write(tmp_path / "attached.pdf")
    assert check_archival(tmp_path / "attached.pdf") == [
        "attachment 'audit.json' has no /UF",
        "attachment 'audit.json' has no MIME type (/Subtype) on its stream",
        "attachment 'audit.json' has no modification date (/Params /ModDate)",
        "attachment 'audit.json' has no /AFRelationship",
        "attachment 'audit.json' is not listed in the catalog's associated files (/AF)",
    ]


@pytest.mark.libreoffice
def test_complete_attachment_passes_for_pdfa3_only(pdfa: Path, tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=pdfa)
    attachment = writer.add_attachment("audit.json", b"{}")
    attachment.subtype = NameObject("/application#2Fjson")
    attachment.modification_date = datetime(2026, 11, 27, tzinfo=UTC)
    attachment.associated_file_relationship = NameObject("/Data")
    attachment.pdf_object[NameObject("/UF")] = TextStringObject("audit.json")
    writer.root_object[NameObject("/AF")] = ArrayObject([attachment.pdf_object.indirect_reference])
    writer.write(tmp_path / "attached.pdf")
    assert check_archival(tmp_path / "attached.pdf") == []
    assert (
        "attachment 'audit.json' is not a PDF, and PDF/A-2 allows only PDF/A attachments"
        in check_archival(tmp_path / "attached.pdf", part=2)
    )
    assert "PDF/A-1 allows no embedded files" in check_archival(tmp_path / "attached.pdf", part=1)


@pytest.mark.libreoffice
def test_pypdf_xmp_setters_break_the_xmp(pdfa: Path, tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=pdfa)
    xmp = writer.xmp_metadata
    assert xmp is not None
    xmp.dc_title = {"x-default": "Consent packet"}
    writer.xmp_metadata = xmp
    writer.write(tmp_path / "xmp.pdf")
    (problem,) = check_archival(tmp_path / "xmp.pdf")
    assert problem.startswith("the XMP metadata does not parse as XML")


@pytest.mark.libreoffice
def test_output_intent_without_icc_profile_is_caught(pdfa: Path, tmp_path: Path) -> None:
    with pikepdf.open(pdfa) as pdf:
        del pdf.Root.OutputIntents[0].DestOutputProfile
        pdf.save(tmp_path / "intent.pdf")
    assert check_archival(tmp_path / "intent.pdf") == [
        "no GTS_PDFA1 OutputIntent with an ICC profile (/DestOutputProfile)"
    ]


@pytest.mark.libreoffice
def test_javascript_and_additional_actions_are_caught(pdfa: Path, tmp_path: Path) -> None:
    with pikepdf.open(pdfa) as pdf:
        pdf.Root.OpenAction = Dictionary(S=Name.JavaScript, JS=String("app.alert(1)"))
        pdf.save(tmp_path / "open.pdf")
    assert check_archival(tmp_path / "open.pdf") == [
        "an object contains JavaScript (/JS)",
        "the document has a forbidden JavaScript action",
    ]
    with pikepdf.open(pdfa) as pdf:
        script = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String("1")))
        pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([String("init"), script])))
        pdf.pages[0].obj.AA = Dictionary(O=Dictionary(S=Name.Launch, F=String("calc.exe")))
        pdf.save(tmp_path / "names.pdf")
    problems = check_archival(tmp_path / "names.pdf")
    assert "the document has document-level JavaScript (/Names /JavaScript)" in problems
    assert any("has additional actions (/AA)" in p for p in problems)
    assert any("contains JavaScript (/JS)" in p for p in problems)


@pytest.mark.libreoffice
def test_annotation_flags_and_appearances_are_checked(pdfa: Path, tmp_path: Path) -> None:
    with pikepdf.open(pdfa) as pdf:
        appearance = pikepdf.Stream(pdf, b"")
        appearance.Type, appearance.Subtype, appearance.BBox = Name.XObject, Name.Form, [0, 0, 10, 10]
        annotations = [
            Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[0, 0, 10, 10]),  # no Print flag
            Dictionary(Type=Name.Annot, Subtype=Name.Text, Rect=[0, 0, 10, 10], F=4 | 2),  # Hidden, no AP
            Dictionary(
                Type=Name.Annot,
                Subtype=Name.Square,
                Rect=[0, 0, 10, 10],
                F=4,
                AP=Dictionary(N=appearance, D=appearance),
            ),
            # Exempt: a Popup, and a zero-size annotation (Print + Locked, like an invisible seal).
            Dictionary(Type=Name.Annot, Subtype=Name.Popup, Rect=[0, 0, 10, 10]),
            Dictionary(Type=Name.Annot, Subtype=Name.Stamp, Rect=[5, 5, 5, 5], F=132),
        ]
        pdf.pages[0].obj.Annots = Array([pdf.make_indirect(a) for a in annotations])
        pdf.save(tmp_path / "annotations.pdf")
    assert check_archival(tmp_path / "annotations.pdf") == [
        "page 1: a Link annotation lacks the Print flag",
        "page 1: a Text annotation is flagged Hidden",
        "page 1: a Text annotation has no appearance stream (/AP)",
        "page 1: a Square annotation has appearance entries other than /N",
    ]


@pytest.mark.libreoffice
def test_encryption_is_caught(pdfa: Path, tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=pdfa)
    writer.encrypt(user_password="", owner_password="owner")
    writer.write(tmp_path / "encrypted.pdf")
    assert "the file is encrypted" in check_archival(tmp_path / "encrypted.pdf")
    writer = PdfWriter(clone_from=pdfa)
    writer.encrypt(user_password="user", owner_password="owner")
    writer.write(tmp_path / "locked.pdf")
    assert "the file is encrypted with a user password" in check_archival(tmp_path / "locked.pdf")


@pytest.mark.libreoffice
def test_the_archival_check_needs_no_program(
    pdfa: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # qpdf's structure check runs in-process through pikepdf: with no program on PATH a good
    # file is still good (verify used to report "NOT INTACT ... qpdf not found").
    monkeypatch.setenv("PATH", str(tmp_path))
    assert check_archival(pdfa) == []
    assert check_archival(pdfa.read_bytes()) == []
    with pytest.raises(ConversionError, match="poppler-utils"):
        pdffonts_all_embedded(pdfa)


def test_damaged_file_is_reported(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\nnot really\n")
    problems = check_archival(junk)
    reason = "unable to find trailer dictionary while recovering damaged file"
    assert problems == [f"not a readable PDF (junk.pdf: {reason})"]
    assert check_archival(junk.read_bytes()) == [f"not a readable PDF (input.pdf: {reason})"]
    with pytest.raises(ConversionError, match="pdftotext failed"):
        pdf_text(junk)


# --- the XMP identification -------------------------------------------------------------------

XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  {body}
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
PDFAID = 'xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"'
PDF = 'xmlns:pdf="http://ns.adobe.com/pdf/1.3/"'


def xmp(body: str) -> bytes:
    return XMP.format(body=body).encode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f'<rdf:Description rdf:about="" {PDFAID} pdfaid:part="3" pdfaid:conformance="B"/>', []),
        (
            f'<rdf:Description rdf:about="" {PDFAID}><pdfaid:part>3</pdfaid:part>'
            "<pdfaid:conformance>B</pdfaid:conformance></rdf:Description>",
            [],
        ),
        (
            f'<rdf:Description {PDFAID} pdfaid:part="2" pdfaid:conformance="A"/>',
            [
                "the XMP metadata claims PDF/A-2, not PDF/A-3",
                "the XMP metadata claims conformance 'A', not 'B'",
            ],
        ),
        (
            f'<rdf:Description {PDFAID} pdfaid:part="3" pdfaid:conformance="B"/>'
            f'<rdf:Description {PDFAID} pdfaid:part="3"/>',
            ["the XMP property pdfaid:part appears 2 times"],
        ),
        (
            f'<rdf:Description {PDFAID} {PDF} pdfaid:part="3" pdfaid:conformance="B" pdf:Producer="a">'
            "<pdf:Producer>b</pdf:Producer></rdf:Description>",
            ["the XMP property pdf:Producer appears 2 times"],
        ),
        (
            f'<rdf:Description {PDF} pdf:Producer="LibreOffice"/>',
            [
                "the XMP metadata has no PDF/A identification (pdfaid:part)",
                "the XMP metadata has no pdfaid:conformance",
            ],
        ),
        ("", ["the XMP metadata has no rdf:Description"]),
    ],
)
def test_xmp_identification(body: str, expected: list[str]) -> None:
    assert xmp_problems(xmp(body), part=3) == expected


def test_xmp_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    packet = (
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "{secret.as_uri()}">]>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"<rdf:Description {PDFAID}><pdfaid:part>&e;</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()
    assert not any("TOP-SECRET" in p for p in xmp_problems(packet, part=3))


@given(st.binary(max_size=400) | st.text(max_size=200).map(lambda body: xmp(body)))
def test_xmp_problems_never_raises(data: bytes) -> None:
    problems = xmp_problems(data, part=3)
    assert all(isinstance(p, str) for p in problems)


@pytest.mark.libreoffice
def test_malformed_objects_are_reported_not_raised(pdfa: Path, tmp_path: Path) -> None:
    with pikepdf.open(pdfa) as pdf:
        annotation = Dictionary(Type=Name.Annot, Subtype=Name.Square, Rect=[0, 0], F=Name.Print)
        pdf.pages[0].obj.Annots = Array([pdf.make_indirect(annotation)])
        pdf.save(tmp_path / "malformed.pdf")
    (problem,) = check_archival(tmp_path / "malformed.pdf")
    assert problem.startswith("the PDF's objects cannot be checked")
