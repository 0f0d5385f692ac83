"""A client's session log: a JSON Lines file (one JSON object a line, mode 0600) of every session
location check, only ever appended to (:func:`append_session`, under an exclusive lock), read back
line by line with a damaged line reported by its number (:func:`read_session_log`).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._files import DIR_MODE, FILE_MODE, open_private
from ..errors import FieldValueError, InputError
from ..models import Address
from .sessions import SESSION_CODES, LoggedSession, SessionCheck, SessionFinding, SessionFindings

__all__ = ["SESSION_LOG_SCHEMA", "append_session", "read_session_log"]

#: The ``schema`` of every line of a session log.
SESSION_LOG_SCHEMA = "consentkit.session/1"


def _line(record: SessionCheck | SessionFindings) -> bytes:
    if isinstance(record, SessionFindings):
        check, findings, authorization = record.check, record.findings, record.authorization
        data: dict[str, Any] = {"schema": SESSION_LOG_SCHEMA, **check.to_dict()}
        data["checked"] = True
        data["allowed"] = record.allowed
        data["authorization"] = authorization
        data["findings"] = [f.to_dict() for f in findings]
    else:
        data = {"schema": SESSION_LOG_SCHEMA, **record.to_dict(), "checked": False, "findings": None}
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


_CHECK_KEYS = frozenset(
    {
        "session_time",
        "client_id",
        "clinician_id",
        "reported_address",
        "reported_state",
        "reported_by",
        "emergency_contact_confirmed",
        "notes",
    }
)
_LINE_KEYS = _CHECK_KEYS | {"schema", "checked", "allowed", "authorization", "findings"}
_ADDRESS_KEYS = frozenset({"line1", "line2", "city", "state", "postal_code"})


def _parse_line(text: str, *, source: str, line: int) -> LoggedSession:
    def fail(reason: str, field: str | None = None) -> InputError:
        return InputError(reason, source=source, row=line, field=field)

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"not valid JSON ({exc.msg}, column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise fail("not a JSON object")
    if data.get("schema") != SESSION_LOG_SCHEMA:
        raise fail(f"not a session log line (schema must be {SESSION_LOG_SCHEMA!r})", "schema")
    unknown = sorted(set(data) - _LINE_KEYS)
    if unknown:
        raise fail("unknown field", unknown[0])
    missing = sorted((_CHECK_KEYS | {"findings"}) - set(data))
    if missing:
        raise fail("missing", missing[0])
    address = data["reported_address"]
    if not isinstance(address, dict) or set(address) - _ADDRESS_KEYS:
        raise fail("must be an address with line1, line2, city, state and postal_code", "reported_address")
    try:
        reported = Address(**address)
    except FieldValueError as exc:
        raise fail(exc.reason, f"reported_address.{exc.field}") from exc
    except TypeError as exc:
        raise fail("an address field is missing", "reported_address") from exc
    if data["reported_state"] != reported.state:
        raise fail("does not match reported_address.state", "reported_state")
    try:
        check = SessionCheck(
            session_time=data["session_time"],
            client_id=data["client_id"],
            clinician_id=data["clinician_id"],
            reported_address=reported,
            reported_by=data["reported_by"],
            emergency_contact_confirmed=data["emergency_contact_confirmed"],
            notes=data["notes"],
        )
    except FieldValueError as exc:
        raise fail(exc.reason, exc.field) from exc
    findings: tuple[SessionFinding, ...] | None = None
    if data["findings"] is not None:
        if not isinstance(data["findings"], list):
            raise fail("must be a list or null", "findings")
        items = []
        for n, item in enumerate(data["findings"], start=1):
            if (
                not isinstance(item, dict)
                or item.get("code") not in SESSION_CODES
                or item.get("severity") not in ("error", "warning")
                or not isinstance(item.get("message"), str)
            ):
                raise fail("must have a known code, a severity and a message", f"findings.{n}")
            items.append(
                SessionFinding(code=item["code"], severity=item["severity"], message=item["message"])
            )
        findings = tuple(items)
    authorization = data.get("authorization")
    return LoggedSession(
        line=line,
        check=check,
        findings=findings,
        authorization=authorization if isinstance(authorization, str) else None,
    )


def _parse_log(raw: bytes, *, source: str) -> tuple[LoggedSession, ...]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", source=source, row=line) from exc
    if text and not text.endswith("\n"):
        line = text.count("\n") + 1
        raise InputError("the last line is incomplete (an interrupted write?)", source=source, row=line)
    entries: list[LoggedSession] = []
    for number, line_text in enumerate(text.split("\n")[:-1], start=1):
        if not line_text.strip():
            raise InputError("empty line", source=source, row=number)
        entry = _parse_line(line_text, source=source, line=number)
        if entries and entry.check.client_id != entries[0].check.client_id:
            raise InputError("a line of another client", source=source, row=number, field="client_id")
        entries.append(entry)
    return tuple(entries)


def read_session_log(log_path: str | Path) -> tuple[LoggedSession, ...]:
    """Read and validate a session log.

    Every line must be a complete JSON object of :data:`SESSION_LOG_SCHEMA` for one and the same
    client. A missing file is an empty log.

    Raises:
        InputError: the file cannot be read, or a line is damaged; ``row`` is the 1-based line
            number and ``field`` the field, when one is to blame.
    """
    path = Path(log_path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=path.name) from exc
    return _parse_log(raw, source=path.name)


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: appends are still single writes
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def append_session(log_path: str | Path, record: SessionCheck | SessionFindings) -> LoggedSession:
    """Append one session check (with its findings, when given :class:`SessionFindings`) to a log.

    The log is created with mode 0600 (and its folder 0700) if missing. The existing lines are
    validated first, under an exclusive lock, so a damaged log or one of another client is never
    extended; the new line is written in one call and flushed to disk (``fsync``) before return.

    Returns:
        The record as logged, with its line number.

    Raises:
        InputError: the log cannot be read or written, has a damaged line, or is of another
            client.
    """
    path = Path(log_path)
    source = path.name
    check = record.check if isinstance(record, SessionFindings) else record
    data = _line(record)
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    created = not path.exists()
    try:
        fd = open_private(path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
    except OSError as exc:
        raise InputError(f"cannot open the log ({exc.strerror})", source=source) from exc
    try:
        os.fchmod(fd, FILE_MODE)
        with _locked(fd):
            existing = _parse_log(_read_all(fd), source=source)
            if existing and existing[0].check.client_id != check.client_id:
                raise InputError("the log is of another client", source=source, field="client_id")
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
    except OSError as exc:
        raise InputError(f"cannot write the log ({exc.strerror})", source=source) from exc
    finally:
        os.close(fd)
    if created:
        with contextlib.suppress(OSError):
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    findings = record.findings if isinstance(record, SessionFindings) else None
    authorization = record.authorization if isinstance(record, SessionFindings) else None
    return LoggedSession(line=len(existing) + 1, check=check, findings=findings, authorization=authorization)


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)
