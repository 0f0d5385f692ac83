"""Build the stock DOCX templates from their text sources.

The legal text of the stock templates lives in plain-text sources, ``templates/src/<locale>/<id>.txt``,
so that every change to it is reviewable in a git diff. This tool turns each source into
``templates/<locale>/<id>.docx``, a small DOCX written from raw OOXML (a handful of styles, no theme,
no python-docx default template), ready for docxtpl.

The output is deterministic: zip members are stored uncompressed, in a fixed order, with fixed
timestamps, and the core properties carry fixed dates, so a rebuild gives identical bytes on any
machine.

Usage::

    python tools/build_templates.py            # build every locale
    python tools/build_templates.py --check    # exit 1 if a committed DOCX differs from a fresh build
    python tools/build_templates.py --locale en-US

The markup of the sources is described in ``docs/writing-templates.md``. In short::

    @title Informed Consent for Counseling Services
    @small Packet {{ doc.packet_id }} · {{ doc.date }}
    # Heading 1
    ## Heading 2
    A paragraph; lines that follow join it until a blank line. **Bold** inline.
    - A bullet item
    @large A large paragraph
    | Label | {{ value }} |            (table rows; a |---|---| row sets widths / marks a header)
    {%tr if x %}                       (docxtpl row tag, inside a table)
    {%p if client.is_minor %}          (docxtpl paragraph tag, alone on its line)
    @signature guardian {{ loop.index }}
      name: {{ g.name }}
      label: Parent or guardian
    @covers checklist_id other_id      (not emitted; feeds the coverage check)
    @note a remark for reviewers       (not emitted)

Besides building, the tool checks each source: Jinja syntax, the docxtpl tag pitfalls, top-level
variable names, signature roles against ``signers`` in ``templates.toml``, and ``@covers`` against
``covers`` there and against ``templates/checklist.toml``. Any problem is printed as
``file:line: message`` and the tool exits with status 2 without writing anything.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import jinja2
import jinja2.meta
import jinja2.sandbox

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
SOURCES = TEMPLATES / "src"
CHECKLIST = TEMPLATES / "checklist.toml"

# Top-level names a template may use: the table "Top-level names" in docs/template-variables.md.
CONTRACT_NAMES = frozenset({"practice", "clinician", "client", "rules", "doc", "signature_place", "signers"})
# Signature roles and whether the role is numbered (docs/template-variables.md, "Signature places").
ROLES = {"client": False, "co_client": True, "guardian": True, "clinician": False}

FIXED_ZIP_TIME = (2025, 1, 1, 0, 0, 0)
FIXED_W3CDTF = "2025-01-01T00:00:00Z"
FONT = "Liberation Sans"

# Geometry, in twentieths of a point (twips). US Letter, 1-inch margins. The body ends 1 in above the
# page edge and the footer line sits between 0.8 in and 1 in, so the bottom 0.75 in stays empty for
# the stamp the signing step adds.
PAGE_W, PAGE_H = 12240, 15840
MARGIN, MARGIN_BOTTOM, FOOTER_FROM_EDGE = 1440, 1440, 1152
TEXT_W = PAGE_W - 2 * MARGIN
# Signature block: left cell holds the signing area and line, right cell the date line.
SIG_LEFT_W, SIG_RIGHT_W = 6120, TEXT_W - 6120
SIG_GAP = 720  # right indent of the lines, leaving a gap between the two columns
SIG_AREA_H = 1000  # empty area above the anchor line: 50 pt (at least 48 pt)

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

JINJA_TOKEN = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
P_TAG = re.compile(r"^\{%p\s(.*)%\}$")
TR_TAG = re.compile(r"^\{%tr\s(.*)%\}$")
SIGNATURE = re.compile(r"^@signature\s+(\w+)(?:\s+(\d+|\{\{\s*(.+?)\s*\}\}))?\s*$")
SIG_FIELD = re.compile(r"^\s+(name|label):\s*(.*?)\s*$")
SEPARATOR_CELL = re.compile(r"^:?-{3,}:?$")
DIRECTIVES = ("title", "small", "large", "covers", "note", "signature")


class SourceError(Exception):
    """A problem in a source file, reported as ``file:line: message``."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{_rel(path)}:{line}: {message}")


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------------
# Parsing the markup into blocks


@dataclass
class Para:
    style: str  # Normal, Title, Heading1, Heading2, ListBullet, Small, Large
    text: str
    line: int
    keep_next: bool = False


@dataclass
class Tag:
    """A docxtpl ``{%p ... %}`` paragraph tag."""

    text: str
    line: int


@dataclass
class Table:
    rows: list[list[str] | str]  # cells, or a ``{%tr ... %}`` tag
    widths: list[int]
    header: bool
    line: int


@dataclass
class Signature:
    role: str
    n: str | None  # a Python literal or a Jinja expression, None for un-numbered roles
    name: str
    label: str
    line: int


Block = Para | Tag | Table | Signature


@dataclass
class Source:
    path: Path
    title: str | None = None
    blocks: list[Block] = field(default_factory=list)
    covers: dict[str, int] = field(default_factory=dict)  # id -> first line
    # The source as Jinja sees it after docxtpl's tag patching, line for line, for syntax checks.
    jinja_lines: list[str] = field(default_factory=list)


def _is_block_start(line: str) -> bool:
    """Whether a line starts a new block instead of continuing the paragraph above it."""
    return not line.strip() or line.startswith(("#", "- ", "@", "|", "{%p", "{%tr"))


def parse_source(path: Path) -> Source:
    """Parse one source file into blocks.

    Raises:
        SourceError: on any markup error.
    """
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    src = Source(path=path, jinja_lines=list(lines))
    i = 0

    def err(lineno: int, message: str) -> SourceError:
        return SourceError(path, lineno, message)

    while i < len(lines):
        raw = lines[i]
        line = raw.rstrip()
        lineno = i + 1
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        if raw[0].isspace():
            raise err(lineno, "unexpected indented line (only @signature fields are indented)")

        if line.startswith("{%p"):
            m = P_TAG.match(line)
            if not m:
                raise err(lineno, "a {%p ... %} tag must be alone on its line, as '{%p <statement> %}'")
            if "%" in m.group(1) or "}" in m.group(1):
                raise err(lineno, "docxtpl cannot read '%' or '}' inside a {%p ... %} tag (docxtpl#644)")
            src.blocks.append(Tag(line, lineno))
            src.jinja_lines[i] = "{%" + line[3:]
            i += 1
            continue

        if line.startswith("{%tr"):
            raise err(lineno, "a {%tr ... %} tag belongs inside a table (between | rows)")

        if line.startswith("|"):
            i = _parse_table(lines, i, src)
            continue

        if line.startswith("@"):
            name = line[1:].split(None, 1)[0]
            arg = line[1 + len(name) :].strip()
            if name not in DIRECTIVES:
                raise err(
                    lineno, f"unknown directive @{name} (known: {', '.join('@' + d for d in DIRECTIVES)})"
                )
            src.jinja_lines[i] = ""
            if name == "note":
                pass
            elif name == "covers":
                if not arg:
                    raise err(lineno, "@covers needs at least one checklist id")
                for cid in arg.split():
                    src.covers.setdefault(cid, lineno)
            elif name == "title":
                if src.title is not None:
                    raise err(lineno, "only one @title per source")
                if src.blocks:
                    raise err(lineno, "@title comes first")
                src.title = arg
                src.blocks.append(Para("Title", arg, lineno))
                src.jinja_lines[i] = arg
            elif name in ("small", "large"):
                src.blocks.append(Para(name.capitalize(), arg, lineno))
                src.jinja_lines[i] = arg
            elif name == "signature":
                sig, i = _parse_signature(lines, i, path)
                src.blocks.append(sig)
                _keep_with_signature(src.blocks)
                n = f", {sig.n}" if sig.n else ""
                src.jinja_lines[lineno - 1] = f'{{{{ signature_place("{sig.role}"{n}) }}}}'
                continue
            if not arg and name != "note":
                raise err(lineno, f"@{name} needs text")
            i += 1
            continue

        if line.startswith("#"):
            level, _, text = line.partition(" ")
            if level not in ("#", "##") or not text.strip():
                raise err(lineno, "headings are '# Heading 1' or '## Heading 2'")
            src.blocks.append(Para("Heading1" if level == "#" else "Heading2", text.strip(), lineno))
            i += 1
            continue

        # A paragraph or a bullet item, continued by the following plain lines.
        style = "ListBullet" if line.startswith("- ") else "Normal"
        parts = [line[2:].strip() if style == "ListBullet" else stripped]
        i += 1
        while i < len(lines) and not _is_block_start(lines[i]):
            parts.append(lines[i].strip())
            i += 1
        src.blocks.append(Para(style, " ".join(parts), lineno))

    if src.title is None:
        raise err(1, "a source starts with '@title <the template title>'")
    for block in src.blocks:
        texts = [block.text] if isinstance(block, Para) else []
        if isinstance(block, Table):
            texts = [c for r in block.rows if isinstance(r, list) for c in r]
        if isinstance(block, Signature):
            texts = [block.name, block.label]
        for text in texts:
            _runs(text, path, block.line)  # raises on unbalanced ** markers
    return src


def _parse_table(lines: list[str], i: int, src: Source) -> int:
    """Parse the table starting at ``lines[i]``; return the index of the first line after it."""
    start = i
    rows: list[list[str] | str] = []
    widths: list[int] | None = None
    header = False
    while i < len(lines) and lines[i].startswith(("|", "{%tr")):
        line = lines[i].rstrip()
        if line.startswith("{%tr"):
            m = TR_TAG.match(line)
            if not m or "%" in m.group(1) or "}" in m.group(1):
                raise SourceError(
                    src.path, i + 1, "a {%tr ... %} tag must be alone on its line, without '%' or '}'"
                )
            rows.append(line)
            src.jinja_lines[i] = "{%" + line[4:]
            i += 1
            continue
        cells = _split_cells(line, src.path, i + 1)
        if all(SEPARATOR_CELL.match(c) for c in cells):
            if widths is not None or len(rows) > 1 or (rows and isinstance(rows[0], str)):
                raise SourceError(
                    src.path, i + 1, "a |---| row comes first (widths) or second (after a header row)"
                )
            widths = [len(c.strip(":")) for c in cells]
            header = bool(rows)
        else:
            rows.append(cells)
        i += 1
    cell_rows = [r for r in rows if isinstance(r, list)]
    if not cell_rows or any(len(r) != len(cell_rows[0]) for r in cell_rows):
        raise SourceError(src.path, start + 1, "every row of a table needs the same number of cells")
    widths = widths or [1] * len(cell_rows[0])
    if len(widths) != len(cell_rows[0]):
        raise SourceError(src.path, start + 1, "the |---| row needs one cell per column")
    twips = [TEXT_W * w // sum(widths) for w in widths]
    twips[-1] += TEXT_W - sum(twips)
    src.blocks.append(Table(rows, twips, header, start + 1))
    return i


_CELL_TOKEN = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\||[^|{]+|\{")


def _split_cells(line: str, path: Path, lineno: int) -> list[str]:
    """Split ``| a | b |`` into cells, ignoring ``|`` inside Jinja tags (filters)."""
    if len(line) < 2 or not line.endswith("|"):
        raise SourceError(path, lineno, "a table row starts and ends with '|'")
    cells, current = [], ""
    for token in _CELL_TOKEN.findall(line[1:-1]):
        if token == "|":
            cells.append(current.strip())
            current = ""
        else:
            current += token
    return [*cells, current.strip()]


def _parse_signature(lines: list[str], i: int, path: Path) -> tuple[Signature, int]:
    lineno = i + 1
    m = SIGNATURE.match(lines[i].rstrip())
    if not m:
        raise SourceError(path, lineno, "write '@signature <role>' or '@signature <role> <n or {{ expr }}>'")
    role, n_raw, n_expr = m.groups()
    if role not in ROLES:
        raise SourceError(path, lineno, f"unknown signature role {role!r} (known: {', '.join(ROLES)})")
    if ROLES[role] and n_raw is None:
        raise SourceError(
            path, lineno, f"the role {role!r} is numbered: '@signature {role} 1' or '{{{{ loop.index }}}}'"
        )
    if not ROLES[role] and n_raw is not None:
        raise SourceError(path, lineno, f"the role {role!r} takes no number")
    n = n_expr if n_expr is not None else n_raw
    fields: dict[str, str] = {}
    i += 1
    while i < len(lines) and lines[i][:1].isspace() and lines[i].strip():
        fm = SIG_FIELD.match(lines[i])
        if not fm:
            raise SourceError(path, i + 1, "a signature field is '  name: ...' or '  label: ...'")
        fields[fm.group(1)] = fm.group(2)
        i += 1
    missing = {"name", "label"} - fields.keys()
    if missing:
        raise SourceError(path, lineno, f"@signature needs indented field(s): {', '.join(sorted(missing))}")
    return Signature(role, n, fields["name"], fields["label"], lineno), i


def _keep_with_signature(blocks: list[Block]) -> None:
    """Keep the statement just before a signature block on the same page as the block.

    The statement is the paragraph before the block (``{%p %}`` tags aside); when that is a list,
    the whole list and the paragraph introducing it.
    """
    for block in reversed(blocks[:-1]):
        if isinstance(block, Tag):
            continue
        if not isinstance(block, Para) or block.style not in ("Normal", "Small", "ListBullet"):
            return
        block.keep_next = True
        if block.style != "ListBullet":
            return


# --------------------------------------------------------------------------------------------------
# Inline text to runs


def _runs(text: str, path: Path, lineno: int) -> list[tuple[str, bool]]:
    """Split inline text into (text, bold) runs.

    ``**`` toggles bold outside Jinja tags (inside them it is Jinja's power operator), and a
    ``{{r ... }}`` tag gets a run of its own, as docxtpl replaces that whole run.

    Raises:
        SourceError: when the ``**`` markers do not pair up.
    """
    runs: list[tuple[str, bool]] = []
    buf: list[str] = []
    bold = False

    def flush() -> None:
        if buf:
            runs.append(("".join(buf), bold))
            buf.clear()

    pos = 0
    for m in [*JINJA_TOKEN.finditer(text), None]:
        plain = text[pos : m.start() if m else len(text)]
        for k, segment in enumerate(plain.split("**")):
            if k:
                flush()
                bold = not bold
            buf.append(segment)
        if m is None:
            break
        if m.group(0).startswith("{{r "):
            flush()
            runs.append((m.group(0), bold))
        else:
            buf.append(m.group(0))
        pos = m.end()
    flush()
    if bold:
        raise SourceError(path, lineno, "unbalanced ** (bold) markers")
    return [(t, b) for t, b in runs if t]


# --------------------------------------------------------------------------------------------------
# OOXML


def _t(text: str) -> str:
    return f'<w:t xml:space="preserve">{escape(text)}</w:t>'


def _run_xml(text: str, bold: bool) -> str:
    rpr = "<w:rPr><w:b/><w:bCs/></w:rPr>" if bold else ""
    return f"<w:r>{rpr}{_t(text)}</w:r>"


def _inline(text: str, path: Path, lineno: int, bold: bool = False) -> str:
    return "".join(_run_xml(t, b or bold) for t, b in _runs(text, path, lineno))


def _p(runs: str, ppr: str = "") -> str:
    return f"<w:p><w:pPr>{ppr}</w:pPr>{runs}</w:p>" if ppr else f"<w:p>{runs}</w:p>"


def _style(name: str) -> str:
    return "" if name == "Normal" else f'<w:pStyle w:val="{name}"/>'


# A thin spacer after every table: Word merges tables that touch, and a body must not end in a table.
SPACER = _p("", '<w:spacing w:before="0" w:after="0" w:line="200" w:lineRule="exact"/>')
SIG_SPACER = _p("", f'<w:spacing w:before="0" w:after="0" w:line="{SIG_AREA_H}" w:lineRule="exact"/>')
SIG_LINE_PPR = (
    '<w:pBdr><w:bottom w:val="single" w:sz="8" w:space="1" w:color="000000"/></w:pBdr>'
    '<w:spacing w:before="0" w:after="0" w:line="280" w:lineRule="exact"/>'
    f'<w:ind w:right="{SIG_GAP}"/>'
)
SIG_TEXT_PPR = f'<w:spacing w:before="40" w:after="0"/><w:ind w:right="{SIG_GAP}"/>'


def _cell(width: int, body: str, fill: str | None = None, span: int = 1) -> str:
    tcpr = f'<w:tcW w:w="{width}" w:type="dxa"/>'
    if span > 1:
        tcpr += f'<w:gridSpan w:val="{span}"/>'
    if fill:
        tcpr += f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>'
    return f"<w:tc><w:tcPr>{tcpr}</w:tcPr>{body}</w:tc>"


def _table_xml(table: Table, path: Path) -> str:
    border = '<w:{0} w:val="single" w:sz="4" w:space="0" w:color="808080"/>'
    borders = "".join(
        border.format(side) for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    tblpr = (
        f'<w:tblPr><w:tblW w:w="{TEXT_W}" w:type="dxa"/><w:tblBorders>{borders}</w:tblBorders>'
        '<w:tblLayout w:type="fixed"/><w:tblCellMar><w:top w:w="30" w:type="dxa"/>'
        '<w:left w:w="100" w:type="dxa"/><w:bottom w:w="30" w:type="dxa"/>'
        '<w:right w:w="100" w:type="dxa"/></w:tblCellMar></w:tblPr>'
    )
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in table.widths)
    rows = []
    first_cells = True
    for row in table.rows:
        if isinstance(row, str):
            cell = _cell(TEXT_W, _p(_run_xml(row, False)), span=len(table.widths))
            rows.append(f"<w:tr>{cell}</w:tr>")
            continue
        header = table.header and first_cells
        first_cells = False
        trpr = (
            "<w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>" if header else "<w:trPr><w:cantSplit/></w:trPr>"
        )
        cells = "".join(
            _cell(
                w,
                _p(_inline(text, path, table.line, bold=header), '<w:pStyle w:val="TableText"/>'),
                fill="EDEDED" if header else None,
            )
            for w, text in zip(table.widths, row, strict=True)
        )
        rows.append(f"<w:tr>{trpr}{cells}</w:tr>")
    return f"<w:tbl>{tblpr}<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>{SPACER}"


def _signature_xml(sig: Signature, date_label: str, path: Path) -> str:
    """A two-column, unsplittable table: signing area over a line holding the anchor; date line."""
    n = f", {sig.n}" if sig.n else ""
    anchor = f'{{{{r signature_place("{sig.role}"{n}) }}}}'
    left = (
        SIG_SPACER
        + _p(_run_xml(anchor, False), SIG_LINE_PPR)
        + _p(_inline(sig.name, path, sig.line), SIG_TEXT_PPR)
        + _p(_inline(sig.label, path, sig.line), '<w:pStyle w:val="Small"/><w:spacing w:after="0"/>')
    )
    right = (
        SIG_SPACER
        + _p("", SIG_LINE_PPR)
        + _p(
            _inline(date_label, path, sig.line),
            '<w:pStyle w:val="Small"/><w:spacing w:before="40" w:after="0"/>',
        )
    )
    tblpr = (
        f'<w:tblPr><w:tblW w:w="{TEXT_W}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:left w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar></w:tblPr>'
    )
    grid = f'<w:tblGrid><w:gridCol w:w="{SIG_LEFT_W}"/><w:gridCol w:w="{SIG_RIGHT_W}"/></w:tblGrid>'
    row = f"<w:tr><w:trPr><w:cantSplit/></w:trPr>{_cell(SIG_LEFT_W, left)}{_cell(SIG_RIGHT_W, right)}</w:tr>"
    return f"<w:tbl>{tblpr}{grid}{row}</w:tbl>{SPACER}"


def document_xml(src: Source, date_label: str) -> str:
    body = []
    for block in src.blocks:
        if isinstance(block, Para):
            ppr = _style(block.style) + ("<w:keepNext/>" if block.keep_next else "")
            body.append(_p(_inline(block.text, src.path, block.line), ppr))
        elif isinstance(block, Tag):
            body.append(_p(_run_xml(block.text, False)))
        elif isinstance(block, Table):
            body.append(_table_xml(block, src.path))
        else:
            body.append(_signature_xml(block, date_label, src.path))
    sect = (
        f'<w:sectPr><w:footerReference w:type="default" r:id="rIdFooter1"/>'
        f'<w:pgSz w:w="{PAGE_W}" w:h="{PAGE_H}"/>'
        f'<w:pgMar w:top="{MARGIN}" w:right="{MARGIN}" w:bottom="{MARGIN_BOTTOM}" w:left="{MARGIN}" '
        f'w:header="720" w:footer="{FOOTER_FROM_EDGE}" w:gutter="0"/></w:sectPr>'
    )
    body_xml = "".join(body)
    head = f'{XML_DECL}<w:document xmlns:w="{W_NS}" xmlns:r="{R_NS}">'
    return f"{head}<w:body>{body_xml}{sect}</w:body></w:document>"


def footer_xml(template: str, title: str, path: Path) -> str:
    """The footer line: ``{title}``, a tab to the right margin, ``{PAGE}``/``{NUMPAGES}`` fields."""
    runs = []
    for piece in re.split(r"(\{PAGE\}|\{NUMPAGES\}|\t)", template.replace("{title}", title)):
        if piece == "\t":
            runs.append("<w:r><w:tab/></w:r>")
        elif piece in ("{PAGE}", "{NUMPAGES}"):
            runs.append(f'<w:fldSimple w:instr=" {piece[1:-1]} "><w:r>{_t("1")}</w:r></w:fldSimple>')
        elif piece:
            runs.append(_inline(piece, path, 0))
    ppr = (
        '<w:pStyle w:val="Small"/>'
        '<w:pBdr><w:top w:val="single" w:sz="4" w:space="4" w:color="808080"/></w:pBdr>'
        f'<w:tabs><w:tab w:val="right" w:pos="{TEXT_W}"/></w:tabs><w:spacing w:after="0"/>'
    )
    return f'{XML_DECL}<w:ftr xmlns:w="{W_NS}" xmlns:r="{R_NS}">{_p("".join(runs), ppr)}</w:ftr>'


def styles_xml(locale: str) -> str:
    def style(sid: str, name: str, ppr: str = "", rpr: str = "", extra: str = "") -> str:
        default, base = (' w:default="1"', "") if sid == "Normal" else ("", '<w:basedOn w:val="Normal"/>')
        ppr = f"<w:pPr>{ppr}</w:pPr>" if ppr else ""
        rpr = f"<w:rPr>{rpr}</w:rPr>" if rpr else ""
        return (
            f'<w:style w:type="paragraph"{default} w:styleId="{sid}"><w:name w:val="{name}"/>'
            f"{base}{extra}<w:qFormat/>{ppr}{rpr}</w:style>"
        )

    fonts = f'<w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" w:cs="{FONT}"/>'
    defaults = (
        f'<w:docDefaults><w:rPrDefault><w:rPr>{fonts}<w:sz w:val="22"/><w:szCs w:val="22"/>'
        f'<w:lang w:val="{locale}" w:eastAsia="{locale}" w:bidi="{locale}"/></w:rPr></w:rPrDefault>'
        '<w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="264" w:lineRule="auto"/></w:pPr>'
        "</w:pPrDefault></w:docDefaults>"
    )
    heading_next = '<w:next w:val="Normal"/>'
    return (
        f'{XML_DECL}<w:styles xmlns:w="{W_NS}">{defaults}'
        + style("Normal", "Normal")
        + style(
            "Title",
            "Title",
            '<w:keepNext/><w:spacing w:after="40"/>',
            '<w:b/><w:bCs/><w:sz w:val="34"/><w:szCs w:val="34"/>',
            heading_next,
        )
        + style(
            "Heading1",
            "heading 1",
            '<w:keepNext/><w:keepLines/><w:spacing w:before="220" w:after="80"/><w:outlineLvl w:val="0"/>',
            '<w:b/><w:bCs/><w:sz w:val="26"/><w:szCs w:val="26"/>',
            heading_next,
        )
        + style(
            "Heading2",
            "heading 2",
            '<w:keepNext/><w:keepLines/><w:spacing w:before="160" w:after="40"/><w:outlineLvl w:val="1"/>',
            "<w:b/><w:bCs/>",
            heading_next,
        )
        + style(
            "ListBullet",
            "List Bullet",
            '<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr><w:spacing w:after="120"/>'
            '<w:ind w:left="360" w:hanging="270"/><w:contextualSpacing/>',
        )
        + style(
            "TableText",
            "Table Text",
            '<w:spacing w:after="0" w:line="240" w:lineRule="auto"/>',
            '<w:sz w:val="20"/><w:szCs w:val="20"/>',
        )
        + style("Small", "Small", "", '<w:color w:val="404040"/><w:sz w:val="17"/><w:szCs w:val="17"/>')
        + style(
            "Large",
            "Large",
            '<w:keepNext/><w:spacing w:after="60"/>',
            '<w:b/><w:bCs/><w:sz w:val="32"/><w:szCs w:val="32"/>',
        )
        + "</w:styles>"
    )


NUMBERING_XML = (
    f'{XML_DECL}<w:numbering xmlns:w="{W_NS}"><w:abstractNum w:abstractNumId="0">'
    '<w:multiLevelType w:val="singleLevel"/><w:lvl w:ilvl="0"><w:start w:val="1"/>'
    '<w:numFmt w:val="bullet"/><w:lvlText w:val="\u2022"/><w:lvlJc w:val="left"/>'
    '<w:pPr><w:ind w:left="360" w:hanging="270"/></w:pPr>'
    f'<w:rPr><w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:cs="{FONT}" w:hint="default"/></w:rPr>'
    '</w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>'
)

SETTINGS_XML = (
    f'{XML_DECL}<w:settings xmlns:w="{W_NS}"><w:defaultTabStop w:val="720"/>'
    '<w:characterSpacingControl w:val="doNotCompress"/><w:compat>'
    '<w:compatSetting w:name="compatibilityMode" w:val="15"'
    ' w:uri="http://schemas.microsoft.com/office/word"/>'
    "</w:compat></w:settings>"
)

_WML = "application/vnd.openxmlformats-officedocument.wordprocessingml"
CONTENT_TYPES_XML = (
    f'{XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/word/document.xml" ContentType="{_WML}.document.main+xml"/>'
    f'<Override PartName="/word/styles.xml" ContentType="{_WML}.styles+xml"/>'
    f'<Override PartName="/word/settings.xml" ContentType="{_WML}.settings+xml"/>'
    f'<Override PartName="/word/numbering.xml" ContentType="{_WML}.numbering+xml"/>'
    f'<Override PartName="/word/footer1.xml" ContentType="{_WML}.footer+xml"/>'
    '<Override PartName="/docProps/core.xml"'
    ' ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    "</Types>"
)

_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS_XML = (
    f'{XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="word/document.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
    'core-properties" Target="docProps/core.xml"/></Relationships>'
)
DOCUMENT_RELS_XML = (
    f'{XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rIdStyles" Type="{_REL}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rIdSettings" Type="{_REL}/settings" Target="settings.xml"/>'
    f'<Relationship Id="rIdNumbering" Type="{_REL}/numbering" Target="numbering.xml"/>'
    f'<Relationship Id="rIdFooter1" Type="{_REL}/footer" Target="footer1.xml"/></Relationships>'
)


def core_xml(title: str, locale: str) -> str:
    return (
        f"{XML_DECL}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:creator>consentkit</dc:creator>"
        f"<cp:lastModifiedBy>consentkit</cp:lastModifiedBy><dc:language>{escape(locale)}</dc:language>"
        "<cp:revision>1</cp:revision>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{FIXED_W3CDTF}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{FIXED_W3CDTF}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def build_docx(src: Source, locale: str, strings: dict[str, str]) -> bytes:
    """The DOCX bytes for one parsed source; identical inputs give identical bytes."""
    assert src.title is not None
    parts = {
        "[Content_Types].xml": CONTENT_TYPES_XML,
        "_rels/.rels": PACKAGE_RELS_XML,
        "docProps/core.xml": core_xml(src.title, locale),
        "word/_rels/document.xml.rels": DOCUMENT_RELS_XML,
        "word/document.xml": document_xml(src, strings["signature_date"]),
        "word/styles.xml": styles_xml(locale),
        "word/settings.xml": SETTINGS_XML,
        "word/numbering.xml": NUMBERING_XML,
        "word/footer1.xml": footer_xml(strings["footer"], src.title, src.path),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, xml in parts.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED  # deflate output varies between zlib builds
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, xml.encode("utf-8"))
    return out.getvalue()


# --------------------------------------------------------------------------------------------------
# The template set: index, checklist and checks


class IndexFileError(Exception):
    """A problem in templates.toml or checklist.toml."""


INDEX_KEYS = {"id", "title", "file", "order", "covers", "signers"}
SET_KEYS = {"locale", "translation_reviewed_by", "translation_reviewed_on", "strings", "templates"}
STRING_KEYS = {"footer", "signature_date"}


def load_checklist() -> dict[str, dict[str, object]]:
    data = tomllib.loads(CHECKLIST.read_text(encoding="utf-8"))
    elements = data.get("elements")
    if not isinstance(elements, dict) or not elements:
        raise IndexFileError(f"{_rel(CHECKLIST)}: needs [elements.<id>] tables")
    for cid, element in elements.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", cid):
            raise IndexFileError(f"{_rel(CHECKLIST)}: element id {cid!r} is not snake_case")
        if not isinstance(element.get("title"), str) or not isinstance(element.get("sources"), list):
            raise IndexFileError(f"{_rel(CHECKLIST)}: element {cid!r} needs 'title' and 'sources'")
    return elements


def _check_jinja(src: Source, footer: str) -> None:
    """Check Jinja syntax and top-level names, as docxtpl will see the text."""
    for lineno, line in enumerate(src.jinja_lines, start=1):
        if any("&" in tag for tag in JINJA_TOKEN.findall(line)):
            raise SourceError(src.path, lineno, "'&' inside a tag reaches Jinja as '&amp;': use 'and' or '~'")
    text = "\n".join([*src.jinja_lines, footer])
    text = re.sub(r"\{\{r\s", "{{ ", text)
    env = jinja2.sandbox.SandboxedEnvironment()
    try:
        ast = env.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise SourceError(src.path, exc.lineno, f"Jinja: {exc.message}") from exc
    unknown = jinja2.meta.find_undeclared_variables(ast) - CONTRACT_NAMES
    for name in sorted(unknown):
        word = re.compile(rf"\b{re.escape(name)}\b")
        lineno = next((k + 1 for k, line in enumerate(src.jinja_lines) if word.search(line)), 1)
        raise SourceError(
            src.path, lineno, f"unknown variable {name!r}: see docs/template-variables.md for the names"
        )


def build_locale(locale: str, checklist: dict[str, dict[str, object]]) -> dict[Path, bytes]:
    """Parse, check and build every template of one locale.

    Returns:
        the DOCX bytes by output path.

    Raises:
        SourceError: a problem in a source file.
        IndexFileError: a problem in the set's templates.toml.
    """
    src_dir = SOURCES / locale
    out_dir = TEMPLATES / locale
    index_path = out_dir / "templates.toml"
    where = _rel(index_path)
    if not index_path.is_file():
        raise IndexFileError(f"{where}: missing (every locale needs an index)")
    index = tomllib.loads(index_path.read_text(encoding="utf-8"))
    if set(index) != SET_KEYS:
        raise IndexFileError(
            f"{where}: set-level keys must be exactly {sorted(SET_KEYS)}, found {sorted(index)}"
        )
    if index["locale"] != locale:
        raise IndexFileError(f"{where}: locale = {index['locale']!r} but the folder is {locale!r}")
    strings = index["strings"]
    if set(strings) != STRING_KEYS:
        raise IndexFileError(f"{where}: [strings] must hold exactly {sorted(STRING_KEYS)}")

    entries = index["templates"]
    sources = sorted(src_dir.glob("*.txt"))
    ids = [e.get("id") for e in entries]
    if len(set(ids)) != len(ids) or len({e.get("order") for e in entries}) != len(entries):
        raise IndexFileError(f"{where}: template ids and orders must be unique")
    if {p.stem for p in sources} != set(ids):
        raise IndexFileError(
            f"{where}: templates {sorted(map(str, ids))} do not match the sources {[p.name for p in sources]}"
        )

    built: dict[Path, bytes] = {}
    covered: set[str] = set()
    for entry in entries:
        tid = entry["id"]
        if set(entry) != INDEX_KEYS:
            raise IndexFileError(f"{where}: template {tid!r} needs exactly the keys {sorted(INDEX_KEYS)}")
        if entry["file"] != f"{tid}.docx":
            raise IndexFileError(f'{where}: template {tid!r} must have file = "{tid}.docx"')
        path = src_dir / f"{tid}.txt"
        src = parse_source(path)
        if src.title != entry["title"]:
            raise SourceError(path, 1, f"@title differs from the title in {where}: {entry['title']!r}")
        _check_jinja(src, strings["footer"])

        for cid, lineno in src.covers.items():
            if cid not in checklist:
                raise SourceError(path, lineno, f"@covers {cid}: not an element of {_rel(CHECKLIST)}")
        if set(src.covers) != set(entry["covers"]):
            missing = sorted(set(entry["covers"]) - set(src.covers))
            extra = sorted(set(src.covers) - set(entry["covers"]))
            raise SourceError(
                path, 1, f"@covers differ from covers in {where}: missing {missing}, not listed there {extra}"
            )
        covered |= set(src.covers)

        roles = {b.role for b in src.blocks if isinstance(b, Signature)}
        if roles != set(entry["signers"]) or not set(entry["signers"]) <= ROLES.keys():
            raise SourceError(
                path, 1, f"signature roles {sorted(roles)} differ from signers in {where}: {entry['signers']}"
            )
        built[out_dir / entry["file"]] = build_docx(src, locale, strings)

    missing = sorted(set(checklist) - covered)
    if missing:
        raise IndexFileError(f"{where}: no template of {locale} covers the checklist elements {missing}")
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with a fresh build; write nothing")
    parser.add_argument("--locale", action="append", help="build only this locale (repeatable)")
    args = parser.parse_args(argv)

    locales = args.locale or sorted(p.name for p in SOURCES.iterdir() if p.is_dir())
    try:
        checklist = load_checklist()
        built: dict[Path, bytes] = {}
        for locale in locales:
            built.update(build_locale(locale, checklist))
    except (SourceError, IndexFileError, tomllib.TOMLDecodeError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    stale = 0
    for path, data in sorted(built.items()):
        current = path.read_bytes() if path.exists() else None
        if current == data:
            continue
        stale += 1
        if args.check:
            print(f"{_rel(path)}: {'missing' if current is None else 'differs from a fresh build'}")
        else:
            path.write_bytes(data)
            print(f"wrote {_rel(path)}")
    for locale in locales:
        for orphan in sorted(set((TEMPLATES / locale).glob("*.docx")) - built.keys()):
            stale += 1
            print(f"{_rel(orphan)}: has no source in {_rel(SOURCES / locale)}")
    if args.check and stale:
        print("run: python tools/build_templates.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
