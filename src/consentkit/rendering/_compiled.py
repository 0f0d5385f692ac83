"""Compile-once rendering: parse and compile each DOCX template once per process, fill it per client.

:func:`~consentkit.rendering.render_docx` makes a fresh ``DocxTemplate`` for every document: it
unzips and parses the package, runs docxtpl's regular-expression clean-up of the XML and compiles
the result with Jinja before it fills anything, and then re-serialises every part. Those steps do
not depend on the client. :class:`CompiledRenderer` runs them once per template (docxtpl's own
``patch_xml``, the same Jinja environment), keeps the compiled Jinja templates and the package's
unchanged members, and per document only renders, applies docxtpl's post-processing, and zips the
rendered parts next to the unchanged members. The rendered parts are the ones docxtpl renders: the
body of ``word/document.xml``, headers, footers, footnotes and the core properties.

The result is the same document: the same XML in every part (``tests/test_batch_compiled.py``
checks it part by part against :func:`render_docx` for every stock template), the same sandbox,
autoescaping and strict undefined variables, the same signature places and the same leftover-tag
check. Errors are the same too: when anything goes wrong, the document is rendered again with
:func:`render_docx`, which raises the usual :class:`~consentkit.errors.TemplateError` (and gives
the plain render's output should it, against expectation, succeed). Unlike docxtpl's output, the
zip members carry a fixed timestamp, so the same inputs give the same bytes.
"""

from __future__ import annotations

import copy
import hashlib
import io
import re
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import jinja2
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.opc.coreprops import CoreProperties
from docx.opc.oxml import serialize_part_xml
from docx.oxml.ns import nsmap, qn
from docx.oxml.parser import parse_xml
from docxtpl import DocxTemplate

from ._docx import (
    RenderedDocument,
    _signature_place_factory,
    leftover_tags,
    leftover_tags_in_parts,
    make_environment,
    render_docx,
    to_namespace,
    translate_render_error,
)
from ._sandbox import LimitError, check_package, render_limits

__all__ = ["CompiledRenderer", "CompiledTemplate", "compiled_renderer"]

#: The core properties docxtpl renders as templates (``DocxTemplate.render_properties``).
_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
_FOOTNOTES_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_LISTING_CHARS = re.compile("[\t\a\n\f]")


def _post_process(tpl: DocxTemplate, rendered: str) -> str:
    """What ``DocxTemplate.render_xml_part`` does to a part after Jinja has rendered it."""
    # docxtpl's re.sub(r"\n<w:p([ >])", r"<w:p\1", ...), without the per-match cost of a regex
    xml = rendered.replace("\n<w:p ", "<w:p ").replace("\n<w:p>", "<w:p>")
    xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
    # resolve_listing only rewrites these characters (and is the costliest step); without them it
    # returns its input unchanged.
    if not _LISTING_CHARS.search(xml):
        return xml
    result: str = tpl.resolve_listing(xml)
    return result


def _compile(env: jinja2.Environment, tpl: DocxTemplate, xml: str) -> jinja2.Template:
    """docxtpl's clean-up, the line breaks ``render_xml_part`` adds, then Jinja's compilation."""
    return env.from_string(re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(xml)))


class CompiledTemplate:
    """One DOCX template, parsed and compiled, ready to be filled any number of times.

    Filling is safe from several threads at once: nothing compiled is changed by a render.
    """

    def __init__(self, template: bytes) -> None:
        """Compile a template.

        Raises:
            Exception: anything docxtpl, python-docx, lxml or Jinja raise for a broken template;
                :class:`CompiledRenderer` then leaves the template to :func:`render_docx`.
        """
        tpl = DocxTemplate(io.BytesIO(template))
        tpl.render_init()
        self._tpl = tpl
        self._env = make_environment()
        document = tpl.docx
        package = document.part.package

        self._document_member: str = document.part.partname.membername
        self._body = _compile(self._env, tpl, tpl.get_xml())
        shell = copy.deepcopy(document.element)
        body = shell.find(qn("w:body"))
        for child in list(body):
            body.remove(child)
        self._shell = shell

        self._headers_footers: list[tuple[str, str, jinja2.Template]] = []
        for uri in (DocxTemplate.HEADER_URI, DocxTemplate.FOOTER_URI):
            for _rel, part in tpl.get_headers_footers(uri):
                xml = tpl.get_part_xml(part)
                encoding = tpl.get_headers_footers_encoding(xml)
                self._headers_footers.append(
                    (part.partname.membername, encoding, _compile(self._env, tpl, xml))
                )

        # Reading the core properties makes python-docx add a default part when the template has
        # none, as it does inside docxtpl's render; the base package below then includes it.
        core = document.core_properties
        self._properties = [(prop, self._env.from_string(getattr(core, prop))) for prop in _PROPERTIES]
        core_part = package.part_related_by(RELATIONSHIP_TYPE.CORE_PROPERTIES)
        self._core_member: str = core_part.partname.membername
        self._core_element = copy.deepcopy(core_part._element)

        # docxtpl renders the footnotes once per section, each pass over the previous output.
        self._footnote_passes = len(document.sections)
        self._footnotes: list[tuple[str, jinja2.Template]] = []
        for part in package.parts:
            if part.content_type == _FOOTNOTES_TYPE:
                blob = part.blob
                xml = blob.decode("utf-8") if isinstance(blob, bytes) else blob
                self._footnotes.append((part.partname.membername, _compile(self._env, tpl, xml)))

        # The package python-docx would save, minus the parts every render replaces.
        saved = io.BytesIO()
        document.save(saved)
        rendered = {self._document_member, self._core_member}
        rendered.update(member for member, _enc, _t in self._headers_footers)
        rendered.update(member for member, _t in self._footnotes)
        base = io.BytesIO()
        with zipfile.ZipFile(saved) as source, zipfile.ZipFile(base, "w") as target:
            for info in source.infolist():
                if info.filename not in rendered:
                    target.writestr(self._member(info.filename), source.read(info))
        self._base = base.getvalue()
        # A tag in a part docxtpl does not render (endnotes) is left in every output: let
        # render_docx report it.
        if leftover_tags(self._base):
            raise ValueError("tag in a part that is not rendered")

    @staticmethod
    def _member(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    def render(
        self, context: Mapping[str, Any], *, name: str, signer_keys: set[str] | None = None
    ) -> RenderedDocument:
        """Fill the template (arguments as for :func:`render_docx`).

        Raises:
            Exception: whatever the render raises; :class:`CompiledRenderer` translates it.
        """
        places: list[str] = []
        variables = {k: to_namespace(v) for k, v in context.items()}
        variables["signature_place"] = _signature_place_factory(name, places, signer_keys, context)
        tpl = self._tpl
        parts: list[tuple[str, bytes]] = []

        # The same order as DocxTemplate.render: body, headers, footers, properties, footnotes.
        tree = tpl.fix_tables(_post_process(tpl, self._body.render(variables)))
        for number, element in enumerate(tree.xpath("//wp:docPr", namespaces=nsmap), start=1001):
            element.attrib["id"] = str(number)
        root = copy.deepcopy(self._shell)
        root.replace(root.find(qn("w:body")), tree)
        parts.append((self._document_member, serialize_part_xml(root)))

        for member, encoding, template in self._headers_footers:
            data = _post_process(tpl, template.render(variables)).encode(encoding)
            parts.append((member, serialize_part_xml(parse_xml(data))))

        core = copy.deepcopy(self._core_element)
        properties = CoreProperties(core)
        for prop, template in self._properties:
            setattr(properties, prop, template.render(variables))
        parts.append((self._core_member, serialize_part_xml(core)))

        for member, template in self._footnotes:
            xml = _post_process(tpl, template.render(variables))
            for _ in range(self._footnote_passes - 1):
                xml = _post_process(tpl, _compile(self._env, tpl, xml).render(variables))
            parts.append((member, xml.encode("utf-8")))

        out = io.BytesIO(self._base)
        out.seek(0, io.SEEK_END)
        with zipfile.ZipFile(out, "a") as archive:
            for member, data in parts:
                # Fastest deflate: LibreOffice reads the package once, and it is archived as PDF.
                archive.writestr(self._member(member), data, compresslevel=1)
        # The rendered parts are the only ones with text that can hold a tag (the unchanged
        # members were checked when the template compiled).
        if leftover_tags_in_parts(parts):
            raise ValueError("tag left in the output")
        return RenderedDocument(docx=out.getvalue(), signature_places=tuple(places))


class CompiledRenderer:
    """A :class:`~consentkit.packet.DocxRenderer` that compiles each template once per process.

    Templates are recognised by their SHA-256, so a changed template file is compiled afresh.
    The output equals :func:`render_docx`'s; a template that cannot be compiled, and any render
    that fails, goes through :func:`render_docx`, which raises the usual errors.

    Attributes:
        fallbacks: how many documents were rendered by :func:`render_docx` instead.
    """

    def __init__(self, max_templates: int = 64) -> None:
        self._cache: OrderedDict[bytes, CompiledTemplate | None] = OrderedDict()
        self._max = max_templates
        self._lock = threading.Lock()
        self.fallbacks = 0

    def compiled(self, template: bytes) -> CompiledTemplate | None:
        """The compiled form of a template (``None`` if it cannot be compiled)."""
        key = hashlib.sha256(template).digest()
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            check_package(template, template="")  # never unpack a zip bomb, even to compile it
            compiled: CompiledTemplate | None = CompiledTemplate(template)
        except Exception:
            compiled = None
        with self._lock:
            self._cache[key] = compiled
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return compiled

    def __call__(
        self, template: bytes, context: Mapping[str, Any], *, name: str, signer_keys: set[str] | None = None
    ) -> RenderedDocument:
        """Fill one DOCX template, as :func:`render_docx` does.

        Raises:
            TemplateError: as :func:`render_docx` raises it.
        """
        compiled = self.compiled(template)
        if compiled is not None:
            try:
                with render_limits():
                    return compiled.render(context, name=name, signer_keys=signer_keys)
            except (LimitError, RecursionError, MemoryError) as exc:
                # A render stopped at a limit would only stop again, after as long: say so now.
                raise translate_render_error(exc, name) from exc
            except Exception:  # noqa: S110 - render_docx below raises the translated error
                pass
        with self._lock:
            self.fallbacks += 1
        return render_docx(template, context, name=name, signer_keys=signer_keys)


#: The process-wide compile-once renderer (batch workers share its cache).
compiled_renderer = CompiledRenderer()
