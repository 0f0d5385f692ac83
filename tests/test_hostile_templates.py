"""Untrusted templates (issue 15): nothing a template does runs forever, fills memory or ends as
an internal error. Every failure is a TemplateError naming the template, in ``templates check``,
``render`` and ``batch``.
"""

from __future__ import annotations

import io
import shutil
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from docx import Document

from consentkit import TemplateError, render_packet
from consentkit.batch import generate_packets
from consentkit.models import Client, Practice
from consentkit.rendering import build_context, load_template_set, render_docx
from consentkit.rendering._compiled import CompiledRenderer

from .cli_support import CliResult, run_cli
from .conftest import DOC_DATE, EXAMPLES, ROOT

HOSTILE = {
    "nested-loops": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "huge-power": "{{ (9**(9**9)) > 1 }}",
    "huge-string": "{{ 'x'*10**8 }}",
    "huge-range": "{% for a in range(10**9) %}{% endfor %}",
    "doubling": "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}",
    "doubling-plus": "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}"
    "{% endfor %}",
    "square-loop": "{% set ns = namespace(n=3) %}{% for i in range(60) %}{% set ns.n = ns.n * ns.n %}"
    "{% endfor %}",
    "macro-capture": "{% macro m() %}{% for i in range(100000) %}{{ 'y'*100000 }}{% endfor %}{% endmacro %}"
    "{% set s = m() %}",
    "static-capture": "{% set s %}{% for i in range(100000) %}"
    + "static text that repeats " * 40
    + "{% endfor %}{% endset %}",
    "center": "{{ 'x'|center(10**9) }}",
    "ljust": "{{ 'x'.ljust(10**9) }}",
    "expandtabs": r"{% set t = '\t'*1000 %}{{ t.expandtabs(1000000) }}",
    "replace": "{% set s = 'x'*100000 %}{{ s.replace('', s) }}",
    "format-width": "{{ '{:>1000000000}'.format(1) }}",
    "percent-width": "{{ '%1000000000s' % 'x' }}",
    "recursion": "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
    "division": "{{ 1 // 0 }}",
    "translate": "{{ ('x'*1000).translate({120: 'y'*1000}) }}",
    "list-sum": "{{ ([[1]*1000]*1000)|sum(start=[]) }}",
}


def make_docx(text: str) -> bytes:
    doc = Document()
    doc.add_paragraph("Consent")
    doc.add_paragraph(text)
    doc.add_paragraph('{{r signature_place("client") }}')
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.fixture
def context(practice: Practice, example_clients: dict[str, Client]) -> dict[str, object]:
    templates = load_template_set("en-US")
    ctx = build_context(practice, example_clients["adult"], templates=templates, on=DOC_DATE, packet_id="P")
    ctx["doc"] = {
        "title": "T",
        "template_id": "t",
        "packet_id": "P",
        "date": "x",
        "locale": "en-US",
        "reference_only": False,
    }
    return ctx


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("renderer", ["plain", "compiled"])
def test_a_hostile_template_stops_quickly_with_a_template_error(
    context: dict[str, object], name: str, renderer: str
) -> None:
    data = make_docx(HOSTILE[name])
    render = render_docx if renderer == "plain" else CompiledRenderer()
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(TemplateError) as caught:
            render(data, context, name=f"{name}.docx", signer_keys={"client", "clinician"})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 30
    assert peak < 200_000_000
    assert caught.value.template == f"{name}.docx"
    assert str(caught.value).startswith(f"template {name}.docx: ")


def test_a_zip_bomb_part_is_refused_before_it_is_unpacked(context: dict[str, object], tmp_path: Path) -> None:
    data = io.BytesIO(make_docx("hello"))
    with (
        zipfile.ZipFile(data, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/media/bomb.bin", "w", force_zip64=True) as member,
    ):
        chunk = b"\0" * (1 << 20)
        for _ in range(100):  # 100 MB of zeros, about 100 KB compressed
            member.write(chunk)
    bomb = data.getvalue()
    assert len(bomb) < 1_000_000
    for render in (render_docx, CompiledRenderer()):
        tracemalloc.start()
        try:
            with pytest.raises(TemplateError, match="would unpack to more than"):
                render(bomb, context, name="bomb.docx", signer_keys={"client", "clinician"})
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 20_000_000
    (tmp_path / "bomb.docx").write_bytes(bomb)
    done = _consentkit("templates", "check", str(tmp_path / "bomb.docx"))
    assert done.returncode == 1 and "bomb.docx" in done.stderr and "internal error" not in done.stderr


def test_a_huge_xml_comment_is_refused(context: dict[str, object]) -> None:
    source = io.BytesIO(make_docx("hello"))
    out = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            body = old.read(info)
            if info.filename == "word/document.xml":
                body = body.replace(b"<w:body>", b"<!--" + b"x" * (40 << 20) + b"--><w:body>", 1)
            new.writestr(info, body)
    with pytest.raises(TemplateError, match=r"document\.xml would unpack"):
        render_docx(out.getvalue(), context, name="comment.docx")


def _consentkit(*args: str) -> CliResult:
    return run_cli(*args)


@pytest.mark.parametrize("name", ["nested-loops", "huge-power", "huge-string", "huge-range"])
def test_templates_check_reports_the_limit(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.docx"
    path.write_bytes(make_docx(HOSTILE[name]))
    started = time.monotonic()
    done = _consentkit("templates", "check", str(path))
    assert time.monotonic() - started < 60
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{name}.docx: " in done.stdout and "limit" in done.stdout
    assert "internal error" not in done.stderr


def _hostile_set(folder: Path, text: str) -> Path:
    shutil.copytree(ROOT / "templates" / "en-US", folder)
    (folder / "emergency_plan.docx").write_bytes(make_docx(text))
    return folder


def test_render_and_batch_report_the_template(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    folder = _hostile_set(tmp_path / "set", HOSTILE["nested-loops"])
    with pytest.raises(TemplateError) as caught:
        render_packet(
            practice,
            example_clients["adult"],
            tmp_path / "one",
            language=str(folder),
            template_ids=["emergency_plan"],
        )
    assert caught.value.template == "emergency_plan.docx" and caught.value.tag == "limits"
    done = _consentkit(
        "render",
        "--practice",
        str(EXAMPLES / "practice.toml"),
        "--client",
        str(EXAMPLES / "clients" / "adult.toml"),
        "--out",
        str(tmp_path / "two"),
        "--language",
        str(folder),
    )
    assert done.returncode == 1 and "template emergency_plan.docx: stopped at a limit" in done.stderr
    started = time.monotonic()
    (result,) = generate_packets(
        practice,
        [example_clients["adult"]],
        tmp_path / "batch",
        language=str(folder),
        template_ids=["emergency_plan"],
        workers=1,
    )
    assert time.monotonic() - started < 60
    assert result.status == "failed"
    assert "template emergency_plan.docx: stopped at a limit" in result.error
