"""Render a client's packet: filled DOCX documents, PDF/A-3b conversions, the merged review PDF
and the manifest that later signing steps check against.

A packet folder holds ``<template id>.docx`` and ``.pdf`` for every document, ``packet.pdf`` (all
documents merged for the client's review) and ``manifest.json``. The folder is written in a
staging folder beside it and moved into place when complete, so it is never seen half written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from . import __version__
from ._files import DIR_MODE, atomic_write, replace_dir, sha256_file
from .assemble import merge_pdfs, page_count
from .errors import InputError, OutputExistsError, PacketError
from .models import Client, Practice
from .rendering import RenderedDocument, RuleSlots, TemplateSet, build_context, load_template_set, render_docx
from .rendering._slots import slots_from_rules
from .rendering._templates import available_locales
from .rules._resolve import resolve_rules

if TYPE_CHECKING:
    from .convert import Converter

__all__ = [
    "MANIFEST_NAME",
    "PACKET_NAME",
    "DocxRenderer",
    "RenderResult",
    "StagedPacket",
    "choose_template_set",
    "finish_packet",
    "render_packet",
    "stage_packet",
]

MANIFEST_NAME = "manifest.json"
PACKET_NAME = "packet.pdf"
MANIFEST_SCHEMA = "consentkit.manifest/1"
#: A folder holding one of these was finalized; rendering never replaces it.
ARCHIVE_NAME = "archive.pdf"


class DocxRenderer(Protocol):
    """Fills one DOCX template (see :func:`consentkit.rendering.render_docx`)."""

    def __call__(
        self, template: bytes, context: Mapping[str, Any], *, name: str, signer_keys: set[str] | None = None
    ) -> RenderedDocument: ...


@attrs.frozen
class RenderResult:
    """What :func:`render_packet` wrote."""

    out_dir: Path
    manifest: dict[str, Any]
    warnings: tuple[str, ...]

    @property
    def packet_pdf(self) -> Path:
        return self.out_dir / PACKET_NAME


def choose_template_set(preferred: str, *, force: str | None = None) -> tuple[TemplateSet, list[str]]:
    """Pick the stock template set for a client's preferred language.

    The fallback chain: the exact locale (``es-US``); else another locale of the same language
    (``es-MX`` and ``es`` give ``es-US``); else ``en-US`` with a warning. ``force`` (a locale or a
    folder of a custom set) skips the chain.

    Returns:
        The template set and the warnings to record in the manifest.
    """
    if force:
        return load_template_set(force), []
    available = available_locales()
    wanted = preferred.replace("_", "-")
    if wanted in available:
        return load_template_set(wanted), []
    language = wanted.split("-")[0].lower()
    same_language = sorted(loc for loc in available if loc.split("-")[0].lower() == language)
    if same_language:
        return load_template_set(same_language[0]), []
    warning = f"no template set for preferred language {preferred!r}; used en-US"
    return load_template_set("en-US"), [warning]


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
    manifest: dict[str, Any]
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
    language: str | None = None,
    on: date | None = None,
    now: datetime | None = None,
    packet_id: str | None = None,
    rules: RuleSlots | None = None,
    template_ids: Sequence[str] | None = None,
    renderer: DocxRenderer | None = None,
    state_rules: bool = True,
) -> StagedPacket:
    """Render a client's DOCX documents into a staging folder beside ``out_dir``.

    Arguments as for :func:`render_packet`; ``renderer`` replaces :func:`render_docx` (batch
    generation passes a compile-once renderer with the same output).

    Raises:
        InputError, TemplateError, OutputExistsError, PacketError, JurisdictionError, RulesError:
            as for :func:`render_packet`.
    """
    out_dir = Path(out_dir)
    now = now or datetime.now(UTC)
    on = on or now.date()
    packet_id = packet_id or str(uuid.uuid4())
    render = renderer or render_docx
    warnings: list[str] = []
    if template_set is None:
        template_set, chosen = choose_template_set(client.preferred_language, force=language)
        warnings.extend(chosen)
    if template_set.locale != "en-US" and not template_set.translation_reviewed_by:
        warnings.append(
            f"the {template_set.locale} translation has not been reviewed by a qualified translator"
        )
    templates = [t for t in template_set.templates if template_ids is None or t.id in template_ids]
    if not templates:
        raise PacketError("no templates selected")
    _check_target(out_dir)
    rules_record: dict[str, Any] | None = None
    if rules is None and state_rules:
        try:
            clinician = practice.clinician(client.clinician_id)
        except ValueError as exc:
            raise InputError("no clinician of the practice has this id", field="clinician_id") from exc
        resolved = resolve_rules(practice, clinician, client, on)
        rules = slots_from_rules(resolved, template_set)
        rules_record = resolved.to_record()
        warnings.extend(resolved.warnings)
    context = build_context(practice, client, templates=template_set, on=on, packet_id=packet_id, rules=rules)
    clauses = context["rules"]
    signer_keys = {s["key"] for s in context["signers"]}
    out_dir.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        documents: list[dict[str, Any]] = []
        docx_paths: list[Path] = []
        for info in templates:
            doc_context = dict(context)
            doc_context["doc"] = {
                "title": info.title,
                "template_id": info.id,
                "packet_id": packet_id,
                "date": context["_packet"]["date"],
                "locale": template_set.locale,
            }
            rendered = render(
                info.path.read_bytes(), doc_context, name=info.path.name, signer_keys=signer_keys
            )
            docx_path = staging / f"{info.id}.docx"
            atomic_write(docx_path, rendered.docx)
            docx_paths.append(docx_path)
            documents.append(
                {
                    "id": info.id,
                    "title": info.title,
                    "template_file": info.path.name,
                    "template_sha256": info.sha256,
                    "docx": docx_path.name,
                    "docx_sha256": sha256_file(docx_path),
                    "signature_places": list(rendered.signature_places),
                }
            )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    manifest: dict[str, Any] = {
        "schema": MANIFEST_SCHEMA,
        "packet_id": packet_id,
        "generated_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "document_date": on.isoformat(),
        "consentkit_version": __version__,
        "locale": template_set.locale,
        "template_set": {
            "locale": template_set.locale,
            "translation_reviewed_by": template_set.translation_reviewed_by,
            "translation_reviewed_on": template_set.translation_reviewed_on,
        },
        "practice_name": practice.name,
        "time_zone": practice.time_zone,
        "client_id": client.id,
        "clinician_id": context["clinician"]["id"],
        "state": client.session_address.state,
        "minor": context["client"]["is_minor"],
        "signers": [{"key": s["key"], "role": s["role"]} for s in context["signers"]],
        "rules": rules_record,
        "clauses": clauses,
        "documents": documents,
        "warnings": warnings,
    }
    return StagedPacket(
        out_dir=out_dir,
        staging=staging,
        docx_paths=tuple(docx_paths),
        manifest=manifest,
        warnings=tuple(warnings),
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
        manifest = dict(staged.manifest)
        documents = [dict(d) for d in manifest["documents"]]
        first_page = 1
        for document, pdf in zip(documents, pdf_paths, strict=True):
            pages = page_count(pdf)
            document.update(
                {
                    "pdf": pdf.name,
                    "pdf_sha256": sha256_file(pdf),
                    "pages": pages,
                    "packet_pages": [first_page, first_page + pages - 1],
                }
            )
            first_page += pages
        packet_path = staged.staging / PACKET_NAME
        atomic_write(
            packet_path,
            merge_pdfs(
                pdf_paths,
                title=f"Consent packet {manifest['packet_id']}",
                subject=str(manifest["practice_name"]),
            ),
        )
        manifest["documents"] = documents
        manifest["packet"] = {
            "file": PACKET_NAME,
            "sha256": sha256_file(packet_path),
            "pages": first_page - 1,
        }
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        atomic_write(staged.staging / MANIFEST_NAME, text.encode("utf-8"))
        _check_target(staged.out_dir)
        replace_dir(staged.staging, staged.out_dir)
    finally:
        staged.discard()
    return RenderResult(out_dir=staged.out_dir, manifest=manifest, warnings=staged.warnings)


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
        converter: the DOCX to PDF converter (default: a private LibreOffice for this call).
        rules: explicit state-rule clauses; by default they are resolved from the state rule data
            for the state where the client is during sessions (see :mod:`consentkit.rules`).
        template_ids: render only these templates of the set.
        state_rules: with ``False`` (and no ``rules``), use the template set's neutral clauses
            and skip the jurisdiction check.

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
        state_rules=state_rules,
    )
    try:
        if converter is None:
            from .convert import LibreOfficeConverter

            with LibreOfficeConverter() as own:
                pdfs = own.convert(list(staged.docx_paths), staged.staging)
        else:
            pdfs = converter.convert(list(staged.docx_paths), staged.staging)
    except BaseException:
        staged.discard()
        raise
    return finish_packet(staged, pdfs)
