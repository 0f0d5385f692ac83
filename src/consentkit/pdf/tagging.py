"""Tagged PDF: keep every document's structure tree when PDFs are joined, mark what is drawn
without tags as artifacts, and add tagged figures for what consentkit draws.

LibreOffice tags each document it converts, but leaves some lines (table borders, rules) outside
any marked content, and a merge that keeps only the first document's catalog keeps only its
structure tree. :func:`mark_artifacts` wraps untagged drawing in ``/Artifact`` marked content;
:func:`adopt_structure` moves another document's structure tree into a packet under a ``/Part``
element of its own (with the document's ``/Lang``), its parent-tree keys renumbered.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs
import pikepdf

from ._content import content_stream, operator_pattern, page_content, readable_as_bytes
from .metadata import edit_metadata

__all__ = [
    "DrawnTag",
    "FigureTag",
    "add_figures",
    "adopt_structure",
    "drop_lead_page",
    "ensure_parts",
    "group_parts",
    "mark_artifacts",
    "number_tree",
    "part_of_pages",
    "tag_drawn",
]

#: Operators that start a graphics object, and those that end a path object.
_PATH_START = {"m", "re"}
_PATH_END = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "n"}
_SINGLE = {"Do", "sh", "INLINE IMAGE"}
_MARKED = {"BMC", "BDC"}


def number_tree(node: Any, depth: int = 0) -> dict[int, Any]:
    """A number tree (``/Nums`` and ``/Kids``) as a dict."""
    found: dict[int, Any] = {}
    if not isinstance(node, pikepdf.Dictionary) or depth > 32:
        return found
    nums: Any = node.get("/Nums")
    if isinstance(nums, pikepdf.Array):
        for index in range(0, len(nums) - 1, 2):
            key: Any = nums[index]
            if isinstance(key, int):
                found[int(key)] = nums[index + 1]
    for kid in node.get("/Kids", []):
        found.update(number_tree(kid, depth + 1))
    return found


def _write_parent_tree(pdf: pikepdf.Pdf, tree: Any, entries: dict[int, Any]) -> None:
    nums: list[Any] = []
    for key in sorted(entries):
        nums += [key, entries[key]]
    tree.ParentTree = pdf.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(nums)))
    tree.ParentTreeNextKey = (max(entries) + 1) if entries else 0


def _wrap_untagged(operations: list[Any]) -> tuple[list[Any], bool]:
    """The operations with every graphics object drawn outside marked content wrapped in
    ``/Artifact BMC ... EMC``; and whether anything was wrapped."""
    names = [str(operator) for _, operator in operations]
    spans: list[tuple[int, int]] = []  # [start, stop] of each untagged graphics object
    depth = 0
    index = 0
    count = len(names)
    while index < count:
        op = names[index]
        if op in _MARKED:
            depth += 1
        elif op == "EMC":
            depth = max(0, depth - 1)
        elif not depth and (op in _PATH_START or op == "BT" or op in _SINGLE):
            stop = index
            if op == "BT":
                while stop < count and names[stop] != "ET":
                    stop += 1
            elif op in _PATH_START:
                while stop < count and names[stop] not in _PATH_END:
                    stop += 1
            piece = names[index : stop + 1]
            # A piece with tags of its own, or one that only sets a clip, stays as it is.
            if not (_MARKED.intersection(piece) or "EMC" in piece or piece[-1] == "n"):
                spans.append((index, min(stop, count - 1)))
            index = stop
        index += 1
    if not spans:
        return operations, False
    begin = pikepdf.ContentStreamInstruction([pikepdf.Name.Artifact], pikepdf.Operator("BMC"))
    end = pikepdf.ContentStreamInstruction([], pikepdf.Operator("EMC"))
    out: list[Any] = []
    done = 0
    for first, last in spans:
        out += operations[done:first]
        out += [begin, *operations[first : last + 1], end]
        done = last + 1
    out += operations[done:]
    return out, True


#: The operators that matter for marking.
_OPERATOR = operator_pattern("BDC", "BMC", "EMC", "BT", "ET", "re", "m", *_PATH_END, "Do", "sh")
#: The operands before a path's first operator (two to four numbers) or an XObject's name, read
#: backwards: matched at the start of the reversed bytes before the operator. (A forward search
#: ending at the operator tries every start in the window: fifty times slower.)
_REVERSED_OPERANDS = re.compile(
    rb"(?:\s+(?:\d+\.?\d*|\d*\.\d+)[-+]?){2,4}(?![^\s\[\]<>/])"  # numbers
    rb"|\s*[^\s/\[\]<>(){}%]+/"  # a name
)


def _operands_start(content: bytes, window: int, operator: int) -> int | None:
    """Where the operands of the operator at ``operator`` begin (looked for after ``window``)."""
    found = _REVERSED_OPERANDS.match(content[window:operator][::-1])
    return operator - found.end() if found else None


#: What may stand before and after an operator (as the byte readers' pattern has it).
_BEFORE = frozenset(b" \t\n\r\f\v]>")
_AFTER = frozenset(b" \t\n\r\f\v[/<(")


def _marked_content_operators(content: bytes) -> list[tuple[int, int, bytes]]:
    """(start, end, operator) of every BDC, BMC and EMC, in order. Found with ``bytes.find``,
    several times faster than a regular expression over the whole stream; then the operators
    that draw are looked for only outside marked content, in the few short stretches there are
    (most of a page of LibreOffice's is tagged)."""
    found = []
    for operator in (b"BDC", b"BMC", b"EMC"):
        at = content.find(operator)
        while at >= 0:
            end = at + 3
            if content[at - 1] in _BEFORE and (end == len(content) or content[end] in _AFTER):
                found.append((at, end, operator))
            at = content.find(operator, end)
    found.sort()
    return found


def _untagged_stretches(content: bytes) -> Iterator[tuple[int, int]]:
    """The (start, end) of each stretch of ``content`` (with a newline put before it) outside
    marked content, each ending at a marked-content operator or the end of the stream."""
    depth = 0
    stretch = 0
    for start, end, operator in _marked_content_operators(content):
        if not depth:
            yield stretch, start
        depth = max(0, depth - 1) if operator == b"EMC" else depth + 1
        if not depth:
            stretch = end
    if not depth:
        yield stretch, len(content)


def _wrap_bytes(content: bytes) -> bytes | None:
    """:func:`_wrap_untagged` on the bytes of a content stream, without parsing it into objects
    (ten times faster on LibreOffice's pages): ``content`` itself when nothing is to be wrapped;
    ``None`` when the stream holds what this cannot read safely (the caller then parses it)."""
    if not readable_as_bytes(content):
        return None
    original, content = content, b"\n" + content
    inserts: list[tuple[int, bytes]] = []
    for begin, end in _untagged_stretches(content):
        start: int | None = None  # where the open untagged graphics object began
        previous_end = begin
        for match in _OPERATOR.finditer(content, begin, end):
            op = match.group(1)
            if start is None:
                if op in (b"m", b"re", b"BT", b"Do", b"sh"):
                    # The operands are a few numbers or a name just before the operator.
                    if op == b"BT":
                        start = match.start(1)
                    else:
                        window = max(previous_end, match.start(1) - _OPERANDS_WINDOW)
                        start = _operands_start(content, window, match.start(1))
                        if start is None:
                            return None  # operands not as expected: leave it to the parser
                    if op in (b"Do", b"sh"):
                        inserts += [(start, b"/Artifact BMC\n"), (match.end(), b"\nEMC")]
                        start = None
            elif (op == b"ET" and content[start : start + 2] == b"BT") or (
                op in _PATH_END_BYTES and content[start : start + 2] != b"BT"
            ):
                if op != b"n":  # a clip only: nothing painted
                    inserts += [(start, b"/Artifact BMC\n"), (match.end(), b"\nEMC")]
                start = None
            previous_end = match.end()
        if start is not None:
            return None  # a graphics object open across a tag or at the end: the parser decides
    if not inserts:
        return original
    pieces, done = [], 1
    for offset, text in inserts:
        pieces += [content[done:offset], text]
        done = offset
    pieces.append(content[done:])
    return b"".join(pieces)


_PATH_END_BYTES = {op.encode() for op in _PATH_END}
#: How far before an operator its operands are looked for (four numbers take under 60 bytes).
_OPERANDS_WINDOW = 120


def mark_artifacts(pdf: pikepdf.Pdf, pages: Iterable[int] | None = None) -> int:
    """Wrap what each page (of ``pages``, 0-based; default all) draws outside marked content in
    ``/Artifact`` marked content (lines, borders, backgrounds: nothing a screen reader should
    read). Returns how many pages changed; the caller saves ``pdf``.

    LibreOffice's pages are read as bytes (:func:`_wrap_bytes`); a stream that holds what that
    cannot read safely (:func:`._content.readable_as_bytes`) is parsed with pikepdf instead."""
    changed = 0
    for index in range(len(pdf.pages)) if pages is None else pages:
        page = pdf.pages[index]
        raw = page_content(page)
        wrapped = _wrap_bytes(raw)
        if wrapped is None:
            operations = list(pikepdf.parse_content_stream(page))
            parsed, did = _wrap_untagged(operations)
            if did:
                page.obj.Contents = content_stream(pdf, pikepdf.unparse_content_stream(parsed))
                changed += 1
        elif wrapped is not raw:
            page.obj.Contents = content_stream(pdf, wrapped)
            changed += 1
    return changed


def _element(pdf: pikepdf.Pdf, kind: str, parent: Any, **keys: Any) -> pikepdf.Dictionary:
    element = pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name("/" + kind), P=parent)
    for key, value in keys.items():
        element[f"/{key}"] = value
    return pdf.make_indirect(element)


def _kids(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, pikepdf.Array) else [value]


def _is_parted(root: pikepdf.Dictionary) -> bool:
    top = _kids(root.get("/K"))
    return (
        len(top) == 1
        and isinstance(top[0], pikepdf.Dictionary)
        and str(top[0].get("/S")) == "/Document"
        and all(
            isinstance(k, pikepdf.Dictionary) and str(k.get("/S")) == "/Part" for k in _kids(top[0].get("/K"))
        )
    )


def ensure_parts(pdf: pikepdf.Pdf) -> pikepdf.Dictionary | None:
    """Give ``pdf``'s structure tree the shape the packet uses: the root holds one ``/Document``
    element whose children are one ``/Part`` per joined document (the first being ``pdf``'s own
    content, in its ``/Lang``). Returns the ``/Document`` element (``None``: ``pdf`` is not tagged)."""
    root = pdf.Root.get("/StructTreeRoot")
    if not isinstance(root, pikepdf.Dictionary):
        return None
    if _is_parted(root):
        return _kids(root.K)[0]  # type: ignore[no-any-return]
    document = _element(pdf, "Document", root)
    part = _part(pdf, document, _unwrap(_kids(root.get("/K"))), pdf.Root.get("/Lang"))
    document.K = pikepdf.Array([part])
    root.K = pikepdf.Array([document])
    return document


def drop_lead_page(pdf: pikepdf.Pdf) -> None:
    """Remove the first page of a joined conversion: the empty lead page
    (:mod:`consentkit.rendering._compose`), whose only content is an artifact. Structure elements
    that named it as their page (LibreOffice's ``/Document``) now name the new first page.

    Raises:
        ValueError: the first page has tagged content or annotations.
    """
    lead = pdf.pages[0].obj
    if "/StructParents" in lead or len(_kids(lead.get("/Annots"))):
        raise ValueError("the lead page of the joined conversion is not empty")
    del pdf.pages[0]
    root = pdf.Root.get("/StructTreeRoot")
    if not isinstance(root, pikepdf.Dictionary) or not len(pdf.pages):
        return
    first = pdf.pages[0].obj
    top = _kids(root.get("/K"))
    for element in [*top, *_unwrap(top)]:
        page = element.get("/Pg") if isinstance(element, pikepdf.Dictionary) else None
        if page is not None and page.objgen == lead.objgen:
            element.Pg = first


def _first_page(element: Any, pages: dict[tuple[int, int], int]) -> int | None:
    """The index of the first page an element (or its first descendant naming one) is on."""
    while isinstance(element, pikepdf.Dictionary):
        page = element.get("/Pg")
        if page is not None and page.objgen in pages:
            return pages[page.objgen]
        kids = [k for k in _kids(element.get("/K")) if isinstance(k, pikepdf.Dictionary)]
        element = kids[0] if kids else None
    return None


def group_parts(pdf: pikepdf.Pdf, last_pages: Sequence[int]) -> None:
    """Group the top elements of a joined conversion's structure tree into one ``/Part`` per
    document, the shape :func:`ensure_parts` gives a merged packet.

    Args:
        pdf: the joined conversion (lead page removed).
        last_pages: each document's last page, 0-based, in order.
    """
    root = pdf.Root.get("/StructTreeRoot")
    if not isinstance(root, pikepdf.Dictionary) or not last_pages:
        return
    top = _kids(root.get("/K"))
    wrapped = _unwrap(top) is not top
    document = top[0] if wrapped else _element(pdf, "Document", root)
    pages = {page.obj.objgen: n for n, page in enumerate(pdf.pages)}
    groups: list[list[Any]] = [[] for _ in last_pages]
    current = 0
    for kid in _unwrap(top):
        page = _first_page(kid, pages)
        while page is not None and current < len(last_pages) - 1 and page > last_pages[current]:
            current += 1
        groups[current].append(kid)
    lang = pdf.Root.get("/Lang")
    document.K = pikepdf.Array([_part(pdf, document, group, lang) for group in groups])
    root.K = pikepdf.Array([document])


def _part(pdf: pikepdf.Pdf, document: pikepdf.Dictionary, kids: list[Any], lang: Any) -> pikepdf.Dictionary:
    """A new ``/Part`` of ``document`` holding ``kids`` (now its children), in ``lang`` when that
    is a PDF string."""
    part = _element(pdf, "Part", document, K=pikepdf.Array(kids))
    if isinstance(lang, pikepdf.String):
        part.Lang = lang
    for kid in kids:
        if isinstance(kid, pikepdf.Dictionary):
            kid.P = part
    return part


def _unwrap(top: list[Any]) -> list[Any]:
    """A document's top elements, without the ``/Document`` LibreOffice wraps them in."""
    if len(top) == 1 and isinstance(top[0], pikepdf.Dictionary) and str(top[0].get("/S")) == "/Document":
        return _kids(top[0].get("/K"))
    return top


def adopt_structure(
    packet: pikepdf.Pdf,
    other: pikepdf.Pdf,
    copied_pages: Sequence[Any],
    *,
    lang: str | None = None,
) -> None:
    """Move ``other``'s structure tree into ``packet`` as a new ``/Part``, after ``other``'s pages
    were copied into ``packet`` (``copied_pages``, with ``packet.copy_foreign``: the same copier
    maps the tree's page references onto them). Parent-tree keys of the copied pages and their
    annotations are renumbered after ``packet``'s own.

    An untagged ``other`` leaves its pages untagged (their ``/StructParents`` removed)."""
    theirs = other.Root.get("/StructTreeRoot")
    document = ensure_parts(packet)
    if not isinstance(theirs, pikepdf.Dictionary) or document is None:
        for page in copied_pages:
            _drop_struct_parents(page)
        return
    root = packet.Root.StructTreeRoot
    entries = number_tree(root.get("/ParentTree"))
    offset = max([int(root.get("/ParentTreeNextKey", 0)), *(k + 1 for k in entries)])
    # One copy of the whole parent tree (qpdf copies the elements it reaches in one pass).
    for key, value in number_tree(_copy(packet, other, theirs.get("/ParentTree"))).items():
        entries[key + offset] = value
    for page in copied_pages:
        if isinstance(page.get("/StructParents"), int):
            page.StructParents = int(page.StructParents) + offset
        for annotation in page.get("/Annots", []):
            if isinstance(annotation, pikepdf.Dictionary) and isinstance(
                annotation.get("/StructParent"), int
            ):
                annotation.StructParent = int(annotation.StructParent) + offset
    top = _unwrap(_kids(_copy(packet, other, theirs.K) if "/K" in theirs else None))
    language = lang or (str(other.Root.Lang) if isinstance(other.Root.get("/Lang"), pikepdf.String) else None)
    document.K.append(_part(packet, document, top, pikepdf.String(language) if language else None))
    role_map = theirs.get("/RoleMap")
    if isinstance(role_map, pikepdf.Dictionary):
        mine = root.get("/RoleMap")
        if not isinstance(mine, pikepdf.Dictionary):
            mine = root.RoleMap = pikepdf.Dictionary()
        for role in role_map.keys():  # noqa: SIM118 (pikepdf API)
            if role not in mine:
                mine[role] = role_map[role]
    _write_parent_tree(packet, root, entries)


def _copy(packet: pikepdf.Pdf, source: pikepdf.Pdf, value: Any) -> Any:
    """``value`` of another PDF in ``packet``: indirect objects through the copier that copied the
    pages (so references to them land on the copies), direct containers item by item."""
    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return packet.copy_foreign(value)
    if isinstance(value, pikepdf.Array | pikepdf.Dictionary):
        # qpdf copies indirect objects only: lift the container into its own file (which is
        # only read, never saved), and copy it in one pass.
        return packet.copy_foreign(source.make_indirect(value))
    return value


def _drop_struct_parents(page: pikepdf.Dictionary) -> None:
    if "/StructParents" in page:
        del page["/StructParents"]
    for annotation in page.get("/Annots", []):
        if isinstance(annotation, pikepdf.Dictionary) and "/StructParent" in annotation:
            del annotation["/StructParent"]


def part_of_pages(pdf: pikepdf.Pdf) -> dict[tuple[int, int], pikepdf.Dictionary]:
    """The ``/Part`` element each page's content belongs to (by the page's object id)."""
    document = ensure_parts(pdf)
    found: dict[tuple[int, int], pikepdf.Dictionary] = {}
    if document is None:
        return found
    for part in _kids(document.K):
        stack = _kids(part.get("/K"))
        count = 0
        while stack and count < 200_000:
            item = stack.pop()
            count += 1
            if isinstance(item, pikepdf.Dictionary):
                page = item.get("/Pg")
                if isinstance(page, pikepdf.Dictionary) and page.objgen not in found:
                    found[page.objgen] = part
                stack += _kids(item.get("/K"))
    return found


@attrs.frozen
class FigureTag:
    """A figure consentkit drew inside a page's overlay form, at marked-content id ``mcid``."""

    page: int
    mcid: int
    alt: str


def add_figures(pdf: pikepdf.Pdf, figures: Sequence[FigureTag], forms: dict[int, Any]) -> None:
    """Add ``/Figure`` elements with alternative text for marked content drawn in forms (``forms``:
    the form drawn on each 0-based page), each at the end of the ``/Part`` its page belongs to."""
    if not figures or ensure_parts(pdf) is None:
        return
    root = pdf.Root.StructTreeRoot
    entries = number_tree(root.get("/ParentTree"))
    parts = part_of_pages(pdf)
    document = _kids(root.K)[0]
    by_page: dict[int, list[FigureTag]] = {}
    for figure in figures:
        by_page.setdefault(figure.page, []).append(figure)
    for index, tags in sorted(by_page.items()):
        page = pdf.pages[index].obj
        form = forms[index]
        key = max([int(root.get("/ParentTreeNextKey", 0)), *(k + 1 for k in entries)])
        form.StructParents = key
        parent = parts.get(page.objgen) or _kids(document.K)[-1]
        slots: list[Any] = [None] * (max(t.mcid for t in tags) + 1)
        for tag in sorted(tags, key=lambda t: t.mcid):
            reference = pikepdf.Dictionary(Type=pikepdf.Name.MCR, Pg=page, Stm=form, MCID=tag.mcid)
            element = _element(pdf, "Figure", parent, K=reference, Pg=page, Alt=pikepdf.String(tag.alt))
            parent.K = pikepdf.Array([*_kids(parent.get("/K")), element])
            slots[tag.mcid] = element
        entries[key] = pikepdf.Array(slots)
    _write_parent_tree(pdf, root, entries)


# --- tagging what consentkit draws with reportlab -------------------------------------------------


@attrs.frozen
class DrawnTag:
    """One piece of marked content drawn by consentkit (0-based page, MCID on the page), its
    structure type (``H1``, ``P``, ``TH``...) and, for a table cell, ``(table, row, column,
    scope)`` (scope ``Row`` or ``Column`` for header cells)."""

    page: int
    mcid: int
    kind: str
    cell: tuple[int, int, int, str] | None


class _Node:
    def __init__(self, kind: str, tag: DrawnTag | None = None) -> None:
        self.kind, self.tag = kind, tag
        self.children: list[_Node] = []


def tag_drawn(data: bytes, tags: Sequence[DrawnTag], *, lang: str, title: str) -> bytes:
    """A PDF drawn with marked content (``tags``, in reading order) made a tagged PDF: its
    structure tree (one ``/Document``; table cells grouped into ``/Table`` and ``/TR``), the
    parent tree, ``/MarkInfo``, ``/Lang``, the title shown; everything else drawn is an artifact."""
    document = _Node("Document")
    tables: dict[int, _Node] = {}
    rows: dict[tuple[int, int], _Node] = {}
    for tag in tags:
        if tag.cell is None:
            document.children.append(_Node(tag.kind, tag))
            continue
        table_id, row, _column, _scope = tag.cell
        if table_id not in tables:
            tables[table_id] = _Node("Table")
            document.children.append(tables[table_id])
        if (table_id, row) not in rows:
            rows[table_id, row] = _Node("TR")
            tables[table_id].children.append(rows[table_id, row])
        rows[table_id, row].children.append(_Node(tag.kind, tag))
    with pikepdf.open(io.BytesIO(data)) as pdf:
        mark_artifacts(pdf)
        root = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot))
        by_page: dict[int, dict[int, pikepdf.Dictionary]] = {}

        def build(node: _Node, parent: pikepdf.Dictionary) -> pikepdf.Dictionary:
            element = _element(pdf, node.kind, parent)
            if node.tag is not None:
                page = pdf.pages[node.tag.page].obj
                element.Pg = page
                element.K = node.tag.mcid
                if node.tag.cell is not None and node.kind == "TH":
                    element.A = pikepdf.Dictionary(
                        O=pikepdf.Name.Table, Scope=pikepdf.Name("/" + node.tag.cell[3])
                    )
                by_page.setdefault(node.tag.page, {})[node.tag.mcid] = element
            else:
                element.K = pikepdf.Array([build(child, element) for child in node.children])
            return element

        root.K = pikepdf.Array([build(document, root)])
        entries: dict[int, Any] = {}
        for key, (index, elements) in enumerate(sorted(by_page.items())):
            pdf.pages[index].obj.StructParents = key
            entries[key] = pikepdf.Array([elements.get(m) for m in range(max(elements) + 1)])
        _write_parent_tree(pdf, root, entries)
        pdf.Root.StructTreeRoot = root
        pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=True)
        edit_metadata(pdf, title=title, creator_tool="consentkit", lang=lang)
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()
