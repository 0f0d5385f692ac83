"""The audit record (``audit.json``) of a finalized packet; :mod:`._certificate` draws it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .._version import __version__
from ..formatting import format_datetime
from ..pdf.fingerprint import FINGERPRINT_SCHEME
from ..records import (
    AUDIT_NAME,
    AUDIT_SCHEMA,
    PACKET_NAME,
    REVIEWED_NAME,
    AttestedLocationRecord,
    AuditDocument,
    AuditEvent,
    AuditRecord,
    AuditSigner,
    IdentityRecord,
    ImageRecord,
    Manifest,
    ReviewPdf,
    SealRecord,
    utc_text,
)
from ._model import Method, SignatureRecord, Signatures, png_size

__all__ = [
    "AUDIT_NAME",
    "AUDIT_SCHEMA",
    "EVENT_KEYS",
    "NOT_LEGAL_ADVICE",
    "OWN_SOURCES",
    "REVIEWED_NAME",
    "audit_record",
    "local_text",
    "utc_text",
]

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


def local_text(value: datetime, time_zone: str) -> str:
    """The moment in ``time_zone``, in English (as the records say it, whatever their language).

    CLDR puts a narrow no-break space before AM/PM; not every font has it: a space instead.
    """
    # CLDR puts a narrow no-break space before AM/PM; not every font has it.
    return format_datetime(value, time_zone, "en-US").replace("\u202f", " ")


def _signer_entry(record: SignatureRecord, time_zone: str, documents: Sequence[str]) -> AuditSigner:
    image = None
    if record.image is not None:
        width, height = png_size(record.image)
        image = ImageRecord(sha256=str(record.image_sha256), width=width, height=height)
    return AuditSigner(
        key=record.key,
        role=record.role.value,
        full_name=record.full_name,
        relationship=record.relationship,
        method=record.method.value,
        signed_at=record.signed_at,
        signed_at_local=local_text(record.signed_at, time_zone),
        ip_address=record.ip_address,
        user_agent=record.user_agent,
        intent_statement=record.intent_statement,
        esign_consent_at=record.esign_consent_at,
        esign_consent_at_local=local_text(record.esign_consent_at, time_zone),
        esign_disclosure_version=record.esign_disclosure_version,
        attested_location=AttestedLocationRecord(
            address=record.attested_location.address, state=record.attested_location.state
        ),
        identity_verification=IdentityRecord(
            method=record.identity_verification.method, detail=record.identity_verification.detail
        ),
        documents=tuple(documents),
        image=image,
    )


def _events(
    signatures: Signatures, manifest: Manifest, now: datetime, time_zone: str, sealed: bool
) -> tuple[AuditEvent, ...]:
    """The packet's history in time order (a tie keeps the order events were added in)."""
    events: list[AuditEvent] = []

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
            AuditEvent(
                at=at,
                at_local=local_text(at, time_zone),
                actor=actor,
                action=action,
                ip_address=ip,
                user_agent=agent,
                detail=detail,
                source=source,
            )
        )

    if manifest.generated_at is not None:
        add(manifest.generated_at, "consentkit", _EVENT_RENDERED, "consentkit")
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
    order = sorted(range(len(events)), key=lambda n: (events[n].at, n))
    return tuple(events[n] for n in order)


def audit_record(
    *,
    manifest: Manifest,
    signatures: Signatures,
    review_sha256: str,
    review_pages: int,
    fingerprints: Sequence[str],
    time_zone: str,
    now: datetime,
    seal: SealRecord | None,
) -> AuditRecord:
    """The audit record of a finalized packet (without ``audit_pages``, known once drawn).

    ``manifest``'s documents must all have their ``packet_pages``.
    """
    documents = []
    signed: dict[str, list[str]] = {}
    for document in manifest.documents:
        assert document.packet_pages is not None  # finalize read a complete manifest
        first, last = document.packet_pages
        for key in document.signature_places:
            signed.setdefault(key, []).append(document.id)
        documents.append(
            AuditDocument(
                id=document.id,
                title=document.title,
                locale=document.locale if document.locale is not None else manifest.locale,
                reference_only=document.reference_only,
                template_file=document.template_file,
                template_sha256=document.template_sha256,
                docx_sha256=document.docx_sha256,
                pdf_sha256=document.pdf_sha256,
                packet_pages=(first, last),
                archive_pages=(first, last),
                signature_places=document.signature_places,
                page_fingerprints=tuple(fingerprints[first - 1 : last]),
            )
        )
    return AuditRecord(
        packet_id=manifest.packet_id,
        client_id=manifest.client_id,
        clinician_id=manifest.clinician_id,
        practice_name=manifest.practice_name,
        state=manifest.state,
        minor=manifest.minor,
        locale=manifest.locale,
        time_zone=time_zone,
        document_date=manifest.document_date,
        rendered_at=manifest.generated_at,
        rendered_by=f"consentkit {manifest.consentkit_version}",
        finalized_at=now,
        finalized_by=f"consentkit {__version__}",
        review_pdf=ReviewPdf(file=PACKET_NAME, sha256=review_sha256, pages=review_pages),
        fingerprint_scheme=FINGERPRINT_SCHEME,
        documents=tuple(documents),
        signers=tuple(_signer_entry(r, time_zone, signed.get(r.key, [])) for r in signatures.signers),
        events=_events(signatures, manifest, now, time_zone, sealed=seal is not None),
        seal=seal,
        warnings=manifest.warnings,
        # What the documents said and why: the state rules applied (with overrides and conflict
        # notes), the clause texts shown, and the language version each signer saw.
        template_set=manifest.template_set,
        rules=manifest.rules,
        clauses=manifest.clauses,
        signer_languages={s.key: s.language for s in manifest.signers},
        note=NOT_LEGAL_ADVICE,
    )
