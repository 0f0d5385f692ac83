"""Rendering fills DOCX templates safely: sandboxed, autoescaped, strict about variables."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx import Document

from consentkit import InputError, TemplateError
from consentkit.models import Client, Practice
from consentkit.rendering import build_context, check_template, load_template_set, render_docx

from .conftest import DOC_DATE


def make_docx(*paragraphs: str, table_cell: str | None = None) -> bytes:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    if table_cell is not None:
        doc.add_table(rows=1, cols=2).cell(0, 1).text = table_cell
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def document_text(docx: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)


@pytest.fixture
def context(practice: Practice, example_clients: dict[str, Client]) -> dict[str, object]:
    ctx = build_context(
        practice,
        example_clients["adult"],
        templates=load_template_set("en-US"),
        on=DOC_DATE,
        packet_id="PKT-1",
    )
    ctx["doc"] = {"title": "T", "template_id": "t", "packet_id": "PKT-1", "date": "x", "locale": "en-US"}
    return ctx


def test_special_characters_are_escaped_not_interpreted(context: dict[str, object]) -> None:
    template = make_docx("Practice: {{ practice.name }}", "Client: {{ client.legal_name }}")
    context = {**context, "practice": {**context["practice"], "name": "O'Brien & Sons <LLC>"}}  # type: ignore[dict-item]
    rendered = render_docx(template, context, name="t.docx")
    text = document_text(rendered.docx)
    assert "Practice: O'Brien & Sons <LLC>" in text
    assert "Client: Maria Elena O'Brien-Núñez" in text


def test_unknown_variable_names_the_tag(context: dict[str, object]) -> None:
    with pytest.raises(TemplateError) as caught:
        render_docx(make_docx("Hello {{ client.favourite_colour }}"), context, name="t.docx")
    assert caught.value.tag == "favourite_colour"
    with pytest.raises(TemplateError) as caught:
        render_docx(make_docx("Hello {{ patient.name }}"), context, name="t.docx")
    assert caught.value.tag == "patient"


@pytest.mark.parametrize(
    "expression",
    [
        "{{ client.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ signature_place.__globals__ }}",
    ],
)
def test_expressions_reaching_python_internals_are_blocked(
    context: dict[str, object], expression: str
) -> None:
    with pytest.raises(TemplateError) as caught:
        render_docx(make_docx(f"x {expression} y"), context, name="evil.docx")
    assert "evil.docx" in str(caught.value)


def test_syntax_error_is_a_template_error(context: dict[str, object]) -> None:
    with pytest.raises(TemplateError, match="syntax error"):
        render_docx(make_docx("{% if client.is_minor %} unclosed"), context, name="t.docx")


def test_corrupt_docx_is_a_template_error(context: dict[str, object]) -> None:
    with pytest.raises(TemplateError, match="not a DOCX"):
        render_docx(b"PK\x03\x04 this is not really a zip", context, name="broken.docx")
    half = make_docx("hello")[:2000]
    with pytest.raises(TemplateError, match="not a DOCX"):
        render_docx(half, context, name="half.docx")


def test_signature_places_are_recorded_in_order_and_checked(context: dict[str, object]) -> None:
    template = make_docx(
        'Sign: {{r signature_place("client") }}', table_cell='{{r signature_place("clinician") }}'
    )
    rendered = render_docx(template, context, name="t.docx", signer_keys={"client", "clinician"})
    assert rendered.signature_places == ("client", "clinician")
    xml = zipfile.ZipFile(io.BytesIO(rendered.docx)).read("word/document.xml").decode()
    assert "ck-sig-client" in xml and "ck-sig-clinician" in xml and 'w:val="FFFFFF"' in xml
    with pytest.raises(TemplateError, match="no signer"):
        render_docx(
            make_docx('{{r signature_place("guardian", 1) }}'), context, name="t.docx", signer_keys={"client"}
        )
    with pytest.raises(TemplateError, match="unknown signature role"):
        render_docx(make_docx('{{r signature_place("witness") }}'), context, name="t.docx")
    with pytest.raises(TemplateError, match="appears twice"):
        render_docx(
            make_docx('{{r signature_place("client") }}', '{{r signature_place("client") }}'),
            context,
            name="t.docx",
        )


def test_minor_without_guardian_is_refused(practice: Practice, example_clients: dict[str, Client]) -> None:
    import attrs

    minor = attrs.evolve(example_clients["minor"], guardians=())
    with pytest.raises(InputError, match="guardians"):
        build_context(practice, minor, templates=load_template_set("en-US"), on=DOC_DATE, packet_id="x")


def test_context_formats_values_for_the_locale(
    practice: Practice, example_clients: dict[str, Client]
) -> None:
    ctx = build_context(
        practice,
        example_clients["minor"],
        templates=load_template_set("en-US"),
        on=date(2026, 11, 27),
        packet_id="x",
    )
    assert ctx["practice"]["fees"]["late_cancellation"] == "$75.00"
    assert ctx["client"]["date_of_birth"] == "May 20, 2011"
    assert ctx["client"]["age"] == 15 and ctx["client"]["is_minor"] is True
    assert ctx["client"]["emergency_contact"]["phone"] == "(662) 555-0134"
    assert [s["key"] for s in ctx["signers"]] == ["client", "guardian-1", "clinician"]


def test_templates_check_reports_problems(tmp_path: Path) -> None:
    good = tmp_path / "good.docx"
    good.write_bytes(make_docx("Hello {{ client.preferred_name }}", '{{r signature_place("client") }}'))
    report = check_template(good)
    assert report.ok, report.problems
    assert report.signature_places == ("client",)

    unknown = tmp_path / "unknown.docx"
    unknown.write_bytes(
        make_docx("{{ patient.name }} {{ client.shoe_size }}", '{{r signature_place("client") }}')
    )
    problems = check_template(unknown).problems
    assert any("'patient'" in p for p in problems)

    attr = tmp_path / "attr.docx"
    attr.write_bytes(make_docx("{{ client.shoe_size }}", '{{r signature_place("client") }}'))
    assert any("shoe_size" in p for p in check_template(attr).problems)

    unsigned = tmp_path / "unsigned.docx"
    unsigned.write_bytes(make_docx("Hello {{ client.preferred_name }}"))
    assert any("no signature place" in p for p in check_template(unsigned).problems)

    leftover = tmp_path / "leftover.docx"
    leftover.write_bytes(make_docx("{{ '{{' }} raw", '{{r signature_place("client") }}'))
    assert any("left in the output" in p for p in check_template(leftover).problems)

    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(TemplateError, match="not a DOCX"):
        check_template(broken)


def test_a_template_set_edited_on_disk_is_loaded_afresh(tmp_path: Path) -> None:
    # Template sets are cached per process (a batch loads one per client); an edit must show.
    import shutil

    root = shutil.copytree(load_template_set("en-US").root, tmp_path / "custom")
    first = load_template_set(root)
    assert load_template_set(root) is first  # cached
    index = root / "templates.toml"
    text = index.read_text(encoding="utf-8")
    title = first.templates[0].title
    index.write_text(text.replace(title, title + " (revised)", 1), encoding="utf-8")
    again = load_template_set(root)
    assert again.templates[0].title == title + " (revised)"
