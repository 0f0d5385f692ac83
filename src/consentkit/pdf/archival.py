"""Check that a PDF's PDF/A claim is consistent with a subset of the PDF/A rules.

No PDF/A validator can be installed with the project (veraPDF needs Java), and pikepdf's
``pdfa_status`` only reads the claim. :func:`check_archival` therefore tests the rules that the
pipeline is known to break without an error: a merge that drops the OutputIntent and XMP, XMP that
no longer parses, a standard font that is not embedded, an attachment without the PDF/A-3 keys.
An empty result means "PDF/A claim consistent (subset of rules)", never "valid PDF/A".

The poppler helpers (:func:`pdffonts_all_embedded`, :func:`pdf_text`) give tests an independent
reading of the same file.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import attrs
import pikepdf

# lxml ships no type information; types-lxml would make this ignore unnecessary.
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from consentkit.errors import ConversionError

__all__ = [
    "ArchivalReport",
    "archival_report",
    "check_archival",
    "font_is_embedded",
    "pdf_text",
    "pdffonts_all_embedded",
    "xmp_problems",
]

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_PDFAID = "http://www.aiim.org/pdfa/ns/id/"
_XML = "http://www.w3.org/XML/1998/namespace"
_TOOL_TIMEOUT = 120.0

# Annotation flags (PDF 32000-1, table 165).
_INVISIBLE, _HIDDEN, _PRINT, _NOVIEW, _TOGGLE_NOVIEW = 1, 2, 4, 32, 256
_NOT_SHOWN = {_INVISIBLE: "Invisible", _HIDDEN: "Hidden", _NOVIEW: "NoView", _TOGGLE_NOVIEW: "ToggleNoView"}
# Actions PDF/A-2 and -3 forbid (ISO 19005-2, 6.5.1).
_FORBIDDEN_ACTIONS = frozenset(
    {
        "/Launch",
        "/Sound",
        "/Movie",
        "/ResetForm",
        "/ImportData",
        "/Hide",
        "/SetOCGState",
        "/Rendition",
        "/Trans",
        "/GoTo3DView",
        "/JavaScript",
    }
)
# Keys whose value is an action (or, for /Next, one or more actions).
_ACTION_KEYS = frozenset({"/A", "/OpenAction", "/Next"})
_FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")


ProblemKind = Literal["structure", "claim"]


@attrs.frozen
class ArchivalReport:
    """What :func:`archival_report` found: each problem with its kind, in the order found.

    ``structure``: the file cannot be read as a sound PDF (``qpdf --check`` fails, it does not
    open, or its objects cannot be walked); ``claim``: the file is a readable PDF whose PDF/A
    claim is inconsistent with a rule.
    """

    found: tuple[tuple[ProblemKind, str], ...]

    @property
    def problems(self) -> list[str]:
        """Every problem, in the order found."""
        return [text for _, text in self.found]

    @property
    def structure(self) -> list[str]:
        return [text for kind, text in self.found if kind == "structure"]

    @property
    def claim(self) -> list[str]:
        return [text for kind, text in self.found if kind == "claim"]


def archival_report(path: Path | bytes, *, part: int = 3) -> ArchivalReport:
    """Check a PDF (a file, or its bytes) against a subset of the PDF/A-``part`` level B rules
    (see :func:`check_archival` for the checks), each problem marked with its kind.

    Raises:
        ValueError: ``part`` is not 1, 2 or 3.
    """
    if part not in (1, 2, 3):
        raise ValueError(f"PDF/A part must be 1, 2 or 3, not {part!r}")
    found: list[tuple[ProblemKind, str]] = []
    named = path if isinstance(path, Path) else Path("input.pdf")
    try:
        pdf = pikepdf.open(path if isinstance(path, Path) else io.BytesIO(path))
    except pikepdf.PasswordError:
        return ArchivalReport((*found, ("claim", "the file is encrypted with a user password")))
    except (pikepdf.PdfError, OSError) as exc:
        return ArchivalReport((*found, ("structure", f"not a readable PDF ({_without_path(exc, named)})")))
    with pdf:
        found += [("structure", p) for p in _syntax_problems(pdf)]
        # Outside input: a malformed object (a flag that is a name, a short array) becomes a
        # problem in the report, never an exception and never a silent pass.
        try:
            for check in (
                _trailer_problems,
                lambda doc: _metadata_problems(doc, part),
                _output_intent_problems,
                _font_problems,
                _action_problems,
                _annotation_problems,
                lambda doc: _attachment_problems(doc, part),
            ):
                found += [("claim", p) for p in check(pdf)]
        except (pikepdf.PdfError, ValueError, TypeError, ArithmeticError, IndexError) as exc:
            found.append(("structure", f"the PDF's objects cannot be checked ({_without_path(exc, named)})"))
    return ArchivalReport(tuple(found))


def check_archival(path: Path | bytes, *, part: int = 3) -> list[str]:
    """Check a PDF against a subset of the PDF/A-``part`` level B rules.

    The checks: qpdf's structure check passes (run in-process through pikepdf); the file is not
    encrypted and has a trailer ``/ID``; the
    XMP parses and claims exactly PDF/A-``part`` conformance B without duplicate properties; a
    ``GTS_PDFA1`` OutputIntent carries an ICC profile; every font that is drawn (pages, form
    XObjects, patterns, Type 3 glyphs, annotation appearances) is embedded; there is no
    JavaScript, no other forbidden action and no ``/AA``; annotations are printed and not hidden
    and have an appearance; attachments carry the keys PDF/A-``part`` requires.

    Args:
        path: the PDF.
        part: the PDF/A part the file must claim (1, 2 or 3).

    Returns:
        Human-readable problems; empty when the claim is consistent with these rules. An empty
        list does not make the file valid PDF/A: only a validator such as veraPDF can say that.

    Raises:
        ValueError: ``part`` is not 1, 2 or 3.
    """
    return archival_report(path, part=part).problems


def xmp_problems(xmp: bytes, *, part: int) -> list[str]:
    """Check an XMP packet's PDF/A identification.

    Args:
        xmp: the bytes of the catalog's ``/Metadata`` stream.
        part: the PDF/A part the packet must claim.

    Returns:
        Problems: the packet does not parse, has no or several ``pdfaid:part`` or
        ``pdfaid:conformance``, claims another part or a conformance other than B, or repeats
        a property.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(xmp, parser)
    except etree.XMLSyntaxError as exc:
        return [f"the XMP metadata does not parse as XML ({exc})"]
    descriptions = list(root.iter(f"{{{_RDF}}}Description"))
    if not descriptions:
        return ["the XMP metadata has no rdf:Description"]
    values: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for description in descriptions:
        for name, value in description.attrib.items():
            if etree.QName(name).namespace not in (_RDF, _XML):
                values.setdefault(name, []).append(str(value))
                labels[name] = _prefixed(description, name)
        for child in description:
            if isinstance(child.tag, str):
                values.setdefault(child.tag, []).append((child.text or "").strip())
                labels[child.tag] = _prefixed(child, child.tag)
    problems = [
        f"the XMP property {labels[name]} appears {len(found)} times"
        for name, found in values.items()
        if len(found) > 1
    ]
    parts = values.get(f"{{{_PDFAID}}}part", [])
    conformances = values.get(f"{{{_PDFAID}}}conformance", [])
    if not parts:
        problems.append("the XMP metadata has no PDF/A identification (pdfaid:part)")
    elif len(parts) == 1 and parts[0] != str(part):
        problems.append(f"the XMP metadata claims PDF/A-{parts[0]}, not PDF/A-{part}")
    if not conformances:
        problems.append("the XMP metadata has no pdfaid:conformance")
    elif len(conformances) == 1 and conformances[0] != "B":
        problems.append(f"the XMP metadata claims conformance {conformances[0]!r}, not 'B'")
    return problems


def pdffonts_all_embedded(path: Path) -> list[str]:
    """Names of the fonts poppler's ``pdffonts`` reports as not embedded (Type 3 fonts excepted).

    An independent cross-check of the font rule in :func:`check_archival`.

    Returns:
        The font names, in ``pdffonts`` order; empty when every font is embedded.

    Raises:
        ConversionError: ``pdffonts`` is not installed or cannot read the file.
    """
    lines = _run_poppler("pdffonts", path).splitlines()
    rule = next((i for i, line in enumerate(lines) if line.startswith("---")), None)
    if rule is None:
        raise ConversionError("pdffonts printed no font table", document=path.name)
    spans = []
    start = 0
    for dashes in lines[rule].split(" "):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 1
    if len(spans) < 4:
        raise ConversionError("pdffonts printed an unexpected font table", document=path.name)
    (name_at, name_end), (type_at, type_end), _, (emb_at, emb_end) = spans[:4]
    missing = []
    for line in lines[rule + 1 :]:
        if not line.strip():
            continue
        if line[emb_at:emb_end].strip() != "yes" and line[type_at:type_end].strip() != "Type 3":
            missing.append(line[name_at:name_end].strip())
    return missing


def pdf_text(path: Path) -> str:
    """The text of a PDF as poppler's ``pdftotext`` extracts it (UTF-8, reading order).

    Raises:
        ConversionError: ``pdftotext`` is not installed or cannot read the file.
    """
    return _run_poppler("pdftotext", path, options=("-enc", "UTF-8"), to_stdout=True)


# --- the checks -------------------------------------------------------------------------------


def _syntax_problems(pdf: pikepdf.Pdf) -> list[str]:
    """What qpdf's own check (``qpdf --check``, run in-process through pikepdf: no program is
    needed at run time) finds wrong with the file's syntax and structure, every stream read."""
    try:
        found = pdf.check_pdf_syntax()
    except (pikepdf.PdfError, ValueError, RuntimeError) as exc:
        return [f"the file structure cannot be checked ({exc})"]
    return [re.sub(r"^(WARNING|ERROR): ", "", str(problem)) for problem in found]


def _trailer_problems(pdf: pikepdf.Pdf) -> list[str]:
    problems = []
    if pdf.is_encrypted:
        problems.append("the file is encrypted")
    file_id = pdf.trailer.get("/ID")
    if not isinstance(file_id, pikepdf.Array) or len(file_id) != 2:
        problems.append("the trailer has no file identifier (/ID)")
    return problems


def _metadata_problems(pdf: pikepdf.Pdf, part: int) -> list[str]:
    metadata = pdf.Root.get("/Metadata")
    if not isinstance(metadata, pikepdf.Stream):
        return ["the catalog has no XMP metadata stream (/Metadata)"]
    return xmp_problems(metadata.read_bytes(), part=part)


def _output_intent_problems(pdf: pikepdf.Pdf) -> list[str]:
    intents = pdf.Root.get("/OutputIntents")
    if not isinstance(intents, pikepdf.Array) or len(intents) == 0:
        return ["the catalog has no /OutputIntents"]
    for intent in intents:
        if (
            isinstance(intent, pikepdf.Dictionary)
            and intent.get("/S") == pikepdf.Name.GTS_PDFA1
            and isinstance(intent.get("/DestOutputProfile"), pikepdf.Stream)
        ):
            return []
    return ["no GTS_PDFA1 OutputIntent with an ICC profile (/DestOutputProfile)"]


def font_is_embedded(font: pikepdf.Dictionary) -> bool:
    """Whether a font's program is in the file: its font descriptor (a Type 0 font's: its
    descendant's) has a font file. Type 3 fonts, drawn by content streams, have none."""
    described: pikepdf.Object | None = font
    if font.get("/Subtype") == pikepdf.Name.Type0:
        descendants = font.get("/DescendantFonts")
        described = descendants[0] if isinstance(descendants, pikepdf.Array) and len(descendants) else None
    descriptor = described.get("/FontDescriptor") if isinstance(described, pikepdf.Dictionary) else None
    return isinstance(descriptor, pikepdf.Dictionary) and any(key in descriptor for key in _FONT_FILES)


def _font_problems(pdf: pikepdf.Pdf) -> list[str]:
    """Fonts reachable from what is drawn: page and appearance resources, recursively."""
    checker = _FontChecker()
    for number, page in enumerate(pdf.pages, start=1):
        checker.resources(page.obj.get("/Resources"), number)
        for annotation in _annotations(page.obj):
            appearances = annotation.get("/AP")
            if not isinstance(appearances, pikepdf.Dictionary):
                continue
            for appearance in appearances.values():
                states = appearance.values() if not isinstance(appearance, pikepdf.Stream) else [appearance]
                for stream in states:
                    checker.content(stream, number)
    return checker.problems


class _FontChecker:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self._seen: set[tuple[int, int]] = set()

    def _first_visit(self, obj: pikepdf.Object) -> bool:
        if not obj.is_indirect:
            return True
        if obj.objgen in self._seen:
            return False
        self._seen.add(obj.objgen)
        return True

    def resources(self, resources: pikepdf.Object | None, page: int) -> None:
        if not isinstance(resources, pikepdf.Dictionary) or not self._first_visit(resources):
            return
        fonts = resources.get("/Font")
        if isinstance(fonts, pikepdf.Dictionary):
            for font in fonts.values():
                self.font(font, page)
        for group in ("/XObject", "/Pattern"):
            children = resources.get(group)
            if isinstance(children, pikepdf.Dictionary):
                for child in children.values():
                    self.content(child, page)

    def content(self, stream: pikepdf.Object, page: int) -> None:
        """A form XObject, tiling pattern or appearance stream: check the fonts it uses."""
        if isinstance(stream, pikepdf.Stream) and self._first_visit(stream):
            self.resources(stream.get("/Resources"), page)

    def font(self, font: pikepdf.Object, page: int) -> None:
        if not isinstance(font, pikepdf.Dictionary) or not self._first_visit(font):
            return
        subtype = font.get("/Subtype")
        if subtype == pikepdf.Name.Type3:
            self.resources(font.get("/Resources"), page)
            return
        if not font_is_embedded(font):
            name = str(font.get("/BaseFont", "(unnamed)")).lstrip("/")
            self.problems.append(f"font {name} is not embedded (used on page {page})")


def _action_problems(pdf: pikepdf.Pdf) -> list[str]:
    """Walk every object reachable from the trailer, looking for scripts and forbidden actions."""
    problems: list[str] = []
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        problems.append("the document has document-level JavaScript (/Names /JavaScript)")
    seen: set[tuple[int, int]] = set()
    # pikepdf hands out numbers, booleans and strings as Python values, hence ``object``.
    stack: list[tuple[object, str]] = [(pdf.trailer, "")]
    while stack:
        obj, key = stack.pop()
        if not isinstance(obj, pikepdf.Array | pikepdf.Dictionary | pikepdf.Stream):
            continue
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Array):
            stack.extend((item, key) for item in obj)
            continue
        if "/AA" in obj:
            problems.append(f"{_describe(obj)} has additional actions (/AA)")
        if "/JS" in obj:
            problems.append(f"{_describe(obj)} contains JavaScript (/JS)")
        action = obj.get("/S")
        is_action = key in _ACTION_KEYS or obj.get("/Type") == pikepdf.Name.Action
        if is_action and isinstance(action, pikepdf.Name) and str(action) in _FORBIDDEN_ACTIONS:
            problems.append(f"the document has a forbidden {str(action).lstrip('/')} action")
        stack.extend((value, child_key) for child_key, value in obj.items())
    return list(dict.fromkeys(problems))


def _annotation_problems(pdf: pikepdf.Pdf) -> list[str]:
    problems = []
    for number, page in enumerate(pdf.pages, start=1):
        for annotation in _annotations(page.obj):
            subtype = str(annotation.get("/Subtype", "/(no subtype)")).lstrip("/")
            if subtype == "Popup":
                continue
            where = f"page {number}: a {subtype} annotation"
            flags = int(annotation.get("/F", 0))
            if not flags & _PRINT:
                problems.append(f"{where} lacks the Print flag")
            hiding = [name for bit, name in _NOT_SHOWN.items() if flags & bit]
            if hiding:
                problems.append(f"{where} is flagged {', '.join(hiding)}")
            appearance = annotation.get("/AP")
            if appearance is None:
                if subtype != "Link" and not _zero_size(annotation.get("/Rect")):
                    problems.append(f"{where} has no appearance stream (/AP)")
            elif isinstance(appearance, pikepdf.Dictionary) and set(appearance.keys()) - {"/N"}:
                problems.append(f"{where} has appearance entries other than /N")
    return problems


def _attachment_problems(pdf: pikepdf.Pdf, part: int) -> list[str]:
    names = pdf.Root.get("/Names")
    tree = names.get("/EmbeddedFiles") if isinstance(names, pikepdf.Dictionary) else None
    attachments = _name_tree(tree)
    if not attachments:
        return []
    if part == 1:
        return ["PDF/A-1 allows no embedded files"]
    listed = pdf.Root.get("/AF")
    associated = (
        {item.objgen for item in listed if item.is_indirect} if isinstance(listed, pikepdf.Array) else set()
    )
    problems = []
    for name, spec in attachments:
        where = f"attachment {name!r}"
        if not isinstance(spec, pikepdf.Dictionary):
            problems.append(f"{where} has no file specification dictionary")
            continue
        problems += [f"{where} has no {key}" for key in ("/F", "/UF") if key not in spec]
        embedded = spec.get("/EF")
        stream = embedded.get("/F") if isinstance(embedded, pikepdf.Dictionary) else None
        if not isinstance(stream, pikepdf.Stream):
            problems.append(f"{where} has no embedded file stream (/EF /F)")
            continue
        mime = stream.get("/Subtype")
        if not isinstance(mime, pikepdf.Name):
            problems.append(f"{where} has no MIME type (/Subtype) on its stream")
        elif part == 2 and str(mime) != "/application#2Fpdf":
            problems.append(f"{where} is not a PDF, and PDF/A-2 allows only PDF/A attachments")
        params = stream.get("/Params")
        if not isinstance(params, pikepdf.Dictionary) or "/ModDate" not in params:
            problems.append(f"{where} has no modification date (/Params /ModDate)")
        if part == 3:
            if "/AFRelationship" not in spec:
                problems.append(f"{where} has no /AFRelationship")
            if not spec.is_indirect or spec.objgen not in associated:
                problems.append(f"{where} is not listed in the catalog's associated files (/AF)")
    return problems


# --- helpers ----------------------------------------------------------------------------------


def _annotations(page: pikepdf.Object) -> list[pikepdf.Dictionary]:
    annotations = page.get("/Annots")
    if not isinstance(annotations, pikepdf.Array):
        return []
    return [a for a in annotations if isinstance(a, pikepdf.Dictionary)]


def _zero_size(rect: pikepdf.Object | None) -> bool:
    if not isinstance(rect, pikepdf.Array) or len(rect) != 4:
        return False
    x1, y1, x2, y2 = (float(v) for v in rect)
    return x1 == x2 and y1 == y2


def _name_tree(node: pikepdf.Object | None, depth: int = 0) -> list[tuple[str, pikepdf.Object]]:
    """The (name, value) pairs of a PDF name tree, leaves in order."""
    if not isinstance(node, pikepdf.Dictionary) or depth > 32:
        return []
    found: list[tuple[str, pikepdf.Object]] = []
    names = node.get("/Names")
    if isinstance(names, pikepdf.Array):
        items = list(names)
        found += [(str(items[i]), items[i + 1]) for i in range(0, len(items) - 1, 2)]
    kids = node.get("/Kids")
    if isinstance(kids, pikepdf.Array):
        for kid in kids:
            found += _name_tree(kid, depth + 1)
    return found


def _describe(obj: pikepdf.Object) -> str:
    kind = obj.get("/Type")
    subtype = obj.get("/Subtype")
    label = str(subtype if isinstance(subtype, pikepdf.Name) else kind or "an object").lstrip("/")
    if obj.is_indirect:
        return f"{label} (object {obj.objgen[0]})"
    return label


def _prefixed(element: etree._Element, name: str) -> str:
    qname = etree.QName(name)
    prefix = next((p for p, uri in element.nsmap.items() if uri == qname.namespace and p), None)
    return f"{prefix}:{qname.localname}" if prefix else name


def _without_path(exc: BaseException, path: Path) -> str:
    """An error message with the file's directories left out (and an in-memory stream's name)."""
    text = re.sub(r"stream <_io\.BytesIO object at 0x[0-9a-fA-F]+>", path.name, str(exc))
    return text.replace(str(path.absolute()), path.name).replace(str(path), path.name)


def _run_poppler(tool: str, path: Path, *, options: Sequence[str] = (), to_stdout: bool = False) -> str:
    executable = shutil.which(tool)
    if executable is None:
        raise ConversionError(f"{tool} not found; install poppler-utils")
    command = [executable, *options, str(path.absolute()), *(["-"] if to_stdout else [])]
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=_TOOL_TIMEOUT, check=False, text=True, errors="replace"
        )
    except subprocess.TimeoutExpired as exc:
        raise ConversionError(
            f"{tool} did not finish within {_TOOL_TIMEOUT:g} s", document=path.name
        ) from exc
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise ConversionError(f"{tool} failed: {detail[0]}", document=path.name)
    return done.stdout
