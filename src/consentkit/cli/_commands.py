"""The commands of the command line: the module that implements each (imported only when the
command runs, so that ``consentkit --version`` and ``--help`` start fast) and its help line."""

from __future__ import annotations

__all__ = ["COMMANDS", "command_help"]

#: Each command, the module that implements it (imported only when it runs) and its one-line help.
#: A new command is one more module and its line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "render": ("_render", "render one client's packet (DOCX, PDF/A, packet.pdf, manifest.json)"),
    "templates": ("_templates", "work with templates"),
    "rules": ("_rules", "show and check the state rule data"),
    "batch": ("_batch", "render the packets of every client in a CSV file (resumable)"),
    "finalize": ("_finalize", "turn a rendered, signed packet into its sealed archival PDF/A-3"),
    "verify": ("_verify", "check that a finalized packet is intact (exit 0 intact, 1 not, 2 unusable input)"),
    "practice": ("_lifecycle", "check a practice's readiness for telehealth"),
    "reconsent-check": (
        "_lifecycle",
        "must a client (or anyone of a caseload) sign again? (exit 0 nobody, 1 someone, 2 unusable)",
    ),
    "session": ("_lifecycle", "session location checks and the session log"),
    "fhir": (
        "_fhir_revoke",
        "print a finalized packet's consents as FHIR R4B Consent resources (a Bundle, JSON)",
    ),
    "revoke": (
        "_fhir_revoke",
        "record that a client withdrew consent: a new archival packet (the original is kept unchanged)",
    ),
}


def command_help(name: str) -> str:
    """The one-line help of a command (for the modules' own parsers)."""
    return COMMANDS[name][1]
