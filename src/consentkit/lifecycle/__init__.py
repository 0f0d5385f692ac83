"""The consent lifecycle after rendering: is a practice ready for telehealth, must a client sign
again, and where is the client at each session.

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

from .readiness import (
    EXPIRY_WARNING_DAYS,
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
from .sessions import (
    SESSION_LOG_SCHEMA,
    LoggedSession,
    SessionCheck,
    SessionCode,
    SessionFinding,
    SessionFindings,
    append_session,
    check_session,
    read_session_log,
    render_session_log_pdf,
    session_log_docx,
)

__all__ = [
    "EXPIRY_WARNING_DAYS",
    "REASON_CODES",
    "SESSION_LOG_SCHEMA",
    "LoggedSession",
    "ReadinessCode",
    "ReadinessFinding",
    "ReadinessReport",
    "Reason",
    "ReasonCode",
    "ReconsentDecision",
    "ScanResult",
    "ScanStatus",
    "SessionCheck",
    "SessionCode",
    "SessionFinding",
    "SessionFindings",
    "append_session",
    "check_practice",
    "check_session",
    "load_manifest",
    "read_session_log",
    "reconsent_check",
    "reconsent_scan",
    "render_session_log_pdf",
    "session_log_docx",
]
