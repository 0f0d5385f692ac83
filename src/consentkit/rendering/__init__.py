"""Rendering: models to filled DOCX documents. Knows models and templates, not PDFs."""

from ._check import KNOWN_VARIABLES, TemplateReport, check_template, sample_cases
from ._compiled import compiled_renderer
from ._context import (
    PacketFacts,
    RuleSlots,
    Signer,
    build_context,
    clause_texts,
    packet_facts,
    packet_signers,
)
from ._docx import ANCHOR_PREFIX, RenderedDocument, leftover_tags, render_docx
from ._glyphs import uncovered_fields
from ._slots import slots_from_rules
from ._templates import TemplateInfo, TemplateSet, available_locales, load_template_set, templates_root

__all__ = [
    "ANCHOR_PREFIX",
    "KNOWN_VARIABLES",
    "PacketFacts",
    "RenderedDocument",
    "RuleSlots",
    "Signer",
    "TemplateInfo",
    "TemplateReport",
    "TemplateSet",
    "available_locales",
    "build_context",
    "check_template",
    "clause_texts",
    "compiled_renderer",
    "leftover_tags",
    "load_template_set",
    "packet_facts",
    "packet_signers",
    "render_docx",
    "sample_cases",
    "slots_from_rules",
    "templates_root",
    "uncovered_fields",
]
