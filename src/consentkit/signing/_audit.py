"""The audit record (``audit.json``) and the audit certificate pages that show it."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .. import __version__
from ..formatting import format_datetime
from ._fingerprint import FINGERPRINT_SCHEME
from ._fonts import FontSet
from ._model import Method, SignatureRecord, Signatures, png_size
from ._stamp import INK

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

_ROLE_TITLES = {
    "client": "Client",
    "co_client": "Co-client",
    "guardian": "Guardian",
    "clinician": "Clinician",
}


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
            add(datetime.fromisoformat(generated), "consentkit", "packet rendered for review", "consentkit")
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
            "consented to electronic records and signatures",
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
    add(now, "consentkit", "finalized and sealed" if sealed else "finalized (not sealed)", "consentkit")
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


def _when(utc: str, local: str) -> str:
    return f"{utc.replace('T', ' ').replace('Z', ' UTC')}  ({local})"


def audit_pages(record: Mapping[str, Any], fonts: FontSet, *, page_size: tuple[float, float]) -> bytes:
    """Draw the audit certificate (reportlab, embedded fonts only)."""
    buffer = io.BytesIO()
    margin = 54.0
    doc = SimpleDocTemplate(
        buffer,
        pagesize=page_size,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=60,
        title=f"Audit certificate {record['packet_id']}",
        author="consentkit",
        creator="consentkit",
        invariant=True,
        initialFontName=fonts.sans,
        initialFontSize=8.5,
        pageCompression=1,
    )
    width = page_size[0] - 2 * margin
    w = _Writer(fonts)
    review = record["review_pdf"]
    story: list[Any] = [
        w.para("Audit certificate", w.title),
        w.para(f"Packet {record['packet_id']} · {record.get('practice_name') or ''}", w.subheading),
        w.para(
            "This certificate records each document of the packet, who signed it, when, from where and how. "
            f"The same record is embedded in this PDF as the file {AUDIT_NAME}; the packet exactly as the "
            f"signers reviewed it is embedded as {REVIEWED_NAME}. Times are shown in UTC and in the "
            f"practice's time zone ({record['time_zone']})."
        ),
        w.para("Packet", w.heading),
        w.rows(
            [
                ("Packet id", str(record["packet_id"])),
                ("Client id", str(record.get("client_id") or "")),
                ("Clinician id", str(record.get("clinician_id") or "")),
                ("Client's state", str(record.get("state") or "")),
                ("Language", str(record.get("locale") or "")),
                ("Document date", str(record.get("document_date") or "")),
                ("Rendered for review", f"{record.get('rendered_at') or ''} by {record.get('rendered_by')}"),
                ("Finalized", f"{record['finalized_at']} by {record['finalized_by']}"),
                ("Reviewed packet SHA-256", str(review["sha256"])),
                ("Reviewed packet pages", str(review["pages"])),
            ],
            width,
        ),
        w.para("Documents", w.heading),
    ]
    for number, document in enumerate(record["documents"], start=1):
        first, last = document["archive_pages"]
        story.append(
            KeepTogether(
                [
                    w.para(f"{number}. {document['title']}", w.subheading),
                    w.rows(
                        [
                            ("Template", f"{document['id']} ({document.get('template_file') or ''})"),
                            ("Template version SHA-256", str(document.get("template_sha256") or "")),
                            ("Reviewed PDF SHA-256", str(document.get("pdf_sha256") or "")),
                            ("Pages in this packet", f"{first}–{last}" if first != last else str(first)),
                            ("Signature places", ", ".join(document["signature_places"])),
                        ],
                        width,
                    ),
                ]
            )
        )
    story.append(w.para("Signers", w.heading))
    for signer in record["signers"]:
        method = "Typed name" if signer["method"] == Method.TYPED.value else "Drawn signature (PNG image)"
        if "image" in signer:
            image = signer["image"]
            method += f", {image['width']}×{image['height']} px, SHA-256 {image['sha256']}"
        location = signer["attested_location"]
        identity = signer["identity_verification"]
        consent = _when(signer["esign_consent_at"], signer["esign_consent_at_local"])
        if signer["esign_disclosure_version"]:
            consent += f"; disclosure {signer['esign_disclosure_version']}"
        title = _ROLE_TITLES.get(signer["role"], signer["role"])
        story.append(
            KeepTogether(
                [
                    w.para(f"{title}: {signer['full_name']}", w.subheading),
                    w.rows(
                        [
                            ("Signature place", signer["key"]),
                            ("Relationship", signer["relationship"]),
                            ("Method", method),
                            ("Signed", _when(signer["signed_at"], signer["signed_at_local"])),
                            ("IP address", signer["ip_address"]),
                            ("User agent", signer["user_agent"]),
                            ("Attested location", f"{location['address']} ({location['state']})"),
                            (
                                "Identity verification",
                                identity["method"]
                                + (f"; {identity['detail']}" if identity["detail"] else ""),
                            ),
                            ("ESIGN consent", consent),
                            ("Intent statement", f"“{signer['intent_statement']}”"),
                            ("Documents signed", ", ".join(signer["documents"])),
                        ],
                        width,
                    ),
                ]
            )
        )
    story.append(w.para("Event history", w.heading))
    header = [
        w.para(text, w.label) for text in ("Time (UTC)", "Practice time", "Actor", "Action", "IP address")
    ]
    rows: list[list[Any]] = [header]
    for event in record["events"]:
        rows.append(
            [
                w.para(event["at"].replace("T", " ").replace("Z", ""), w.small),
                w.para(event["at_local"], w.small),
                w.para(event["actor"], w.small),
                w.para(event["action"] + (f" ({event['detail']})" if event.get("detail") else ""), w.small),
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
    story.append(w.para("Seal", w.heading))
    seal = record.get("seal")
    if seal:
        text = (
            f"The finished file is sealed with a PAdES certification signature ({seal['level']}) by "
            f"{seal['signer']}. It covers the whole file; any later change breaks it."
        )
    else:
        text = "The file is not sealed. Changes made after finalizing cannot be detected from the file alone."
    story.append(w.para(text))
    story.append(Spacer(1, 10))
    warnings = record.get("warnings") or []
    for warning in warnings:
        story.append(w.para(f"Warning recorded at rendering: {warning}", w.small))
    story.append(
        w.para(
            f"Verify this file with: consentkit verify FILE.pdf --trust CA.pem. {NOT_LEGAL_ADVICE}", w.small
        )
    )
    doc.build(story)
    return buffer.getvalue()
