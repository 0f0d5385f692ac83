"""Fill DOCX templates with docxtpl in a sandboxed, autoescaped, strict Jinja environment."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from types import SimpleNamespace
from typing import Any

import attrs
import jinja2
from docxtpl import DocxTemplate, RichText
from jinja2.exceptions import SecurityError
from lxml import etree

from ..errors import TemplateError
from ._sandbox import BoundedEnvironment, LimitError, check_package, render_limits

__all__ = [
    "ANCHOR_PREFIX",
    "RenderedDocument",
    "leftover_tags",
    "leftover_tags_in_parts",
    "make_environment",
    "render_docx",
    "to_namespace",
    "translate_render_error",
]

#: Signature places render as invisible text ``ck-sig-<key>`` that the signing step finds in the PDF.
ANCHOR_PREFIX = "ck-sig-"
ROLES = ("client", "co_client", "guardian", "clinician")
_NUMBERED = {"co_client", "guardian"}
_LEFTOVER = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
_TEXT_PARTS = re.compile(r"^word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml$")
_W_TEXT = re.compile(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>")


def make_environment() -> BoundedEnvironment:
    """The Jinja environment every template renders in: sandboxed (immutable), autoescaped,
    strict, and bounded in time and size (see :mod:`consentkit.rendering._sandbox`)."""
    return BoundedEnvironment()


def to_namespace(value: Any) -> Any:
    """Turn nested dicts into attribute-only namespaces (no dict methods for templates to reach)."""
    if isinstance(value, Mapping):
        return SimpleNamespace(**{k: to_namespace(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return [to_namespace(v) for v in value]
    return value


@attrs.frozen
class RenderedDocument:
    """A filled DOCX and the signature places it contains (in order of appearance)."""

    docx: bytes
    signature_places: tuple[str, ...]


def _signature_place_factory(
    template: str, places: list[str], signer_keys: set[str] | None, context: Mapping[str, Any] | None = None
) -> Callable[..., Any]:
    # A reference copy (e.g. the English version beside a signed Spanish one) has no places.
    doc = (context or {}).get("doc")
    reference_only = bool(doc.get("reference_only")) if isinstance(doc, Mapping) else False

    def signature_place(role: str, n: int | None = None) -> RichText:
        if role not in ROLES:
            raise TemplateError(
                f"unknown signature role {role!r} (use one of {', '.join(ROLES)})",
                template=template,
                tag="signature_place",
            )
        if role in _NUMBERED:
            if not isinstance(n, int) or n < 1:
                raise TemplateError(
                    f"signature_place({role!r}, n) needs a number n >= 1",
                    template=template,
                    tag="signature_place",
                )
            key = f"{role}-{n}"
        else:
            key = role
        if signer_keys is not None and key not in signer_keys:
            raise TemplateError(
                f"signature place {key!r} has no signer in this packet",
                template=template,
                tag="signature_place",
            )
        if key in places:
            raise TemplateError(
                f"signature place {key!r} appears twice", template=template, tag="signature_place"
            )
        if reference_only:
            return RichText()
        places.append(key)
        anchor = RichText()
        anchor.add(ANCHOR_PREFIX + key, color="FFFFFF", size=4)
        return anchor

    return signature_place


def leftover_tags(docx: bytes) -> list[str]:
    """Template tags left in the text of a rendered DOCX (body, headers, footers, notes)."""
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return leftover_tags_in_parts((name, archive.read(name)) for name in archive.namelist())


def leftover_tags_in_parts(parts: Iterable[tuple[str, bytes]]) -> list[str]:
    """:func:`leftover_tags` for a package's parts given as (member name, XML bytes) pairs;
    parts other than the body, headers, footers and notes are ignored."""
    found: list[str] = []
    for name, data in parts:
        if _TEXT_PARTS.match(name):
            xml = data.decode("utf-8", errors="replace")
            text = "".join(_W_TEXT.findall(xml))
            found.extend(f"{name}: {m.group(0)}" for m in _LEFTOVER.finditer(text))
    return found


def _undefined_name(exc: jinja2.UndefinedError) -> str | None:
    match = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", str(exc))
    if match is None:
        return None
    return match.group(1) or match.group(2)


def translate_render_error(exc: BaseException, name: str) -> TemplateError:
    """The :class:`TemplateError` for whatever rendering template ``name`` raised."""
    if isinstance(exc, TemplateError):
        return exc
    if isinstance(exc, LimitError):
        return TemplateError(f"stopped at a limit for templates: it {exc}", template=name, tag="limits")
    if isinstance(exc, SecurityError):
        return TemplateError(f"blocked an unsafe expression ({exc})", template=name, tag="sandbox")
    if isinstance(exc, jinja2.UndefinedError):
        tag = _undefined_name(exc)
        return TemplateError(f"unknown variable {tag or exc}", template=name, tag=tag)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        context_text = getattr(exc, "docx_context", None)
        near = f" near: {' '.join(context_text)[:120]!r}" if context_text else ""
        return TemplateError(f"syntax error: {exc.message}{near}", template=name, tag=exc.name)
    if isinstance(exc, zipfile.BadZipFile):
        return TemplateError("not a DOCX file (not a zip archive)", template=name)
    if isinstance(exc, KeyError):
        return TemplateError(f"not a DOCX file (missing part {exc})", template=name)
    if isinstance(exc, jinja2.TemplateError):
        return TemplateError(f"template error: {exc}", template=name)
    if isinstance(exc, etree.LxmlError):
        return TemplateError("not a valid DOCX file (an XML part cannot be read)", template=name)
    if isinstance(exc, RecursionError):
        return TemplateError("nests macros, loops or parts too deeply", template=name, tag="limits")
    if isinstance(exc, MemoryError):
        return TemplateError("ran out of memory", template=name, tag="limits")
    if isinstance(exc, ValueError | TypeError):
        return TemplateError(f"cannot render: {type(exc).__name__}: {exc}", template=name)
    return TemplateError(f"cannot render: {type(exc).__name__}", template=name)


def render_docx(
    template: bytes,
    context: Mapping[str, Any],
    *,
    name: str,
    signer_keys: set[str] | None = None,
) -> RenderedDocument:
    """Fill one DOCX template.

    A new template object is made for every render (docxtpl objects are not safe to share).

    Args:
        template: the DOCX template's bytes.
        context: the variables (plain data; turned into namespaces here), without
            ``signature_place``, which is added here.
        name: the template's name for error messages.
        signer_keys: the signers this packet has; a signature place for anyone else is an error.

    Raises:
        TemplateError: a syntax error, an undefined variable (named in ``tag``), a blocked
            expression, a limit reached (time, loop iterations, sizes; ``tag`` is ``limits``), a
            package too large inside, a tag left in the output, or a bad signature place.
    """
    check_package(template, template=name)
    places: list[str] = []
    variables = {k: to_namespace(v) for k, v in context.items()}
    variables["signature_place"] = _signature_place_factory(name, places, signer_keys, context)
    try:
        with render_limits():
            doc = DocxTemplate(io.BytesIO(template))
            doc.render(variables, jinja_env=make_environment(), autoescape=True)
            out = io.BytesIO()
            doc.save(out)
    except Exception as exc:
        raise translate_render_error(exc, name) from exc
    rendered = out.getvalue()
    leftovers = leftover_tags(rendered)
    if leftovers:
        raise TemplateError(f"tag left in the output: {leftovers[0]}", template=name, tag=leftovers[0])
    return RenderedDocument(docx=rendered, signature_places=tuple(places))
