"""Signatures, the audit certificate and the sealed archival packet.

A signing application shows a rendered packet's ``packet.pdf``, collects each signer's signature
and evidence, and hands them over as :class:`Signatures` (usually a JSON file read with
:func:`load_signatures`). :func:`finalize_packet` checks them against the packet's manifest, draws
them over the reviewed pages, appends the audit certificate, embeds ``audit.json`` and the
reviewed packet as PDF/A-3 associated files and seals the result; :func:`verify_packet` tells
later whether such a file is intact. The file format and the checks are described in
``docs/signing.md``.

Typical use::

    from consentkit.signing import SealConfig, finalize_packet, load_signatures, verify_packet

    seal = SealConfig(pkcs12="seal.p12", password=b"...")
    result = finalize_packet("out/C-1001", load_signatures("signatures.json"), "C-1001.pdf", seal=seal)
    report = verify_packet(result.path, trust="practice-ca.pem")
    assert report.intact, report.problems

consentkit is not legal advice.
"""

from ._finalize import FinalizedArchive, FinalizeResult, finalize_archive, finalize_packet
from ._load import load_signatures, signatures_from_dict
from ._model import (
    AttestedLocation,
    IdentityVerification,
    Method,
    Role,
    SignatureEvent,
    SignatureRecord,
    Signatures,
)
from ._revocation import ORIGINAL_NAME, REVOCATION_NAME, REVOCATION_SCHEMA, RevocationResult, revoke_archive
from ._seal import SealConfig
from ._verify import Check, SealStatus, VerificationReport, verify_packet

__all__ = [
    "ORIGINAL_NAME",
    "REVOCATION_NAME",
    "REVOCATION_SCHEMA",
    "AttestedLocation",
    "Check",
    "FinalizeResult",
    "FinalizedArchive",
    "IdentityVerification",
    "Method",
    "RevocationResult",
    "Role",
    "SealConfig",
    "SealStatus",
    "SignatureEvent",
    "SignatureRecord",
    "Signatures",
    "VerificationReport",
    "finalize_archive",
    "finalize_packet",
    "load_signatures",
    "revoke_archive",
    "signatures_from_dict",
    "verify_packet",
]
