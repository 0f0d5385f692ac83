"""The audit record (``audit.json``) of a finalized packet; :mod:`._certificate` draws it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from .._version import __version__
from ..formatting import format_datetime
from ..pdf.fingerprint import FINGERPRINT_SCHEME
from ._model import Method, SignatureRecord, Signatures, png_size

__all__ = [
    "AUDIT_NAME",
    "AUDIT_SCHEMA",
    "EVENT_KEYS",
    "NOT_LEGAL_ADVICE",
    "OWN_SOURCES",
    "REVIEWED_NAME",
    "audit_json",
    "audit_record",
    "local_text",
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
EVENT_KEYS = {
    _EVENT_RENDERED: "rendered",
    _EVENT_CONSENTED: "esign_consent",
    f"signed ({Method.TYPED.value})": "signed_typed",
    f"signed ({Method.DRAWN.value})": "signed_drawn",
    _EVENT_FINALIZED_SEALED: "finalized_sealed",
    _EVENT_FINALIZED_UNSEALED: "finalized_unsealed",
}
#: The sources of those events; a signing application's events are shown as recorded.
OWN_SOURCES = ("consentkit", "signature record")


def utc_text(value: datetime) -> str:
    """``2026-11-27T15:02:11Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_text(value: datetime, time_zone: str) -> str:
    """The moment in ``time_zone``, in English (as the records say it, whatever their language).

    CLDR puts a narrow no-break space before AM/PM; not every font has it: a space instead.
    """
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
        "signed_at_local": local_text(record.signed_at, time_zone),
        "ip_address": record.ip_address,
        "user_agent": record.user_agent,
        "intent_statement": record.intent_statement,
        "esign_consent_at": utc_text(record.esign_consent_at),
        "esign_consent_at_local": local_text(record.esign_consent_at, time_zone),
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
                    "at_local": local_text(at, time_zone),
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
