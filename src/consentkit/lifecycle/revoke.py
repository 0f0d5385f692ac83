"""Revoke a signed consent packet: a new archival packet records the withdrawal.

The revocation packet itself is signing's (:func:`consentkit.signing.revoke_archive` writes it and
:func:`~consentkit.signing.verify_packet` reads it); what the lifecycle adds is the revoked
consents as FHIR resources with status ``inactive`` (``consent.fhir.json``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..pdf.embed import AssociatedFile
from ..signing import RevocationResult, SealConfig, revoke_archive
from .fhir import FHIR_MIME, FHIR_NAME, archive_bundle, bundle_json

__all__ = ["RevocationResult", "revoke_packet"]


def inactive_consents(original: bytes, source: str, revoked_at: datetime) -> AssociatedFile:
    """The revoked packet's Consents as FHIR, status ``inactive``, ending at ``revoked_at``.

    Raises:
        PacketError: the Consents cannot be built from the archive.
    """
    bundle = archive_bundle(original, source=source, revoked_at=revoked_at)
    return AssociatedFile(
        name=FHIR_NAME,
        data=bundle_json(bundle),
        mime_type=FHIR_MIME,
        relationship="Data",
        description="FHIR R4B Consent resources of the revoked packet, status inactive (a collection Bundle)",
    )


def revoke_packet(
    archive: str | Path,
    *,
    reason: str,
    by: str,
    out: str | Path,
    now: datetime | None = None,
    seal: SealConfig | None = None,
    timestamp_url: str | None = None,
) -> RevocationResult:
    """Write a revocation packet for a finalized archive, with its consents as inactive FHIR
    Consents; the archive itself is only read (see :func:`consentkit.signing.revoke_archive`).

    The arguments, the result and the errors are :func:`~consentkit.signing.revoke_archive`'s;
    a :class:`~consentkit.errors.PacketError` also says when the Consents cannot be built.
    """
    return revoke_archive(
        archive,
        reason=reason,
        by=by,
        out=out,
        consents=inactive_consents,
        now=now,
        seal=seal,
        timestamp_url=timestamp_url,
    )
