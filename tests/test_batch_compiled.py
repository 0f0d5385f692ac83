"""The compile-once renderer gives the same documents as the plain docxtpl render, and the same
errors: part by part for every stock template and example client, and the same PDF text."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from lxml import etree

from consentkit.errors import TemplateError
from consentkit.models import Client, Practice
from consentkit.packet import stage_packet
from consentkit.rendering import available_locales, render_docx
from consentkit.rendering._compiled import CompiledRenderer

from .conftest import DOC_DATE
from .pdf_support import pdf_text

Call = tuple[bytes, dict[str, Any], str, "set[str] | None"]


def render_calls(practice: Practice, client: Client, folder: Path, locale: str) -> list[Call]:
    """The renders ``stage_packet`` asks for (template, context, name, signer keys), with English
    reference copies after a translated packet."""
    calls: list[Call] = []

    def record(template: bytes, context: Any, *, name: str, signer_keys: set[str] | None = None) -> Any:
        calls.append((template, dict(context), name, signer_keys))
        return render_docx(template, context, name=name, signer_keys=signer_keys)

    staged = stage_packet(
        practice,
        client,
        folder / client.id,
        language=locale,
        on=DOC_DATE,
        packet_id="PKT-1",
        renderer=record,
        include_english=True,
    )
    staged.discard()
    return calls


def parts(docx: bytes) -> dict[str, bytes]:
    """Every member of a DOCX, XML in canonical form (attribute order, namespace spelling)."""
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        members = {}
        for name in archive.namelist():
            data = archive.read(name)
            if name.endswith((".xml", ".rels")):
                data = etree.tostring(etree.fromstring(data), method="c14n")
            members[name] = data
    return members


@pytest.mark.parametrize("locale", available_locales())
@pytest.mark.parametrize("name", ["adult", "couple", "minor", "spanish"])
def test_every_part_equals_the_plain_render(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client], locale: str, name: str
) -> None:
    if name not in example_clients:
        pytest.skip(f"no example client {name}")
    renderer = CompiledRenderer()
    calls = render_calls(practice, example_clients[name], tmp_path, locale)
    assert calls
    for template, context, template_name, signer_keys in calls:
        plain = render_docx(template, context, name=template_name, signer_keys=signer_keys)
        compiled = renderer(template, context, name=template_name, signer_keys=signer_keys)
        assert compiled.signature_places == plain.signature_places
        assert parts(compiled.docx) == parts(plain.docx), template_name
        # Filled again from the cache: still the same, and byte for byte deterministic.
        assert renderer(template, context, name=template_name, signer_keys=signer_keys).docx == compiled.docx
    assert renderer.fallbacks == 0


def small_template(*paragraphs: str) -> bytes:
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.sections[0].footer.paragraphs[0].text = "Footer {{ client.name }}"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_line_breaks_tabs_and_markup_in_values_render_the_same() -> None:
    template = small_template(
        "Name: {{ client.name }}",
        "{% for x in items %}[{{ x }}]{% endfor %}",
        "{%p if client.flag %}",
        "Shown",
        "{%p endif %}",
    )
    context = {"client": {"name": "Ann\tO'Neil & <Co>\nLine two\fpage", "flag": True}, "items": ["a", "b\tc"]}
    renderer = CompiledRenderer()
    compiled = renderer(template, context, name="t.docx")
    assert parts(compiled.docx) == parts(render_docx(template, context, name="t.docx").docx)
    assert renderer.fallbacks == 0


@pytest.mark.parametrize(
    ("paragraph", "context"),
    [
        ("Hello {{ client.favourite_colour }}", {"client": {}}),
        ("{% if client.x %} unclosed", {"client": {"x": 1}}),
        ("{{ ''.__class__.__mro__ }}", {}),
        ("{{ signature_place('guardian', 1) }}", {}),
    ],
)
def test_errors_are_the_plain_renders_errors(paragraph: str, context: dict[str, Any]) -> None:
    template = small_template(paragraph)
    with pytest.raises(TemplateError) as plain:
        render_docx(template, context, name="t.docx", signer_keys={"client"})
    with pytest.raises(TemplateError) as compiled:
        CompiledRenderer()(template, context, name="t.docx", signer_keys={"client"})
    assert (str(compiled.value), compiled.value.tag) == (str(plain.value), plain.value.tag)


@pytest.mark.libreoffice
def test_converted_text_equals_the_plain_renders(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client], converter: Any
) -> None:
    renderer = CompiledRenderer()
    plain_docs, compiled_docs = [], []
    for n, (template, context, name, signer_keys) in enumerate(
        render_calls(practice, example_clients["minor"], tmp_path, "en-US")
    ):
        plain_docs.append(tmp_path / f"plain-{n}.docx")
        plain_docs[-1].write_bytes(render_docx(template, context, name=name, signer_keys=signer_keys).docx)
        compiled_docs.append(tmp_path / f"compiled-{n}.docx")
        compiled_docs[-1].write_bytes(renderer(template, context, name=name, signer_keys=signer_keys).docx)
    pdfs = converter.convert([*plain_docs, *compiled_docs], tmp_path / "pdf")

    half = len(plain_docs)
    for plain, compiled in zip(pdfs[:half], pdfs[half:], strict=True):
        assert pdf_text(compiled) == pdf_text(plain), compiled.name
        assert len(pdf_text(plain)) > 500


def with_footnotes(template: bytes) -> bytes:
    """Add a footnotes part holding a tag, and a second section, to a python-docx document."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    footnotes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes xmlns:w="{w}">'
        '<w:footnote w:id="1"><w:p><w:r><w:t>Note for {{ client.name }}</w:t></w:r></w:p></w:footnote>'
        "</w:footnotes>"
    )
    rel = (
        '<Relationship Id="rIdNotes" Target="footnotes.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"/>'
    )
    override = (
        '<Override PartName="/word/footnotes.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            elif info.filename == "word/document.xml":
                section = b"<w:p><w:pPr><w:sectPr/></w:pPr></w:p>"
                data = data.replace(b"<w:sectPr", section + b"<w:sectPr", 1)
            target.writestr(info, data)
        target.writestr("word/footnotes.xml", footnotes)
    return out.getvalue()


def test_footnotes_and_sections_render_the_same() -> None:
    template = with_footnotes(small_template("Hello {{ client.name }}"))
    context = {"client": {"name": "Ann & Bo"}}
    plain = parts(render_docx(template, context, name="t.docx").docx)
    assert b"Note for Ann &amp; Bo" in plain["word/footnotes.xml"]
    renderer = CompiledRenderer()
    assert parts(renderer(template, context, name="t.docx").docx) == plain
    assert renderer.fallbacks == 0
