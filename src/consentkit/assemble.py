"""Moved to :mod:`consentkit.pdf.merge` (and :mod:`consentkit.pdf.metadata`); this name is kept
so that existing imports go on working."""

from .pdf.merge import merge_documents, merge_pdfs, page_count
from .pdf.metadata import set_xmp

__all__ = ["merge_documents", "merge_pdfs", "page_count", "set_xmp"]
