"""The machine-checkable part of PDF/UA-1 (ISO 14289-1), checked with pikepdf.

:func:`accessibility_problems` lists what a screen reader would trip over: content that is
neither tagged nor an artifact, pages or marked content the structure tree does not reach,
a missing document language, figures without alternative text, a title not shown, fonts without
a Unicode map. It is not a PDF/UA validation (no checker such as veraPDF or PAC is part of the
project, and half of PDF/UA needs a human: reading order that makes sense, alternative text that
describes); report it as "PDF/UA machine checks passed", never as "PDF/UA compliant".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pikepdf

from .archival import font_is_embedded
from .tagging import number_tree

__all__ = ["accessibility_problems", "struct_elements"]

#: Operators that put something on the page (text, paths, images, shadings, inline images).
_PAINTING = {
    "Tj", "TJ", "'", '"',
    "S", "s", "f", "F", "f*", "B", "B*", "b", "b*",
    "sh", "BI", "INLINE IMAGE", "Do",
}  # fmt: skip
#: How many problems of one kind are listed before the rest are counted.
_LIST_AT_MOST = 5
#: Limits for hostile files: struct tree size, nesting of forms.
_MAX_ELEMENTS = 200_000
_MAX_FORM_DEPTH = 8


def _name(value: object) -> str:
    return str(value) if isinstance(value, pikepdf.Name) else ""


def struct_elements(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Every structure element of the tree, in document (reading) order, depth first."""
    root = pdf.Root.get("/StructTreeRoot")
    if not isinstance(root, pikepdf.Dictionary):
        return
    stack: list[Any] = [root.get("/K")]
    seen: set[tuple[int, int]] = set()
    count = 0
    while stack and count < _MAX_ELEMENTS:
        item = stack.pop()
        if isinstance(item, pikepdf.Array):
            stack.extend(reversed(list(item)))
            continue
        if not isinstance(item, pikepdf.Dictionary) or "/S" not in item:
            continue  # an MCID, an MCR or an OBJR
        if item.objgen != (0, 0):
            if item.objgen in seen:
                continue
            seen.add(item.objgen)
        count += 1
        yield item
        stack.append(item.get("/K"))


def _role(element: pikepdf.Dictionary, role_map: Any) -> str:
    kind = _name(element.get("/S"))
    for _ in range(8):
        if not isinstance(role_map, pikepdf.Dictionary) or kind not in role_map:
            break
        kind = _name(role_map[kind]) or kind
    return kind


def _content_problems(
    operations: list[Any], where: str, resources: Any, depth: int, parent_tree: dict[int, Any]
) -> tuple[list[str], set[int]]:
    """Untagged painting in a content stream (and in the forms it draws outside marked content),
    and the MCIDs the stream itself uses (a form's own are checked against its ``/StructParents``)."""
    problems: list[str] = []
    mcids: set[int] = set()
    stack: list[tuple[str, bool]] = []  # (tag, tagged or artifact)
    for operands, operator in operations:
        op = str(operator)
        if op in ("BMC", "BDC"):
            tag = _name(operands[0]) if operands else ""
            properties = operands[1] if op == "BDC" and len(operands) > 1 else None
            mcid: Any = properties.get("/MCID") if isinstance(properties, pikepdf.Dictionary) else None
            if isinstance(mcid, int):
                mcids.add(int(mcid))
            marked = tag == "/Artifact" or isinstance(mcid, int) or any(m for _, m in stack)
            stack.append((tag, marked))
        elif op == "EMC":
            if stack:
                stack.pop()
        elif op in _PAINTING and not any(m for _, m in stack):
            if op == "Do" and depth < _MAX_FORM_DEPTH:
                xobject = _xobject(resources, operands[0] if operands else None)
                if isinstance(xobject, pikepdf.Stream) and _name(xobject.get("/Subtype")) == "/Form":
                    inside = f"{where}, form {operands[0]}"
                    inner, inner_mcids = _content_problems(
                        list(pikepdf.parse_content_stream(xobject)),
                        inside,
                        xobject.get("/Resources", resources),
                        depth + 1,
                        parent_tree,
                    )
                    problems += inner + _reached(
                        inside, xobject.get("/StructParents"), inner_mcids, parent_tree
                    )
                    continue
            problems.append(f"{where}: content outside marked content or an artifact ({op})")
    return problems, mcids


def _xobject(resources: Any, name: Any) -> Any:
    if not isinstance(resources, pikepdf.Dictionary) or name is None:
        return None
    xobjects = resources.get("/XObject")
    return xobjects.get(name) if isinstance(xobjects, pikepdf.Dictionary) else None


def _font_problems(pdf: pikepdf.Pdf) -> list[str]:
    problems: list[str] = []
    seen: set[tuple[int, int]] = set()
    for number, page in enumerate(pdf.pages, start=1):
        for font in _fonts_of(page.obj.get("/Resources"), 0):
            if font.objgen in seen:
                continue
            seen.add(font.objgen)
            subtype = _name(font.get("/Subtype"))
            base = _name(font.get("/BaseFont")) or "?"
            if subtype != "/Type3" and not font_is_embedded(font):
                problems.append(f"page {number}: font {base} is not embedded")
            if "/ToUnicode" not in font and subtype in ("/Type0", "/Type3", "/TrueType", "/Type1"):
                encoding = _name(font.get("/Encoding"))
                if subtype == "/Type0" or encoding not in ("/WinAnsiEncoding", "/MacRomanEncoding"):
                    problems.append(f"page {number}: font {base} has no Unicode map (ToUnicode)")
    return problems


def _fonts_of(resources: Any, depth: int) -> Iterator[Any]:
    if not isinstance(resources, pikepdf.Dictionary) or depth > _MAX_FORM_DEPTH:
        return
    fonts = resources.get("/Font")
    if isinstance(fonts, pikepdf.Dictionary):
        for key in fonts.keys():  # noqa: SIM118 (pikepdf API)
            if isinstance(fonts[key], pikepdf.Dictionary):
                yield fonts[key]
    xobjects = resources.get("/XObject")
    if isinstance(xobjects, pikepdf.Dictionary):
        for key in xobjects.keys():  # noqa: SIM118
            form = xobjects[key]
            if isinstance(form, pikepdf.Stream) and _name(form.get("/Subtype")) == "/Form":
                yield from _fonts_of(form.get("/Resources"), depth + 1)


def _limited(problems: list[str]) -> list[str]:
    """At most a few problems of each kind (the text after the page number), and a count."""
    kept: list[str] = []
    counts: dict[str, int] = {}
    for problem in problems:
        kind = problem.split(": ", 1)[-1]
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] <= _LIST_AT_MOST:
            kept.append(problem)
    for kind, count in counts.items():
        if count > _LIST_AT_MOST:
            kept.append(f"... and {count - _LIST_AT_MOST} more: {kind}")
    return kept


def accessibility_problems(pdf: pikepdf.Pdf) -> list[str]:
    """What the machine-checkable part of PDF/UA-1 finds wrong with ``pdf`` (empty: nothing).

    The checks: the catalog says the file is tagged, has a structure tree and a language, and
    asks viewers to show the title, which the metadata holds; every page's content (and every
    form it draws) is marked content with an MCID or an artifact; every page with marked content
    is reached from the structure tree's parent tree, and each MCID it uses maps to an element;
    every figure has alternative text; every font is embedded and can be mapped to Unicode.
    """
    problems: list[str] = []
    root = pdf.Root
    mark_info = root.get("/MarkInfo")
    if not (isinstance(mark_info, pikepdf.Dictionary) and bool(mark_info.get("/Marked", False))):
        problems.append("the catalog does not say the file is tagged (/MarkInfo /Marked true)")
    tree = root.get("/StructTreeRoot")
    if not isinstance(tree, pikepdf.Dictionary):
        problems.append("no structure tree (/StructTreeRoot)")
    lang = root.get("/Lang")
    if not (isinstance(lang, pikepdf.String) and str(lang).strip()):
        problems.append("no document language (/Lang)")
    preferences = root.get("/ViewerPreferences")
    if not (isinstance(preferences, pikepdf.Dictionary) and bool(preferences.get("/DisplayDocTitle", False))):
        problems.append("the title is not shown in the title bar (/ViewerPreferences /DisplayDocTitle)")
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        title = meta.get("dc:title")
    if not title:
        problems.append("no title in the metadata (dc:title)")

    parent_tree = number_tree(tree.get("/ParentTree")) if isinstance(tree, pikepdf.Dictionary) else {}
    page_problems: list[str] = []
    for number, page in enumerate(pdf.pages, start=1):
        where = f"page {number}"
        try:
            operations = list(pikepdf.parse_content_stream(page))
        except pikepdf.PdfError:
            page_problems.append(f"{where}: the content cannot be read")
            continue
        found, mcids = _content_problems(operations, where, page.obj.get("/Resources"), 0, parent_tree)
        page_problems += found + _reached(where, page.obj.get("/StructParents"), mcids, parent_tree)
    problems += _limited(page_problems)

    role_map = tree.get("/RoleMap") if isinstance(tree, pikepdf.Dictionary) else None
    figures = 0
    for element in struct_elements(pdf):
        if _role(element, role_map) == "/Figure" and not (
            str(element.get("/Alt", "")).strip() or str(element.get("/ActualText", "")).strip()
        ):
            figures += 1
    if figures:
        problems.append(f"{figures} figure(s) without alternative text (/Alt)")
    problems += _limited(_font_problems(pdf))
    return problems


def _reached(where: str, key: object, mcids: set[int], parent_tree: dict[int, Any]) -> list[str]:
    """Whether the structure tree reaches the marked content of a page (or form) through its
    ``/StructParents`` entry in the parent tree."""
    if not mcids:
        return []
    if not isinstance(key, int):
        return [f"{where}: marked content but no /StructParents (not in the structure tree)"]
    entry = parent_tree.get(int(key))
    if not isinstance(entry, pikepdf.Array):
        return [f"{where}: its /StructParents has no entry in the parent tree"]
    missing = [m for m in sorted(mcids) if m >= len(entry) or not isinstance(entry[m], pikepdf.Dictionary)]
    if missing:
        return [f"{where}: marked content not reached from the structure tree (MCID {missing[0]})"]
    return []
