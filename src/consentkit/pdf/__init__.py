"""Low-level PDF utilities: checks of a PDF/A claim and poppler readings used to cross-check it."""

from .archival import check_archival, pdf_text, pdffonts_all_embedded, xmp_problems

__all__ = ["check_archival", "pdf_text", "pdffonts_all_embedded", "xmp_problems"]
