"""Rendering: models to filled DOCX documents. Knows models and templates, not PDFs."""

from ._check import KNOWN_VARIABLES, TemplateReport, check_template, sample_cases
from ._context import RuleSlots, Signer, build_context, packet_signers
from ._docx import ANCHOR_PREFIX, RenderedDocument, leftover_tags, render_docx
from ._templates import TemplateInfo, TemplateSet, available_locales, load_template_set, templates_root

__all__ = [
    "ANCHOR_PREFIX",
    "KNOWN_VARIABLES",
    "RenderedDocument",
    "RuleSlots",
    "Signer",
    "TemplateInfo",
    "TemplateReport",
    "TemplateSet",
    "available_locales",
    "build_context",
    "check_template",
    "leftover_tags",
    "load_template_set",
    "packet_signers",
    "render_docx",
    "sample_cases",
    "templates_root",
]
