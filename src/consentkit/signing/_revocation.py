"""Read a revocation packet: the names and record :func:`consentkit.lifecycle.revoke_packet` writes.

A revocation packet is an archival PDF/A-3 file of its own. It embeds ``revocation.json`` (the
record: who withdrew the consent, when, why, and the SHA-256 of the original archive) and the
original archive, unchanged, as ``original.pdf``. This module lives here, below the lifecycle
package, so that :func:`~consentkit.signing.verify_packet` can report a revocation.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pikepdf

__all__ = [
    "ORIGINAL_NAME",
    "REVOCATION_NAME",
    "REVOCATION_SCHEMA",
    "check_original",
    "describe",
    "read_revocation",
]

REVOCATION_SCHEMA = "consentkit.revocation/1"
#: The names of the associated files in a revocation packet.
REVOCATION_NAME = "revocation.json"
ORIGINAL_NAME = "original.pdf"


class _Report(Protocol):
    @property
    def intact(self) -> bool: ...
    @property
    def problems(self) -> list[str]: ...
    @property
    def packet_id(self) -> str | None: ...


def _attached(pdf: pikepdf.Pdf, name: str) -> tuple[bytes, str] | None:
    if name not in pdf.attachments:
        return None
    spec = pdf.attachments[name]
    return spec.get_file().read_bytes(), str(spec.obj.get("/AFRelationship", ""))


def read_revocation(pdf: pikepdf.Pdf) -> tuple[dict[str, Any] | None, bytes | None, str | None]:
    """The revocation record, the embedded original archive, and what is wrong with them.

    Checks that ``revocation.json`` is a ``consentkit.revocation/1`` record attached as
    ``/Data``, that ``original.pdf`` is attached as ``/Source`` and that its SHA-256 is the one
    the record names.

    Returns:
        ``(record, original, problem)``: ``record`` is ``None`` when it cannot be read;
        ``original`` is ``None`` unless it matches the record; ``problem`` is ``None`` when all
        is consistent, else one line saying what is not.
    """
    found = _attached(pdf, REVOCATION_NAME)
    if found is None:
        return None, None, f"no {REVOCATION_NAME} attached"
    data, relationship = found
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, None, f"{REVOCATION_NAME} is not valid JSON"
    if not isinstance(record, dict) or record.get("schema") != REVOCATION_SCHEMA:
        return None, None, f"{REVOCATION_NAME} is not a {REVOCATION_SCHEMA} record"
    try:
        for key in ("packet_id", "revoked_by", "reason"):
            if not isinstance(record[key], str) or not record[key]:
                raise ValueError(key)
        datetime.fromisoformat(str(record["revoked_at"]))
        expected = str(record["original"]["sha256"])
    except (KeyError, TypeError, ValueError) as exc:
        return record, None, f"{REVOCATION_NAME} is incomplete ({exc})"
    if relationship != "/Data":
        return record, None, f"{REVOCATION_NAME} is not attached as /Data"
    original = _attached(pdf, ORIGINAL_NAME)
    if original is None:
        return record, None, f"no {ORIGINAL_NAME} attached: the revoked packet is missing"
    content, relationship = original
    if hashlib.sha256(content).hexdigest() != expected:
        return record, None, f"the attached {ORIGINAL_NAME} does not match the SHA-256 in {REVOCATION_NAME}"
    if relationship != "/Source":
        return record, None, f"{ORIGINAL_NAME} is not attached as /Source"
    return record, content, None


def describe(record: dict[str, Any]) -> str:
    """``revoked on 2026-12-01 14:00:00 UTC: REASON`` (who revoked is a name: kept out; ``verify
    --show-names`` prints it)."""
    when = str(record["revoked_at"]).replace("T", " ").replace("Z", " UTC")
    return f"revoked on {when}: {record['reason']}"


def check_original(original: bytes, verify: Callable[[Path], _Report]) -> tuple[bool, str]:
    """Verify the embedded original archive with ``verify`` (from a private temporary file).

    Returns:
        Whether it is intact, and one line saying so (or what failed).
    """
    with tempfile.TemporaryDirectory(prefix="consentkit-verify-") as folder:
        path = Path(folder) / ORIGINAL_NAME
        path.write_bytes(original)  # the folder is private (mode 0700)
        report = verify(path)
    digest = hashlib.sha256(original).hexdigest()
    if report.intact:
        return True, (
            f"{ORIGINAL_NAME} (packet {report.packet_id}, SHA-256 {digest[:16]}…) is kept unchanged "
            "and verifies as intact"
        )
    problems = "; ".join(report.problems) or "not intact"
    return False, f"the embedded {ORIGINAL_NAME} does not verify: {problems}"
