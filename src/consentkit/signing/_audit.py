"""The audit record (``audit.json``) and the audit certificate pages that show it."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .._version import __version__
from ..formatting import format_datetime
from ._fingerprint import FINGERPRINT_SCHEME
from ._fonts import FontSet
from ._model import Method, SignatureRecord, Signatures, png_size
from ._stamp import INK
from ._words import Words, words_for

__all__ = [
    "AUDIT_NAME",
    "AUDIT_SCHEMA",
    "REVIEWED_NAME",
    "audit_json",
    "audit_pages",
    "audit_record",
    "utc_text",
]

AUDIT_SCHEMA = "consentkit.audit/1"
#: The names of the associated files in the archive.
AUDIT_NAME = "audit.json"
REVIEWED_NAME = "reviewed-packet.pdf"
NOT_LEGAL_ADVICE = "consentkit is not legal advice."

#: The events consentkit records itself, as ``audit.json`` says them (in English, whatever the
#: packet's language), and the key of their words on the certificate (``[audit.event]``).
_EVENT_RENDERED = "packet rendered for review"
_EVENT_CONSENTED = "consented to electronic records and signatures"
_EVENT_FINALIZED_SEALED = "finalized and sealed"
_EVENT_FINALIZED_UNSEALED = "finalized (not sealed)"
_EVENT_KEYS = {
    _EVENT_RENDERED: "rendered",
    _EVENT_CONSENTED: "esign_consent",
    f"signed ({Method.TYPED.value})": "signed_typed",
    f"signed ({Method.DRAWN.value})": "signed_drawn",
    _EVENT_FINALIZED_SEALED: "finalized_sealed",
    _EVENT_FINALIZED_UNSEALED: "finalized_unsealed",
}
#: The sources of those events; a signing application's events are shown as recorded.
_OWN_SOURCES = ("consentkit", "signature record")


def utc_text(value: datetime) -> str:
    """``2026-11-27T15:02:11Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _local(value: datetime, time_zone: str) -> str:
    # CLDR puts a narrow no-break space before AM/PM; not every font has it.
    return format_datetime(value, time_zone, "en-US").replace("\u202f", " ")


def _signer_entry(record: SignatureRecord, time_zone: str, documents: Sequence[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": record.key,
        "role": record.role.value,
        "full_name": record.full_name,
        "relationship": record.relationship,
        "method": record.method.value,
        "signed_at": utc_text(record.signed_at),
        "signed_at_local": _local(record.signed_at, time_zone),
        "ip_address": record.ip_address,
        "user_agent": record.user_agent,
        "intent_statement": record.intent_statement,
        "esign_consent_at": utc_text(record.esign_consent_at),
        "esign_consent_at_local": _local(record.esign_consent_at, time_zone),
        "esign_disclosure_version": record.esign_disclosure_version,
        "attested_location": {
            "address": record.attested_location.address,
            "state": record.attested_location.state,
        },
        "identity_verification": {
            "method": record.identity_verification.method,
            "detail": record.identity_verification.detail,
        },
        "documents": list(documents),
    }
    if record.image is not None:
        width, height = png_size(record.image)
        entry["image"] = {"sha256": record.image_sha256, "width": width, "height": height}
    return entry


def _events(
    signatures: Signatures, manifest: Mapping[str, Any], now: datetime, time_zone: str, sealed: bool
) -> list[dict[str, Any]]:
    events: list[tuple[datetime, int, dict[str, Any]]] = []

    def add(
        at: datetime,
        actor: str,
        action: str,
        source: str,
        ip: str | None = None,
        agent: str = "",
        detail: str = "",
    ) -> None:
        events.append(
            (
                at,
                len(events),
                {
                    "at": utc_text(at),
                    "at_local": _local(at, time_zone),
                    "actor": actor,
                    "action": action,
                    "ip_address": ip,
                    "user_agent": agent,
                    "detail": detail,
                    "source": source,
                },
            )
        )

    generated = manifest.get("generated_at")
    if isinstance(generated, str):
        with contextlib.suppress(ValueError):
            add(datetime.fromisoformat(generated), "consentkit", _EVENT_RENDERED, "consentkit")
    for event in signatures.events:
        add(
            event.at,
            event.actor,
            event.action,
            "signing application",
            event.ip_address,
            event.user_agent,
            event.detail,
        )
    for record in signatures.signers:
        actor = f"{record.key} ({record.full_name})"
        add(
            record.esign_consent_at,
            actor,
            _EVENT_CONSENTED,
            "signature record",
            record.ip_address,
            record.user_agent,
        )
        add(
            record.signed_at,
            actor,
            f"signed ({record.method.value})",
            "signature record",
            record.ip_address,
            record.user_agent,
        )
    add(now, "consentkit", _EVENT_FINALIZED_SEALED if sealed else _EVENT_FINALIZED_UNSEALED, "consentkit")
    return [entry for _, _, entry in sorted(events, key=lambda item: (item[0], item[1]))]


def audit_record(
    *,
    manifest: Mapping[str, Any],
    signatures: Signatures,
    review_sha256: str,
    review_pages: int,
    fingerprints: Sequence[str],
    time_zone: str,
    now: datetime,
    seal: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The audit record of a finalized packet (without ``audit_pages``, known once drawn)."""
    documents = []
    signed: dict[str, list[str]] = {}
    for document in manifest["documents"]:
        first, last = (int(n) for n in document["packet_pages"])
        places = [str(p) for p in document["signature_places"]]
        for key in places:
            signed.setdefault(key, []).append(str(document["id"]))
        documents.append(
            {
                "id": document["id"],
                "title": document["title"],
                "locale": document.get("locale", manifest.get("locale")),
                "reference_only": bool(document.get("reference_only", False)),
                "template_file": document.get("template_file"),
                "template_sha256": document.get("template_sha256"),
                "docx_sha256": document.get("docx_sha256"),
                "pdf_sha256": document.get("pdf_sha256"),
                "packet_pages": [first, last],
                "archive_pages": [first, last],
                "signature_places": places,
                "page_fingerprints": list(fingerprints[first - 1 : last]),
            }
        )
    return {
        "schema": AUDIT_SCHEMA,
        "packet_id": manifest["packet_id"],
        "client_id": manifest.get("client_id"),
        "clinician_id": manifest.get("clinician_id"),
        "practice_name": manifest.get("practice_name"),
        "state": manifest.get("state"),
        "minor": manifest.get("minor"),
        "locale": manifest.get("locale"),
        "time_zone": time_zone,
        "document_date": manifest.get("document_date"),
        "rendered_at": manifest.get("generated_at"),
        "rendered_by": f"consentkit {manifest.get('consentkit_version', '?')}",
        "finalized_at": utc_text(now),
        "finalized_by": f"consentkit {__version__}",
        "review_pdf": {
            "file": "packet.pdf",
            "sha256": review_sha256,
            "pages": review_pages,
            "embedded_as": REVIEWED_NAME,
        },
        "fingerprint_scheme": FINGERPRINT_SCHEME,
        "documents": documents,
        "signers": [_signer_entry(r, time_zone, signed.get(r.key, [])) for r in signatures.signers],
        "events": _events(signatures, manifest, now, time_zone, sealed=seal is not None),
        "seal": dict(seal) if seal is not None else None,
        "warnings": list(manifest.get("warnings", [])),
        # What the documents said and why: the state rules applied (with overrides and conflict
        # notes), the clause texts shown, and the language version each signer saw.
        "template_set": manifest.get("template_set"),
        "rules": manifest.get("rules"),
        "clauses": manifest.get("clauses"),
        "signer_languages": {str(s["key"]): s.get("language") for s in manifest.get("signers", [])},
        "note": NOT_LEGAL_ADVICE,
    }


def audit_json(record: Mapping[str, Any]) -> bytes:
    """The record as embedded: UTF-8 JSON, keys in a stable order."""
    return (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# --- the certificate pages ----------------------------------------------------------------------


class _Writer:
    def __init__(self, fonts: FontSet) -> None:
        self.fonts = fonts
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

    def para(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        style = style or self.body
        preferred = (style.fontName,) if style.fontName == self.fonts.bold else ()
        font = self.fonts.for_text(text, preferred)
        shown = escape(self.fonts.printable(text, font)).replace("\n", "<br/>")
        if font != style.fontName:
            style = ParagraphStyle(f"{style.name}-{font}", parent=style, fontName=font)
        return Paragraph(shown, style)

    def rows(self, rows: Sequence[tuple[str, str]], width: float) -> Table:
        data = [
            [self.para(label, self.label), self.para(value, self.small)] for label, value in rows if value
        ]
        table = Table(data, colWidths=[118, width - 118], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), self.fonts.sans, 7.5),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, (0.8, 0.8, 0.8)),
                ]
            )
        )
        return table


def _utc_shown(utc: str) -> str:
    """``2026-11-27T19:03:27Z`` -> ``2026-11-27 19:03:27 UTC`` (UTC stays ISO in every language)."""
    return utc.replace("T", " ").replace("Z", " UTC")


def _moment(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _when(words: Words, utc: str, time_zone: str) -> str:
    """The UTC time and, in brackets, the same moment in the practice's time zone in words."""
    moment = _moment(utc)
    if moment is None:
        return utc
    return f"{_utc_shown(utc)}  ({words.moment(moment, time_zone)})"


def _day(words: Words, text: object) -> str:
    if not isinstance(text, str) or not text:
        return ""
    try:
        return words.date(date.fromisoformat(text))
    except ValueError:
        return text


def _action(words: Words, event: Mapping[str, Any]) -> str:
    """An event's action in words: consentkit's own events translated, others as recorded."""
    action = str(event["action"])
    key = _EVENT_KEYS.get(action)
    if key is not None and event.get("source") in _OWN_SOURCES:
        action = words.event(key)
    return action + (f" ({event['detail']})" if event.get("detail") else "")


def certificate_document(
    buffer: io.BytesIO, fonts: FontSet, *, page_size: tuple[float, float], title: str
) -> tuple[SimpleDocTemplate, float]:
    """The reportlab page template of consentkit's certificate pages (audit, revocation).

    Only embedded TrueType fonts are used (``initialFontName`` keeps reportlab's non-embedded
    Helvetica out), and the output is reproducible (``invariant``). Returns the document and the
    width of its text frame.
    """
    margin = 54.0
    doc = SimpleDocTemplate(
        buffer,
        pagesize=page_size,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=60,
        title=title,
        author="consentkit",
        creator="consentkit",
        invariant=True,
        initialFontName=fonts.sans,
        initialFontSize=8.5,
        pageCompression=1,
    )
    return doc, page_size[0] - 2 * margin


def audit_pages(record: Mapping[str, Any], fonts: FontSet, *, page_size: tuple[float, float]) -> bytes:
    """Draw the audit certificate (reportlab, embedded fonts only) in the packet's language.

    The words come from the stock template set of ``record["locale"]`` (``[audit]`` tables of its
    ``clauses.toml``; an unknown locale gives English), the dates and local times from babel in
    that language; UTC times, ids, hashes and what the signers and the signing application
    recorded are shown as they are.
    """
    words = words_for(record.get("locale"))
    label = words.label
    zone = str(record["time_zone"])
    buffer = io.BytesIO()
    doc, width = certificate_document(
        buffer, fonts, page_size=page_size, title=words.audit("pdf_title", packet_id=record["packet_id"])
    )
    w = _Writer(fonts)
    review = record["review_pdf"]
    locale = record.get("locale")
    rendered_at = record.get("rendered_at")
    story: list[Any] = [
        w.para(words.audit("title"), w.title),
        w.para(
            words.audit(
                "packet_line", packet_id=record["packet_id"], practice=record.get("practice_name") or ""
            ),
            w.subheading,
        ),
        w.para(
            words.audit(
                "intro",
                audit_file=AUDIT_NAME,
                reviewed_file=REVIEWED_NAME,
                time_zone=words.time_zone(zone),
            )
        ),
        w.para(words.audit("heading_packet"), w.heading),
        w.rows(
            [
                (label("packet_id"), str(record["packet_id"])),
                (label("client_id"), str(record.get("client_id") or "")),
                (label("clinician_id"), str(record.get("clinician_id") or "")),
                (label("state"), str(record.get("state") or "")),
                (label("language"), words.language(str(locale)) if locale else ""),
                (label("document_date"), _day(words, record.get("document_date"))),
                (
                    label("rendered"),
                    words.audit(
                        "done_by", when=_when(words, str(rendered_at), zone), who=record.get("rendered_by")
                    )
                    if rendered_at
                    else "",
                ),
                (
                    label("finalized"),
                    words.audit(
                        "done_by",
                        when=_when(words, str(record["finalized_at"]), zone),
                        who=record["finalized_by"],
                    ),
                ),
                (label("review_sha256"), str(review["sha256"])),
                (label("review_pages"), str(review["pages"])),
            ],
            width,
        ),
        w.para(words.audit("heading_documents"), w.heading),
    ]
    for number, document in enumerate(record["documents"], start=1):
        first, last = document["archive_pages"]
        document_locale = document.get("locale")
        use = ""
        if document.get("reference_only"):
            use = words.audit("reference_only", language=words.language_name(str(document_locale or "")))
        story.append(
            KeepTogether(
                [
                    w.para(f"{number}. {document['title']}", w.subheading),
                    w.rows(
                        [
                            (label("use"), use),
                            (
                                label("language"),
                                words.language(str(document_locale)) if document_locale else "",
                            ),
                            (label("template"), f"{document['id']} ({document.get('template_file') or ''})"),
                            (label("template_sha256"), str(document.get("template_sha256") or "")),
                            (label("pdf_sha256"), str(document.get("pdf_sha256") or "")),
                            (label("pages"), f"{first}–{last}" if first != last else str(first)),
                            (label("signature_places"), ", ".join(document["signature_places"])),
                        ],
                        width,
                    ),
                ]
            )
        )
    story.append(w.para(words.audit("heading_signers"), w.heading))
    languages = record.get("signer_languages") or {}
    for signer in record["signers"]:
        method = words.method(signer["method"])
        if "image" in signer:
            image = signer["image"]
            method += f", {image['width']}×{image['height']} px, SHA-256 {image['sha256']}"
        location = signer["attested_location"]
        identity = signer["identity_verification"]
        consent = _when(words, signer["esign_consent_at"], zone)
        if signer["esign_disclosure_version"]:
            consent = words.audit("esign_consent", when=consent, version=signer["esign_disclosure_version"])
        seen = languages.get(signer["key"])
        story.append(
            KeepTogether(
                [
                    w.para(
                        words.audit(
                            "signer_heading", role=words.role(signer["role"]), name=signer["full_name"]
                        ),
                        w.subheading,
                    ),
                    w.rows(
                        [
                            (label("signature_place"), signer["key"]),
                            (label("relationship"), signer["relationship"]),
                            (label("method"), method),
                            (label("signed"), _when(words, signer["signed_at"], zone)),
                            (label("language_seen"), words.language(str(seen)) if seen else ""),
                            (label("ip_address"), signer["ip_address"]),
                            (label("user_agent"), signer["user_agent"]),
                            (label("location"), f"{location['address']} ({location['state']})"),
                            (
                                label("identity"),
                                identity["method"]
                                + (f"; {identity['detail']}" if identity["detail"] else ""),
                            ),
                            (label("esign_consent"), consent),
                            (label("intent"), f"“{signer['intent_statement']}”"),
                            (label("documents_signed"), ", ".join(signer["documents"])),
                        ],
                        width,
                    ),
                ]
            )
        )
    story.append(w.para(words.audit("heading_events"), w.heading))
    header = [
        w.para(label(key), w.label) for key in ("time_utc", "time_local", "actor", "action", "ip_address")
    ]
    rows: list[list[Any]] = [header]
    for event in record["events"]:
        moment = _moment(event["at"])
        rows.append(
            [
                w.para(event["at"].replace("T", " ").replace("Z", ""), w.small),
                w.para(words.moment(moment, zone) if moment is not None else "", w.small),
                w.para(event["actor"], w.small),
                w.para(_action(words, event), w.small),
                w.para(event.get("ip_address") or "", w.small),
            ]
        )
    table = Table(
        rows, colWidths=[78, 110, 110, width - 78 - 110 - 110 - 76, 76], repeatRows=1, hAlign="LEFT"
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), fonts.sans, 7.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, (0.5, 0.5, 0.5)),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, (0.85, 0.85, 0.85)),
            ]
        )
    )
    story.append(table)
    story.append(w.para(words.audit("heading_seal"), w.heading))
    seal = record.get("seal")
    if seal:
        text = words.audit("sealed", level=seal["level"], signer=seal["signer"])
    else:
        text = words.audit("not_sealed")
    story.append(w.para(text))
    story.append(Spacer(1, 10))
    warnings = record.get("warnings") or []
    for warning in warnings:
        story.append(w.para(words.audit("warning", warning=warning), w.small))
    story.append(w.para(f"{words.audit('verify')} {words.audit('not_legal_advice')}", w.small))
    doc.build(story)
    return buffer.getvalue()
