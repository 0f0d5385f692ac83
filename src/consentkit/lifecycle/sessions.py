"""Session location checks: where the client says they are at the start of a session, what that
means, and a per-client log of every check that can be rendered as a PDF/A session log.

At the start of each video session the clinician asks where the client is. :func:`check_session`
compares the answer with the plan on file (the client's ``session_address``) and flags what must
happen: another address (update the emergency plan), another state (may the clinician see the
client there at all?), an emergency contact not confirmed. :func:`append_session` adds the check
to the client's log, a JSON Lines file (one JSON object a line, mode 0600) that is only ever
appended to; :func:`read_session_log` reads it back and reports a damaged line by its number.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import attrs

from .. import _fields as ft
from .._files import DIR_MODE, FILE_MODE, atomic_write, open_private, private_dir
from ..assemble import set_xmp
from ..errors import FieldValueError, InputError, JurisdictionError
from ..formatting import format_datetime
from ..models import US_STATES, Address, Client, Practice
from ..rules._resolve import check_jurisdiction

if TYPE_CHECKING:
    from ..convert import Converter

__all__ = [
    "SESSION_LOG_SCHEMA",
    "LoggedSession",
    "SessionCheck",
    "SessionCode",
    "SessionFinding",
    "SessionFindings",
    "append_session",
    "check_session",
    "read_session_log",
    "render_session_log_pdf",
    "session_log_docx",
]

#: The ``schema`` of every line of a session log.
SESSION_LOG_SCHEMA = "consentkit.session/1"

SessionCode = Literal[
    "not_allowed",
    "state_changed",
    "address_changed",
    "emergency_contact_unconfirmed",
    "local_resources_missing",
]
_CODES: tuple[str, ...] = (
    "not_allowed",
    "state_changed",
    "address_changed",
    "emergency_contact_unconfirmed",
    "local_resources_missing",
)
Severity = Literal["error", "warning"]


# --- the record -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SessionCheck:
    """Where a client said they were at the start of one session.

    Attributes:
        session_time: when the session started (timezone-aware; kept in UTC).
        client_id: the client.
        clinician_id: the clinician holding the session.
        reported_address: where the client says they are.
        reported_by: who gave the location (``client``, ``guardian``, ...).
        emergency_contact_confirmed: the emergency contact on file was confirmed this session.
        notes: anything else worth keeping (no clinical content belongs here).
    """

    session_time: datetime = attrs.field(converter=ft.to_aware_utc, validator=ft.aware_time)
    client_id: str = attrs.field(converter=ft.strip, validator=ft.filled_text())
    clinician_id: str = attrs.field(converter=ft.strip, validator=ft.filled_text())
    reported_address: Address = attrs.field(validator=ft.instance_of(Address, "must be an address"))
    reported_by: str = attrs.field(default="client", converter=ft.strip, validator=ft.filled_text())
    emergency_contact_confirmed: bool = attrs.field(validator=ft.flag)
    notes: str = attrs.field(default="", converter=ft.strip, validator=ft.any_text)

    @property
    def reported_state(self) -> str:
        """The state the client is in (from the reported address)."""
        return self.reported_address.state


@attrs.frozen(kw_only=True)
class SessionFinding:
    """Something a session check found.

    Attributes:
        code: ``not_allowed`` (the clinician may not see the client where they are: the session
            must not go on), ``state_changed`` (another state than on file),
            ``address_changed`` (another address: update the emergency plan),
            ``emergency_contact_unconfirmed`` or ``local_resources_missing`` (the plan has no way to
            reach emergency help where the client is: a clinician's 911 call reaches the clinician's
            own dispatch centre).
        severity: ``error`` for ``not_allowed``, else ``warning`` (something to do now).
        message: what was found and what to do, in plain words.
    """

    code: SessionCode
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": self.message}


@attrs.frozen(kw_only=True)
class SessionFindings:
    """The outcome of :func:`check_session`.

    Attributes:
        check: the check as reported.
        findings: what must happen, errors first.
        authorization: how the clinician is authorised where the client is, when they are.
    """

    check: SessionCheck
    findings: tuple[SessionFinding, ...]
    authorization: str | None

    @property
    def allowed(self) -> bool:
        """The clinician may hold the session where the client is."""
        return not any(f.severity == "error" for f in self.findings)

    @property
    def codes(self) -> tuple[SessionCode, ...]:
        return tuple(f.code for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "authorization": self.authorization,
            "findings": [f.to_dict() for f in self.findings],
            "check": _check_to_dict(self.check),
        }


# --- the check --------------------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[.,#]")
_SPACES = re.compile(r"\s+")


def _norm(text: str | None) -> str:
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text or "")).strip().casefold()


def _same_place(a: Address, b: Address) -> bool:
    """The two addresses name the same place, ignoring case, spacing, ``.``/``,``/``#`` and a
    ZIP+4 suffix. Abbreviations (``St`` and ``Street``) are not expanded: they count as different,
    which only asks for the emergency plan to be confirmed."""
    fields = ("line1", "line2", "city", "state")
    return all(_norm(getattr(a, f)) == _norm(getattr(b, f)) for f in fields) and (
        a.postal_code[:5] == b.postal_code[:5]
    )


def check_session(
    practice: Practice, client: Client, reported: SessionCheck, on: date | None = None
) -> SessionFindings:
    """Compare where the client is with the plan on file and say what must happen.

    Args:
        practice: the practice.
        client: the client, with the plan on file (``session_address``, ``emergency_contact``).
        reported: the location check.
        on: the date for the license check; default: the session's date in the practice's time
            zone.

    Raises:
        InputError: ``reported`` is of another client, or names no clinician of the practice.
    """
    if reported.client_id != client.id:
        raise InputError("the session check is of another client", field="client_id")
    try:
        clinician = practice.clinician(reported.clinician_id)
    except ValueError as exc:
        raise InputError("no clinician of the practice has this id", field="clinician_id") from exc
    if on is None:
        on = reported.session_time.astimezone(ZoneInfo(practice.time_zone)).date()
    plan = client.session_address
    state = reported.reported_state
    findings: list[SessionFinding] = []
    authorization: str | None = None
    try:
        authorization = check_jurisdiction(practice, clinician, state, on)
    except JurisdictionError as exc:
        findings.append(
            SessionFinding(
                code="not_allowed",
                severity="error",
                message=f"Not allowed: {exc} Do not hold the session by video here; follow the "
                "practice's procedure (reschedule, or see the client once they are back in a state "
                "where the clinician is licensed).",
            )
        )
    if state != plan.state:
        findings.append(
            SessionFinding(
                code="state_changed",
                severity="warning",
                message=f"The client is in {US_STATES[state]}, not in {US_STATES[plan.state]} as in the "
                f"plan on file. The consent was made under {US_STATES[plan.state]} rules: if the client "
                "stays, update their session address and check re-consent (consentkit reconsent-check).",
            )
        )
    if not _same_place(reported.reported_address, plan):
        findings.append(
            SessionFinding(
                code="address_changed",
                severity="warning",
                message="The client is at another address than the plan on file: update the emergency "
                "plan for this session (the address emergency services would be sent to) and the local "
                "emergency resources.",
            )
        )
    if not reported.emergency_contact_confirmed:
        findings.append(
            SessionFinding(
                code="emergency_contact_unconfirmed",
                severity="warning",
                message="The emergency contact was not confirmed at the start of this session: confirm the "
                "contact on file or record a new one before going on.",
            )
        )
    missing = client.local_resources.missing()
    if missing:
        words = {
            "dispatch": "a number for the emergency dispatch centre (or police) there",
            "emergency_room": "the nearest emergency room",
            "crisis_line": "a local crisis line",
        }
        findings.append(
            SessionFinding(
                code="local_resources_missing",
                severity="warning",
                message="The emergency plan lacks "
                + ", ".join(words[m] for m in missing)
                + " for the client's session address (local_resources in the client file). A 911 call "
                "placed by the clinician reaches the clinician's own dispatch centre, not the client's: "
                "find them before an emergency.",
            )
        )
    return SessionFindings(check=reported, findings=tuple(findings), authorization=authorization)


# --- the log ----------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LoggedSession:
    """One line of a session log.

    Attributes:
        line: the 1-based line number in the log.
        check: the location check.
        findings: what the check found when it was logged; ``None`` when it was logged unchecked.
        authorization: how the clinician was authorised, when checked and allowed.
    """

    line: int
    check: SessionCheck
    findings: tuple[SessionFinding, ...] | None
    authorization: str | None = None


def _address_to_dict(address: Address) -> dict[str, str | None]:
    return {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
    }


def _check_to_dict(check: SessionCheck) -> dict[str, Any]:
    return {
        "session_time": check.session_time.isoformat().replace("+00:00", "Z"),
        "client_id": check.client_id,
        "clinician_id": check.clinician_id,
        "reported_address": _address_to_dict(check.reported_address),
        "reported_state": check.reported_state,
        "reported_by": check.reported_by,
        "emergency_contact_confirmed": check.emergency_contact_confirmed,
        "notes": check.notes,
    }


def _line(record: SessionCheck | SessionFindings) -> bytes:
    if isinstance(record, SessionFindings):
        check, findings, authorization = record.check, record.findings, record.authorization
        data: dict[str, Any] = {"schema": SESSION_LOG_SCHEMA, **_check_to_dict(check)}
        data["checked"] = True
        data["allowed"] = record.allowed
        data["authorization"] = authorization
        data["findings"] = [f.to_dict() for f in findings]
    else:
        data = {"schema": SESSION_LOG_SCHEMA, **_check_to_dict(record), "checked": False, "findings": None}
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
                or item.get("code") not in _CODES
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


# --- the PDF ----------------------------------------------------------------------------------------

_FLAG_WORDS: Mapping[str, str] = {
    "not_allowed": "NOT ALLOWED",
    "state_changed": "other state",
    "address_changed": "other address: update emergency plan",
    "emergency_contact_unconfirmed": "emergency contact not confirmed",
}


def _when(moment: datetime, time_zone: str) -> str:
    # CLDR puts a narrow no-break space before AM/PM; not every font has it.
    return format_datetime(moment, time_zone, "en-US").replace("\u202f", " ")


def _flags(entry: LoggedSession) -> str:
    if entry.findings is None:
        return "not checked"
    if not entry.findings:
        return "none"
    return "; ".join(_FLAG_WORDS[f.code] for f in entry.findings)


def session_log_docx(
    entries: Sequence[LoggedSession], *, practice: Practice, client: Client, path: Path
) -> None:
    """Write the session log as a DOCX document (landscape, one table row per session).

    Raises:
        InputError: an entry is of another client.
    """
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    if any(e.check.client_id != client.id for e in entries):
        raise InputError("the session log is of another client", field="client_id")
    names = {c.id: c.display_name for c in practice.clinicians}
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(27.94), Cm(21.59)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.6))
    style = document.styles["Normal"]
    style.font.size = Pt(9)
    document.core_properties.title = "Session location log"
    document.core_properties.author = practice.name
    document.add_heading("Session location log", level=1)
    contact = client.emergency_contact
    document.add_paragraph(f"{practice.name} · {practice.address.one_line()}")
    document.add_paragraph(
        f"Client: {client.legal_name} (id {client.id}) · Plan on file: {client.session_address.one_line()} · "
        f"Emergency contact on file: {contact.name} ({contact.relationship})"
    )
    document.add_paragraph(f"Times are in {practice.time_zone}. {len(entries)} session check(s).")
    header = (
        "Session",
        "Clinician",
        "Reported location",
        "Reported by",
        "Emergency contact",
        "Flags",
        "Notes",
    )
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, header, strict=True):
        cell.text = title
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for entry in entries:
        check = entry.check
        row = table.add_row().cells
        values = (
            _when(check.session_time, practice.time_zone),
            names.get(check.clinician_id, check.clinician_id),
            check.reported_address.one_line(),
            check.reported_by,
            "confirmed" if check.emergency_contact_confirmed else "NOT confirmed",
            _flags(entry),
            check.notes,
        )
        for cell, value in zip(row, values, strict=True):
            cell.text = value
    if not entries:
        document.add_paragraph("No session checks are recorded.")
    document.add_paragraph(
        f"Made by consentkit from the log of {len(entries)} line(s). consentkit is not legal advice."
    )
    document.save(str(path))


def render_session_log_pdf(
    log_path: str | Path,
    out_pdf: str | Path,
    *,
    practice: Practice,
    client: Client,
    converter: Converter | None = None,
) -> Path:
    """Render a client's session log as a PDF/A-3b document, written atomically (mode 0600).

    The log is read and validated first; a DOCX is made in a private temporary folder and
    converted by LibreOffice like every other document of consentkit.

    Args:
        log_path: the client's session log (JSON Lines).
        out_pdf: the PDF to write (replaced if it exists).
        practice: the practice (its name, clinicians and time zone).
        client: the client the log is of.
        converter: the DOCX to PDF converter; default: a private LibreOffice for this call.

    Returns:
        ``out_pdf``.

    Raises:
        InputError: the log is damaged or of another client.
        ConversionError: LibreOffice failed.
    """
    out = Path(out_pdf)
    entries = read_session_log(log_path)
    with private_dir(out.parent, f".{out.name}.") as work:
        docx = work / "session-log.docx"
        session_log_docx(entries, practice=practice, client=client, path=docx)
        if converter is None:
            from ..convert import LibreOfficeConverter

            with LibreOfficeConverter() as own:
                pdf = own.convert([docx], work)[0]
        else:
            pdf = converter.convert([docx], work)[0]
        data = set_xmp(pdf.read_bytes(), title=f"Session location log {client.id}", subject=practice.name)
        atomic_write(out, data)
    return out
