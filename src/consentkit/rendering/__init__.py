"""Rendering: models to filled DOCX documents. Knows models and templates, not PDFs."""

from ._check import TemplateReport, check_template
from ._compiled import compiled_renderer
from ._composable import composable_reason, read_package
from ._compose import END_MARKER, compose_docx
from ._context import (
    PacketFacts,
    RuleSlots,
    build_context,
    clause_texts,
    packet_facts,
)
from ._docx import ANCHOR_PREFIX, RenderedDocument, render_docx
from ._glyphs import uncovered_fields
from ._slots import slots_from_rules
from ._templates import TemplateInfo, TemplateSet, available_locales, load_template_set, templates_root

__all__ = [
    "ANCHOR_PREFIX",
    "END_MARKER",
    "PacketFacts",
    "RenderedDocument",
    "RuleSlots",
    "TemplateInfo",
    "TemplateReport",
    "TemplateSet",
    "available_locales",
    "build_context",
    "check_template",
    "clause_texts",
    "compiled_renderer",
    "composable_reason",
    "compose_docx",
    "load_template_set",
    "packet_facts",
    "read_package",
    "render_docx",
    "slots_from_rules",
    "templates_root",
    "uncovered_fields",
]
