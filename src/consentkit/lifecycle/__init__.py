"""The consent lifecycle after rendering: is a practice ready for telehealth, must a client sign
again, and where is the client at each session; a signed packet's consents as FHIR, and their
revocation.

Typical use::

    from datetime import date
    from consentkit import load_client, load_practice
    from consentkit.lifecycle import check_practice, load_manifest, reconsent_check

    practice = load_practice("practice.toml")
    report = check_practice(practice, date(2026, 11, 27), states=["AL"])
    decision = reconsent_check(
        load_manifest("out/C-1001"), practice, load_client("client.toml"), on=date(2027, 12, 1)
    )
    for reason in decision.reasons:
        print(reason.code, reason.message)

See ``docs/lifecycle.md``.
"""

from ._session_log import SESSION_LOG_SCHEMA, append_session, read_session_log
from ._session_report import render_session_log_pdf
from .fhir import (
    FHIR_NAME,
    bundle_json,
    consent_bundle,
    fhir_associated_files,
    parse_bundle,
    read_consent_bundle,
)
from .readiness import (
    ReadinessCode,
    ReadinessFinding,
    ReadinessReport,
    check_practice,
)
from .reconsent import (
    REASON_CODES,
    Reason,
    ReasonCode,
    ReconsentDecision,
    ScanResult,
    ScanStatus,
    load_manifest,
    reconsent_check,
    reconsent_scan,
)
from .revoke import RevocationResult, revoke_packet
from .sessions import (
    LoggedSession,
    SessionCheck,
    SessionCode,
    SessionFinding,
    SessionFindings,
    check_session,
)

__all__ = [
    "FHIR_NAME",
    "REASON_CODES",
    "SESSION_LOG_SCHEMA",
    "LoggedSession",
    "ReadinessCode",
    "ReadinessFinding",
    "ReadinessReport",
    "Reason",
    "ReasonCode",
    "ReconsentDecision",
    "RevocationResult",
    "ScanResult",
    "ScanStatus",
    "SessionCheck",
    "SessionCode",
    "SessionFinding",
    "SessionFindings",
    "append_session",
    "bundle_json",
    "check_practice",
    "check_session",
    "consent_bundle",
    "fhir_associated_files",
    "load_manifest",
    "parse_bundle",
    "read_consent_bundle",
    "read_session_log",
    "reconsent_check",
    "reconsent_scan",
    "render_session_log_pdf",
    "revoke_packet",
]
