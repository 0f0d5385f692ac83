"""consentkit's certificate pages, drawn with reportlab: the audit certificate of a finalized
packet and the revocation page of a revocation packet.

Only embedded TrueType fonts are used (``initialFontName`` keeps reportlab's non-embedded
Helvetica out) and the output is reproducible (``invariant``). The words come from the word
catalogue of the record's language (:mod:`._words`); UTC times, ids, hashes and what the signers
and the signing application recorded are shown as they are.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..pdf.fonts import FontSet
from ..pdf.tagging import DrawnTag, tag_drawn
from ..records import AUDIT_NAME, REVIEWED_NAME, AuditEvent, AuditRecord, utc_text
from ._audit import EVENT_KEYS, OWN_SOURCES
from ._stamp import INK
from ._words import Words, words_for

__all__ = ["CertificateWriter", "audit_pages"]

_MARGIN = 54.0
_LABEL_WIDTH = 118
_EVENT_COLUMNS = (78, 110, 110, None, 76)


#: The structure type of the text of each paragraph style.
_STRUCTURE = {"ck-title": "H1", "ck-heading": "H2", "ck-subheading": "H3"}


class _TaggingCanvas(Canvas):  # type: ignore[misc]
    """A canvas that wraps each tagged paragraph in marked content with an MCID (numbered per
    page) and records it, so that :func:`~consentkit.pdf.tagging.tag_drawn` can build the
    structure tree. A table header drawn again on a later page is an artifact."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tags: list[DrawnTag] = []
        self._seen: set[tuple[int, int, int, str]] = set()
        self._next: dict[int, int] = {}

    def begin_tag(self, kind: str, cell: tuple[int, int, int, str] | None) -> None:
        if cell is not None and cell in self._seen:
            self.addLiteral("/Artifact BMC")
            return
        if cell is not None:
            self._seen.add(cell)
        page = self.getPageNumber() - 1
        mcid = self._next.get(page, 0)
        self._next[page] = mcid + 1
        self.addLiteral(f"/{kind} <</MCID {mcid}>> BDC")
        self.tags.append(DrawnTag(page, mcid, kind, cell))


class _TaggedParagraph(Paragraph):  # type: ignore[misc]
    """A paragraph drawn as marked content of its structure type (``P``, ``H2``, ``TH``...)."""

    kind = "P"
    cell: tuple[int, int, int, str] | None = None

    def drawOn(self, canvas: Any, x: float, y: float, _sW: float = 0) -> None:
        tagging = isinstance(canvas, _TaggingCanvas)
        if tagging:
            canvas.begin_tag(self.kind, self.cell)
        super().drawOn(canvas, x, y, _sW)
        if tagging:
            canvas.addLiteral("EMC")

    def split(self, availWidth: float, availHeight: float) -> list[Any]:
        parts: list[Any] = super().split(availWidth, availHeight)
        for part in parts:
            part.kind, part.cell = self.kind, self.cell
        return parts


class CertificateWriter:
    """A certificate document being written: its page template, styles and the blocks it is made
    of (paragraphs, label/value rows, tables), every text drawn with a font that has its glyphs.

    Args:
        fonts: the registered fonts.
        page_size: the page size (the reviewed packet's).
        title: the PDF's title.
    """

    def __init__(
        self, fonts: FontSet, *, page_size: tuple[float, float], title: str, lang: str = "en-US"
    ) -> None:
        self.fonts = fonts
        self.lang = lang
        self.pdf_title = title
        self._tables = 0
        self._canvas: _TaggingCanvas | None = None
        self._buffer = io.BytesIO()
        self._doc = SimpleDocTemplate(
            self._buffer,
            pagesize=page_size,
            leftMargin=_MARGIN,
            rightMargin=_MARGIN,
            topMargin=_MARGIN,
            bottomMargin=60,
            title=title,
            author="consentkit",
            creator="consentkit",
            invariant=True,
            initialFontName=fonts.sans,
            initialFontSize=8.5,
            pageCompression=1,
        )
        #: The width of the text frame.
        self.width = page_size[0] - 2 * _MARGIN
        self.body = ParagraphStyle("ck-body", fontName=fonts.sans, fontSize=8.5, leading=11)
        self.small = ParagraphStyle("ck-small", fontName=fonts.sans, fontSize=7.5, leading=9.5)
        self.label = ParagraphStyle("ck-label", fontName=fonts.bold, fontSize=7.5, leading=9.5)
        self.title = ParagraphStyle(
            "ck-title", fontName=fonts.bold, fontSize=16, leading=20, spaceAfter=4, textColor=INK
        )
        self.heading = ParagraphStyle(
            "ck-heading",
            fontName=fonts.bold,
            fontSize=11,
            leading=14,
            spaceBefore=10,
            spaceAfter=4,
            textColor=INK,
        )
        self.subheading = ParagraphStyle(
            "ck-subheading", fontName=fonts.bold, fontSize=9, leading=12, spaceBefore=6, spaceAfter=2
        )

    def para(
        self,
        text: str,
        style: ParagraphStyle | None = None,
        *,
        kind: str | None = None,
        cell: tuple[int, int, int, str] | None = None,
    ) -> Paragraph:
        """A paragraph; characters no font has are shown as ``?`` (never a missing glyph). It is
        tagged as ``kind`` (default: a heading for the heading styles, else ``P``); ``cell`` places
        it in a table (``(table, row, column, scope)``)."""
        style = style or self.body
        preferred = (style.fontName,) if style.fontName == self.fonts.bold else ()
        font = self.fonts.for_text(text, preferred)
        shown = escape(self.fonts.printable(text, font)).replace("\n", "<br/>")
        structure = kind or _STRUCTURE.get(style.name, "P")
        if font != style.fontName:
            style = ParagraphStyle(f"{style.name}-{font}", parent=style, fontName=font)
        paragraph = _TaggedParagraph(shown, style)
        paragraph.kind, paragraph.cell = structure, cell
        return paragraph

    def rows(self, rows: Sequence[tuple[str, str]]) -> Table:
        """Label/value rows; a row with an empty value is left out."""
        self._tables += 1
        shown = [(label, value) for label, value in rows if value]
        data = [
            [
                self.para(label, self.label, kind="TH", cell=(self._tables, row, 0, "Row")),
                self.para(value, self.small, kind="TD", cell=(self._tables, row, 1, "")),
            ]
            for row, (label, value) in enumerate(shown)
        ]
        table = Table(data, colWidths=[_LABEL_WIDTH, self.width - _LABEL_WIDTH], hAlign="LEFT")
        table.setStyle(
            self._style(
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, (0.8, 0.8, 0.8)),
            )
        )
        return table

    def _style(self, *commands: tuple[Any, ...]) -> TableStyle:
        """The certificate's table style (small text, top-aligned, no left padding) and more."""
        return TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), self.fonts.sans, 7.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                *commands,
            ]
        )

    def grid(
        self, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float | None]
    ) -> Table:
        """A table with a header row repeated on every page; one ``None`` width takes the rest."""
        fixed = sum(w for w in widths if w is not None)
        columns = [w if w is not None else self.width - fixed for w in widths]
        self._tables += 1
        table_id = self._tables
        data = [
            [
                self.para(h, self.label, kind="TH", cell=(table_id, 0, c, "Column"))
                for c, h in enumerate(header)
            ]
        ]
        data += [
            [self.para(cell, self.small, kind="TD", cell=(table_id, r, c, "")) for c, cell in enumerate(row)]
            for r, row in enumerate(rows, start=1)
        ]
        table = Table(data, colWidths=columns, repeatRows=1, hAlign="LEFT")
        table.setStyle(
            self._style(
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, (0.5, 0.5, 0.5)),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, (0.85, 0.85, 0.85)),
            )
        )
        return table

    def build(self, story: Sequence[Any]) -> bytes:
        """Draw the blocks; the PDF's bytes, tagged (PDF/UA: headings, paragraphs, tables with
        header cells, in the writer's language; lines and rules are artifacts)."""

        def canvas(*args: Any, **kwargs: Any) -> _TaggingCanvas:
            self._canvas = _TaggingCanvas(*args, **kwargs)
            return self._canvas

        self._doc.build(list(story), canvasmaker=canvas)
        assert self._canvas is not None
        return tag_drawn(self._buffer.getvalue(), self._canvas.tags, lang=self.lang, title=self.pdf_title)


# --- the audit certificate ------------------------------------------------------------------------


def utc_shown(utc: str) -> str:
    """``2026-11-27T19:03:27Z`` -> ``2026-11-27 19:03:27 UTC`` (UTC stays ISO in every language)."""
    return utc.replace("T", " ").replace("Z", " UTC")


def when(words: Words, moment: datetime, time_zone: str) -> str:
    """The UTC time and, in brackets, the same moment in the practice's time zone in words."""
    return f"{utc_shown(utc_text(moment))}  ({words.moment(moment, time_zone)})"


def _action(words: Words, event: AuditEvent) -> str:
    """An event's action in words: consentkit's own events translated, others as recorded."""
    action = event.action
    key = EVENT_KEYS.get(action)
    if key is not None and event.source in OWN_SOURCES:
        action = words.event(key)
    return action + (f" ({event.detail})" if event.detail else "")


def _packet_section(w: CertificateWriter, words: Words, record: AuditRecord) -> list[Any]:
    label = words.label
    zone = record.time_zone
    rendered = ""
    if record.rendered_at is not None:
        rendered = words.audit("done_by", when=when(words, record.rendered_at, zone), who=record.rendered_by)
    finalized = words.audit("done_by", when=when(words, record.finalized_at, zone), who=record.finalized_by)
    document_date = words.date(record.document_date) if record.document_date is not None else ""
    return [
        w.para(words.audit("heading_packet"), w.heading),
        w.rows(
            [
                (label("packet_id"), record.packet_id),
                (label("client_id"), record.client_id or ""),
                (label("clinician_id"), record.clinician_id or ""),
                (label("state"), record.state or ""),
                (label("language"), words.language(record.locale) if record.locale else ""),
                (label("document_date"), document_date),
                (label("rendered"), rendered),
                (label("finalized"), finalized),
                (label("review_sha256"), record.review_pdf.sha256),
                (label("review_pages"), str(record.review_pdf.pages)),
            ]
        ),
    ]


def _documents_section(w: CertificateWriter, words: Words, record: AuditRecord) -> list[Any]:
    label = words.label
    story: list[Any] = [w.para(words.audit("heading_documents"), w.heading)]
    for number, document in enumerate(record.documents, start=1):
        first, last = document.archive_pages
        locale = document.locale
        use = ""
        if document.reference_only:
            use = words.audit("reference_only", language=words.language_name(locale or ""))
        rows = [
            (label("use"), use),
            (label("language"), words.language(locale) if locale else ""),
            (label("template"), f"{document.id} ({document.template_file or ''})"),
            (label("template_sha256"), document.template_sha256 or ""),
            (label("pdf_sha256"), document.pdf_sha256 or ""),
            (label("pages"), f"{first}–{last}" if first != last else str(first)),
            (label("signature_places"), ", ".join(document.signature_places)),
        ]
        story.append(KeepTogether([w.para(f"{number}. {document.title}", w.subheading), w.rows(rows)]))
    return story


def _signers_section(w: CertificateWriter, words: Words, record: AuditRecord) -> list[Any]:
    label = words.label
    zone = record.time_zone
    languages = record.signer_languages or {}
    story: list[Any] = [w.para(words.audit("heading_signers"), w.heading)]
    for signer in record.signers:
        method = words.method(signer.method)
        if signer.image is not None:
            image = signer.image
            method += f", {image.width}×{image.height} px, SHA-256 {image.sha256}"
        location = signer.attested_location
        identity = signer.identity_verification
        consent = when(words, signer.esign_consent_at, zone)
        if signer.esign_disclosure_version:
            consent = words.audit("esign_consent", when=consent, version=signer.esign_disclosure_version)
        seen = languages.get(signer.key)
        rows = [
            (label("signature_place"), signer.key),
            (label("relationship"), signer.relationship),
            (label("method"), method),
            (label("signed"), when(words, signer.signed_at, zone)),
            (label("language_seen"), words.language(seen) if seen else ""),
            (label("ip_address"), signer.ip_address or ""),
            (label("user_agent"), signer.user_agent),
            (label("location"), f"{location.address} ({location.state})"),
            (label("identity"), identity.method + (f"; {identity.detail}" if identity.detail else "")),
            (label("esign_consent"), consent),
            (label("intent"), f"“{signer.intent_statement}”"),
            (label("documents_signed"), ", ".join(signer.documents)),
        ]
        heading = words.audit("signer_heading", role=words.role(signer.role), name=signer.full_name)
        story.append(KeepTogether([w.para(heading, w.subheading), w.rows(rows)]))
    return story


def _events_section(w: CertificateWriter, words: Words, record: AuditRecord) -> list[Any]:
    zone = record.time_zone
    rows = [
        [
            utc_text(event.at).replace("T", " ").replace("Z", ""),
            words.moment(event.at, zone),
            event.actor,
            _action(words, event),
            event.ip_address or "",
        ]
        for event in record.events
    ]
    header = [words.label(key) for key in ("time_utc", "time_local", "actor", "action", "ip_address")]
    return [w.para(words.audit("heading_events"), w.heading), w.grid(header, rows, _EVENT_COLUMNS)]


def _seal_section(w: CertificateWriter, words: Words, record: AuditRecord) -> list[Any]:
    seal = record.seal
    if seal is not None:
        text = words.audit("sealed", level=seal.level, signer=seal.signer)
    else:
        text = words.audit("not_sealed")
    story: list[Any] = [w.para(words.audit("heading_seal"), w.heading), w.para(text), Spacer(1, 10)]
    for warning in record.warnings:
        story.append(w.para(words.audit("warning", warning=warning), w.small))
    story.append(w.para(f"{words.audit('verify')} {words.audit('not_legal_advice')}", w.small))
    return story


def audit_pages(record: AuditRecord, fonts: FontSet, *, page_size: tuple[float, float]) -> bytes:
    """Draw the audit certificate of ``record`` in the packet's language: the words of its
    ``locale`` (an unknown locale gives English), dates and local times from babel in that
    language."""
    words = words_for(record.locale)
    w = CertificateWriter(
        fonts,
        page_size=page_size,
        title=words.audit("pdf_title", packet_id=record.packet_id),
        lang=words.locale,
    )
    intro = words.audit(
        "intro",
        audit_file=AUDIT_NAME,
        reviewed_file=REVIEWED_NAME,
        time_zone=words.time_zone(record.time_zone),
    )
    packet_line = words.audit("packet_line", packet_id=record.packet_id, practice=record.practice_name or "")
    return w.build(
        [
            w.para(words.audit("title"), w.title),
            w.para(packet_line, w.subheading),
            w.para(intro),
            *_packet_section(w, words, record),
            *_documents_section(w, words, record),
            *_signers_section(w, words, record),
            *_events_section(w, words, record),
            *_seal_section(w, words, record),
        ]
    )
