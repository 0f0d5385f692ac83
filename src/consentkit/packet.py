"""Render a client's packet: filled DOCX documents, PDF/A-3b conversions, the merged review PDF
and the manifest that later signing steps check against.

A packet folder holds ``<template id>.docx`` and ``.pdf`` for every document, ``packet.pdf`` (all
documents merged for the client's review) and ``manifest.json``. The folder is written in a
staging folder beside it and moved into place when complete, so it is never seen half written.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import pikepdf

from ._catalogue import match_locale
from ._files import (
    DIR_MODE,
    owner_tag,
    remove_dead_leftovers,
    replace_dir,
    sha256_file,
    sync_folder,
    write_private,
)
from ._memory import Packet, temporary_folder
from ._version import __version__
from .errors import InputError, OutputExistsError, PacketError
from .models import Client, Practice
from .pdf.markers import Marker, strip_markers
from .pdf.merge import merge_documents
from .pdf.metadata import edit_metadata
from .pdf.tagging import drop_lead_page, group_parts, mark_artifacts
from .records import (
    ARCHIVE_NAME,
    MANIFEST_NAME,
    PACKET_NAME,
    DocumentEntry,
    Manifest,
    PacketFile,
    SignatureAnchor,
    SignerEntry,
    TemplateSetRecord,
)
from .rendering import (
    ANCHOR_PREFIX,
    END_MARKER,
    RenderedDocument,
    RuleSlots,
    TemplateSet,
    build_context,
    clause_texts,
    compiled_renderer,
    composable_reason,
    compose_docx,
    load_template_set,
    packet_facts,
    read_package,
    render_docx,
    slots_from_rules,
    uncovered_fields,
)
from .rules import ResolvedRules, resolve_rules

if TYPE_CHECKING:
    from .convert import Converter

__all__ = [
    "MANIFEST_NAME",
    "PACKET_NAME",
    "DocxRenderer",
    "Packet",
    "RenderResult",
    "StagedPacket",
    "choose_template_set",
    "compose_staged",
    "composes",
    "finish_composed_packet",
    "finish_packet",
    "lays_out_fully",
    "render_packet",
    "render_packet_bytes",
    "stage_packet",
]


class DocxRenderer(Protocol):
    """Fills one DOCX template (see :func:`consentkit.rendering.render_docx`)."""

    def __call__(
        self, template: bytes, context: Mapping[str, Any], *, name: str, signer_keys: set[str] | None = None
    ) -> RenderedDocument: ...


@attrs.frozen
class RenderResult:
    """What :func:`render_packet` wrote."""

    out_dir: Path
    manifest: Manifest
    warnings: tuple[str, ...]
    #: SHA-256 of ``manifest.json`` as written.
    manifest_sha256: str = ""

    @property
    def packet_pdf(self) -> Path:
        return self.out_dir / PACKET_NAME

    def load(self) -> Packet:
        """The packet the folder holds, in memory (see :class:`~consentkit.Packet`)."""
        return Packet.read(self.out_dir)


def choose_template_set(
    preferred: str, *, force: str | None = None, fallback: str = "en-US"
) -> tuple[TemplateSet, list[str]]:
    """Pick the stock template set for a client's preferred language.

    The fallback chain: the exact locale (``es-US``); else another locale of the same language
    (``es-MX`` and ``es`` give ``es-US``); else ``fallback`` (the practice's default language,
    itself matched the same way), else ``en-US``, with a warning. ``force`` (a locale, a language
    such as ``es``, or the folder of a custom set) skips the chain.

    Raises:
        TemplateError: a forced language has no template set.

    Returns:
        The template set and the warnings to record in the manifest.
    """
    if force:
        if Path(force).is_dir():
            return load_template_set(force), []
        return load_template_set(match_locale(force) or force), []
    matched = match_locale(preferred)
    if matched:
        return load_template_set(matched), []
    used = match_locale(fallback) or "en-US"
    warning = f"no template set for preferred language {preferred!r}; used {used}"
    return load_template_set(used), [warning]


def _check_target(out_dir: Path) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise OutputExistsError(f"{out_dir.name} exists and is not a folder")
    if (out_dir / ARCHIVE_NAME).exists():
        raise OutputExistsError(f"{out_dir.name} holds a finalized archive; it is never overwritten")
    if any(out_dir.iterdir()) and not (out_dir / MANIFEST_NAME).is_file():
        raise OutputExistsError(f"{out_dir.name} is not empty and is not a consentkit packet folder")


@attrs.frozen
class StagedPacket:
    """A packet whose DOCX files are rendered into a staging folder and wait for conversion.

    Produced by :func:`stage_packet`; :func:`finish_packet` completes it once the PDFs exist.
    Batch generation stages many packets, converts all their documents together, then finishes
    each.
    """

    out_dir: Path
    staging: Path
    docx_paths: tuple[Path, ...]
    #: The manifest so far: its documents lack their PDFs, and ``packet`` is ``None``.
    manifest: Manifest
    warnings: tuple[str, ...]

    def discard(self) -> None:
        """Remove the staging folder (after a failure)."""
        shutil.rmtree(self.staging, ignore_errors=True)


def stage_packet(
    practice: Practice,
    client: Client,
    out_dir: str | Path,
    *,
    template_set: TemplateSet | None = None,
    template_warnings: Sequence[str] = (),
    language: str | None = None,
    on: date | None = None,
    now: datetime | None = None,
    packet_id: str | None = None,
    rules: RuleSlots | None = None,
    template_ids: Sequence[str] | None = None,
    renderer: DocxRenderer | None = None,
    state_rules: bool = True,
    include_english: bool = False,
) -> StagedPacket:
    """Render a client's DOCX documents into a staging folder beside ``out_dir``.

    Arguments as for :func:`render_packet`; ``renderer`` replaces :func:`render_docx` (batch
    generation passes a compile-once renderer with the same output); ``template_warnings`` are
    the warnings of the choice of ``template_set`` (:func:`choose_template_set`), when the caller
    chose it.

    Raises:
        InputError, TemplateError, OutputExistsError, PacketError, JurisdictionError, RulesError:
            as for :func:`render_packet`.
    """
    out_dir = Path(out_dir)
    now = now or datetime.now(UTC)
    on = on or now.date()
    packet_id = packet_id or str(uuid.uuid4())
    render = renderer or render_docx
    warnings: list[str] = list(template_warnings)
    if template_set is None:
        template_set, chosen = choose_template_set(
            client.preferred_language, force=language, fallback=practice.default_language
        )
        warnings.extend(chosen)
    if template_set.locale != "en-US" and not template_set.translation_reviewed_by:
        warnings.append(
            f"the {template_set.locale} translation has not been reviewed by a qualified translator"
        )
    templates = [t for t in template_set.templates if template_ids is None or t.id in template_ids]
    if not templates:
        raise PacketError("no templates selected")
    _check_target(out_dir)
    # A character no installed font has would be drawn as an empty box, without a word.
    for model, prefix in ((client, "client"), (practice, "practice")):
        missing = uncovered_fields(model, prefix)
        if missing:
            raise InputError(
                "has a character that no installed font can show (it would print as an empty box); "
                "install a font that covers it (CJK: fonts-noto-cjk) or correct the value",
                field=missing[0],
            )
    rules_record: dict[str, Any] | None = None
    resolved: ResolvedRules | None = None
    if rules is None and state_rules:
        try:
            clinician = practice.clinician(client.clinician_id)
        except ValueError as exc:
            raise InputError("no clinician of the practice has this id", field="clinician_id") from exc
        resolved = resolve_rules(practice, clinician, client, on)
        warnings.extend(resolved.warnings)
        rules = slots_from_rules(resolved, template_set, warnings=warnings)
        rules_record = resolved.to_record()
    slots = rules or RuleSlots.defaults(client.session_address.state, template_set)
    facts = packet_facts(practice, client, slots, on)
    context = build_context(
        practice, client, templates=template_set, on=on, packet_id=packet_id, rules=slots, warnings=warnings
    )
    absent = client.local_resources.missing()
    if absent:
        fields = ", ".join(f"local_resources.{_RESOURCE_FIELD[m]}" for m in absent)
        warnings.append(
            "the emergency plan has no local emergency resources for the session address "
            f"({fields}): a clinician's 911 call reaches the clinician's own dispatch centre"
        )
    signer_keys = {s.key for s in facts.signers}
    out_dir.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    # What an earlier, killed render of this folder left (client documents included) goes first.
    remove_dead_leftovers(out_dir.parent, (f".{out_dir.name}.staging-", f".{out_dir.name}.old-"))
    staging = _staging_folder(out_dir)
    # The signed documents in the client's language; with include_english, an unsigned English
    # copy of each follows for reference (a Spanish-speaking client's family, a court, a board).
    batches = [(template_set, templates, context, False)]
    if include_english and template_set.locale != "en-US":
        english = load_template_set("en-US")
        english_rules = (
            slots_from_rules(resolved, english, warnings=warnings) if resolved is not None else rules
        )
        if english_rules is None:
            english_rules = RuleSlots.defaults(client.session_address.state, english)
        english_context = build_context(
            practice,
            client,
            templates=english,
            on=on,
            packet_id=packet_id,
            rules=english_rules,
            warnings=warnings,
        )
        chosen_ids = {t.id for t in templates}
        batches.append((english, [t for t in english.templates if t.id in chosen_ids], english_context, True))
    try:
        documents: list[DocumentEntry] = []
        docx_paths: list[Path] = []
        for doc_set, doc_templates, doc_base, reference in batches:
            for info in doc_templates:
                doc_id = f"{info.id}.{doc_set.locale}" if reference else info.id
                doc_context = dict(doc_base)
                doc_context["doc"] = {
                    "title": info.title,
                    "template_id": info.id,
                    "packet_id": packet_id,
                    "date": doc_base["_packet"]["date"],
                    "locale": doc_set.locale,
                    "reference_only": reference,
                }
                rendered = render(info.data, doc_context, name=info.path.name, signer_keys=signer_keys)
                docx_path = staging / f"{doc_id}.docx"
                write_private(docx_path, rendered.docx)
                docx_paths.append(docx_path)
                documents.append(
                    DocumentEntry(
                        id=doc_id,
                        title=info.title,
                        locale=doc_set.locale,
                        reference_only=reference,
                        template_file=info.path.name,
                        template_sha256=info.sha256,
                        docx=docx_path.name,
                        docx_sha256=hashlib.sha256(rendered.docx).hexdigest(),
                        signature_places=tuple(rendered.signature_places),
                    )
                )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    manifest = Manifest(
        packet_id=packet_id,
        generated_at=now,
        document_date=on,
        consentkit_version=__version__,
        locale=template_set.locale,
        template_set=TemplateSetRecord(
            locale=template_set.locale,
            translation_reviewed_by=template_set.translation_reviewed_by,
            translation_reviewed_on=template_set.translation_reviewed_on,
        ),
        title=template_set.phrase("packet", "title", packet_id=packet_id),
        practice_name=practice.name,
        time_zone=practice.time_zone,
        client_id=client.id,
        clinician_id=facts.clinician.id,
        state=client.session_address.state,
        minor=facts.minor,
        signers=tuple(
            SignerEntry(key=s.key, role=s.role, language=template_set.locale) for s in facts.signers
        ),
        rules=rules_record,
        clauses=clause_texts(slots, template_set, minor=facts.minor),
        documents=tuple(documents),
        warnings=tuple(dict.fromkeys(warnings)),
    )
    return StagedPacket(
        out_dir=out_dir,
        staging=staging,
        docx_paths=tuple(docx_paths),
        manifest=manifest,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def finish_packet(staged: StagedPacket, pdf_paths: Sequence[Path]) -> RenderResult:
    """Merge the converted PDFs, write the manifest and move the packet folder into place.

    ``pdf_paths`` are the PDF/A conversions of ``staged.docx_paths``, in order, inside the staging
    folder. The staging folder is removed whether this succeeds or fails.

    Raises:
        PacketError: a PDF is unreadable or the merge failed.
        OutputExistsError: the target became unreplaceable meanwhile.
    """
    try:
        manifest = staged.manifest
        places = [
            _take_anchors(pdf, document) for document, pdf in zip(manifest.documents, pdf_paths, strict=True)
        ]
        packet_bytes, counts = merge_documents(
            pdf_paths, title=manifest.title or manifest.packet_id, subject=manifest.practice_name
        )
        documents = []
        first_page = 1
        for document, pdf, pages, markers in zip(manifest.documents, pdf_paths, counts, places, strict=True):
            anchors = tuple(
                SignatureAnchor(key=m.text[len(ANCHOR_PREFIX) :], page=first_page + m.page, x=m.x, y=m.y)
                for m in markers
            )
            documents.append(
                attrs.evolve(
                    document,
                    pdf=pdf.name,
                    pdf_sha256=sha256_file(pdf),
                    pages=pages,
                    packet_pages=(first_page, first_page + pages - 1),
                    signature_anchors=anchors,
                )
            )
            first_page += pages
        return _place_packet(staged, documents, packet_bytes, first_page - 1)
    finally:
        staged.discard()


def _place_packet(
    staged: StagedPacket, documents: Sequence[DocumentEntry], packet_bytes: bytes, pages: int
) -> RenderResult:
    """Write ``packet.pdf`` and the manifest into the staging folder and move it into place."""
    write_private(staged.staging / PACKET_NAME, packet_bytes)
    manifest = attrs.evolve(
        staged.manifest,
        documents=tuple(documents),
        packet=PacketFile(file=PACKET_NAME, sha256=hashlib.sha256(packet_bytes).hexdigest(), pages=pages),
    )
    data = manifest.to_json()
    write_private(staged.staging / MANIFEST_NAME, data)
    sync_folder(staged.staging)
    _check_target(staged.out_dir)
    replace_dir(staged.staging, staged.out_dir)
    # Again now: a killed render's LibreOffice, ended only when this render's converter
    # started, may have been writing into its staging folder when stage_packet removed it.
    name = staged.out_dir.name
    remove_dead_leftovers(staged.out_dir.parent, (f".{name}.staging-", f".{name}.old-"))
    return RenderResult(
        out_dir=staged.out_dir,
        manifest=manifest,
        warnings=staged.warnings,
        manifest_sha256=hashlib.sha256(data).hexdigest(),
    )


def lays_out_fully(converter: object) -> bool:
    """Whether ``converter`` lays a joined document out as its parts alone (``full_layout``: the
    :class:`~consentkit.warm.WarmConverter`). ``soffice --convert-to`` does not: on 100 synthetic
    packets joined and converted that way, every packet had a page laid out differently, against
    none of 100 through the warm converter (docs/batch.md, "Composed conversion")."""
    return bool(getattr(converter, "full_layout", False))


def composes(compose: bool, converter: object) -> bool:
    """Whether a packet asked to ``compose`` is converted joined: only with a converter that
    :func:`lays_out_fully`. When it is asked but the converter does not, says so (INFO on
    ``consentkit.packet``): the documents are then converted one by one."""
    if not compose:
        return False
    if lays_out_fully(converter):
        return True
    _LOG.info("composed conversion needs a converter that lays documents out fully (WarmConverter)")
    return False


def compose_staged(staged: StagedPacket) -> bytes | None:
    """The staged documents joined into one DOCX for one conversion (see
    :mod:`consentkit.rendering._compose`), or ``None`` when they cannot be joined faithfully
    (different page geometry, several sections, their own page fields, images or links, numbered
    lists, different styles): those are converted one by one. So are documents whose joining
    fails for any other reason: the separate conversion then reports any real problem with one."""
    try:
        documents = [(path.name, read_package(path.read_bytes())) for path in staged.docx_paths]
        reason = composable_reason(documents)
        if reason is None:
            return compose_docx([package for _, package in documents])
    # lxml's XMLSyntaxError is a SyntaxError.
    except (OSError, ValueError, SyntaxError, zipfile.BadZipFile) as exc:
        reason = f"joining failed ({type(exc).__name__})"
    _LOG.info("converting the documents one by one: %s", reason)
    return None


def finish_composed_packet(staged: StagedPacket, pdf_path: Path) -> RenderResult:
    """Make the packet from the conversion of :func:`compose_staged`'s DOCX: drop the lead page,
    find where each document ends and each signature place is (removing the markers), group the
    structure tree per document and write ``packet.pdf`` and the manifest.

    The documents are not written as PDFs of their own: the manifest keeps each document's pages
    in ``packet.pdf`` (``packet_pages``) and its DOCX with its hash. The staging folder is removed
    whether this succeeds or fails.

    Raises:
        PacketError: the PDF is unreadable, or a document's end or signature place is missing.
        OutputExistsError: the target became unreplaceable meanwhile.
    """
    try:
        manifest = staged.manifest
        count = len(manifest.documents)
        try:
            with pikepdf.open(pdf_path) as doc:
                # One pass over the pages for both kinds of marker, then the artifacts (each page's
                # new content is compressed once).
                found = strip_markers(doc, _ANCHOR_OR_END)
                mark_artifacts(doc)
                ends = [m for m in found if m.text.startswith(END_MARKER)]
                markers = [m for m in found if not m.text.startswith(END_MARKER)]
                # Page n of the joined conversion (0-based, lead page first) is page n of the packet.
                last_pages = _document_ends(ends, count, len(doc.pages) - 1)
                drop_lead_page(doc)
                group_parts(doc, [page - 1 for page in last_pages])
                edit_metadata(doc, title=manifest.title or manifest.packet_id, subject=manifest.practice_name)
                out = io.BytesIO()
                doc.save(out)
        except (pikepdf.PdfError, OSError, ValueError) as exc:
            raise PacketError(f"the joined conversion is not a readable PDF ({exc})") from exc
        documents = []
        first_page = 1
        for document, last_page in zip(manifest.documents, last_pages, strict=True):
            mine = [m for m in markers if first_page <= m.page <= last_page]
            _check_places(document, mine)
            anchors = tuple(
                SignatureAnchor(key=m.text[len(ANCHOR_PREFIX) :], page=m.page, x=m.x, y=m.y) for m in mine
            )
            documents.append(
                attrs.evolve(
                    document,
                    pages=last_page - first_page + 1,
                    packet_pages=(first_page, last_page),
                    signature_anchors=anchors,
                )
            )
            first_page = last_page + 1
        return _place_packet(staged, documents, out.getvalue(), first_page - 1)
    finally:
        staged.discard()


def _document_ends(ends: Sequence[Marker], count: int, pages: int) -> list[int]:
    """Each document's last page in the packet (1-based), from the end markers of the joined
    conversion."""
    found: dict[int, int] = {}
    for marker in ends:
        number = int(marker.text[len(END_MARKER) :])
        if number in found:
            raise PacketError(f"the end of document {number} appears twice in the joined conversion")
        found[number] = marker.page
    if sorted(found) != list(range(1, count + 1)):
        raise PacketError("the end of a document is missing from the joined conversion")
    last_pages = [found[number] for number in range(1, count + 1)]
    if last_pages != sorted(last_pages) or last_pages[0] < 1 or last_pages[-1] != pages:
        raise PacketError("the documents' ends are out of order in the joined conversion")
    return last_pages


#: The client-file field behind each missing local resource.
_RESOURCE_FIELD = {
    "dispatch": "dispatch_phone",
    "emergency_room": "emergency_room",
    "crisis_line": "crisis_line_phone",
}

_ANCHOR = re.compile(re.escape(ANCHOR_PREFIX) + r"(?:client|clinician|co_client-\d+|guardian-\d+)")
_ANCHOR_OR_END = re.compile(f"{_ANCHOR.pattern}|{re.escape(END_MARKER)}\\d+")
_LOG = logging.getLogger(__name__)


def _take_anchors(pdf: Path, document: DocumentEntry) -> list[Marker]:
    """Read where each signature place of a converted document is, and remove the anchor text.

    The anchors are invisible text in the DOCX so that LibreOffice places them exactly; no PDF a
    person receives may keep them (they would be copied, extracted and read aloud).

    Raises:
        PacketError: a signature place is missing from the PDF or appears twice.
    """
    try:
        with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
            markers = strip_markers(doc, _ANCHOR)
            # LibreOffice leaves some lines (borders, rules) untagged: mark them as artifacts so
            # a screen reader skips them and every page is fully tagged (PDF/UA). After the
            # markers, so that each page's new content is compressed once (see _content).
            marked = mark_artifacts(doc)
            if marked or markers:
                doc.save(pdf)
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise PacketError(f"{pdf.name}: not a readable PDF ({exc})") from exc
    _check_places(document, markers)
    return markers


def _check_places(document: DocumentEntry, markers: Sequence[Marker]) -> None:
    found = [m.text[len(ANCHOR_PREFIX) :] for m in markers]
    for key in document.signature_places:
        if found.count(key) != 1:
            how = "is missing from" if key not in found else "appears more than once in"
            raise PacketError(f"{document.id}: the signature place for {key} {how} the converted PDF")


def render_packet(
    practice: Practice,
    client: Client,
    out_dir: str | Path,
    *,
    template_set: TemplateSet | None = None,
    language: str | None = None,
    on: date | None = None,
    now: datetime | None = None,
    packet_id: str | None = None,
    converter: Converter | None = None,
    rules: RuleSlots | None = None,
    template_ids: Sequence[str] | None = None,
    state_rules: bool = True,
    include_english: bool = False,
    compose: bool = False,
) -> RenderResult:
    """Render, convert and merge one client's packet into ``out_dir``.

    Args:
        practice: the practice.
        client: the client.
        out_dir: the packet folder to write (replaced if it holds an earlier render; refused if it
            holds a finalized archive or unrelated files).
        template_set: the templates to use; default: chosen from the client's preferred language.
        language: force a stock locale (or custom set folder) instead of the client's language.
        on: the document date (default: today in UTC).
        now: the generation time recorded in the manifest (default: now, UTC).
        packet_id: the packet's id (default: a new random UUID).
        converter: the DOCX to PDF converter (default: a private LibreOffice started for this
            call, about a second of start-up). A long-lived process passes a
            :class:`~consentkit.warm.WarmConverter`, which keeps LibreOffice running.
        rules: explicit state-rule clauses; by default they are resolved from the state rule data
            for the state where the client is during sessions (see :mod:`consentkit.rules`).
        template_ids: render only these templates of the set.
        state_rules: with ``False`` (and no ``rules``), use the template set's neutral clauses
            and skip the jurisdiction check.
        include_english: when the documents are not in English, add an unsigned English copy of
            each after them, for reference (marked ``reference_only`` in the manifest).
        compose: convert the documents as one joined DOCX (one LibreOffice load instead of one
            per document, see :func:`compose_staged`); the folder then holds ``packet.pdf`` and the
            DOCX files but no PDF per document. Used only with a ``converter`` that lays documents
            out fully (a :class:`~consentkit.warm.WarmConverter`, :func:`lays_out_fully`);
            otherwise, and for documents that cannot be joined faithfully, the documents are
            converted one by one as without it.

    Raises:
        InputError: the client's data does not fit the packet.
        TemplateError: a template failed to render.
        ConversionError: LibreOffice failed.
        OutputExistsError: ``out_dir`` must not be replaced.
        JurisdictionError: the clinician holds no license or privilege for the client's location.
        RulesError: the practice's rule policy refuses a stale or unverified rule, or an override
            is malformed.
    """
    staged = stage_packet(
        practice,
        client,
        out_dir,
        template_set=template_set,
        language=language,
        on=on,
        now=now,
        packet_id=packet_id,
        rules=rules,
        template_ids=template_ids,
        renderer=compiled_renderer,
        state_rules=state_rules,
        include_english=include_english,
    )
    joined_dir: Path | None = None
    try:
        joined = compose_staged(staged) if composes(compose, converter) else None
        inputs = list(staged.docx_paths)
        outdir = staged.staging
        if joined is not None:
            # Beside the staging folder and named like it, so that a crash's leftover is removed
            # with the staging folders.
            outdir = joined_dir = _staging_folder(staged.out_dir)
            inputs = [outdir / "packet.docx"]
            write_private(inputs[0], joined)
        if converter is None:
            from .convert import LibreOfficeConverter

            with LibreOfficeConverter() as own:
                pdfs = own.convert(inputs, outdir)
        else:
            pdfs = converter.convert(inputs, outdir)
    except BaseException:
        staged.discard()
        if joined_dir is not None:
            shutil.rmtree(joined_dir, ignore_errors=True)
        raise
    if joined_dir is None:
        return finish_packet(staged, pdfs)
    try:
        return finish_composed_packet(staged, pdfs[0])
    finally:
        shutil.rmtree(joined_dir, ignore_errors=True)


def _staging_folder(out_dir: Path) -> Path:
    """A new private folder beside ``out_dir``, named so that a dead process's one is removed
    (see :func:`consentkit._files.remove_dead_leftovers`)."""
    return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-{owner_tag()}-", dir=out_dir.parent))


def render_packet_bytes(
    practice: Practice,
    client: Client,
    *,
    template_set: TemplateSet | None = None,
    language: str | None = None,
    on: date | None = None,
    now: datetime | None = None,
    packet_id: str | None = None,
    converter: Converter | None = None,
    rules: RuleSlots | None = None,
    template_ids: Sequence[str] | None = None,
    state_rules: bool = True,
    include_english: bool = False,
    compose: bool = False,
) -> Packet:
    """Render a packet into memory: :func:`render_packet` without a folder to keep.

    The packet is rendered in a private temporary folder (mode 0700), read back and the folder
    removed; a web backend stores the :class:`~consentkit.Packet` (``packet.to_bytes()``) and
    hands it to :func:`~consentkit.signing.finalize_archive` later. Arguments and errors as for
    :func:`render_packet`.
    """
    with temporary_folder() as folder:
        result = render_packet(
            practice,
            client,
            folder / "packet",
            template_set=template_set,
            language=language,
            on=on,
            now=now,
            packet_id=packet_id,
            converter=converter,
            rules=rules,
            template_ids=template_ids,
            state_rules=state_rules,
            include_english=include_english,
            compose=compose,
        )
        return Packet.read(result.out_dir)
