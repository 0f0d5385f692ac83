"""What batch generation reports per client, and the report files it writes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import attrs

from .._csv import write_csv
from .._files import atomic_writer
from .._version import __version__
from ..errors import ConsentKitError, InputError

__all__ = [
    "REPORT_CSV",
    "REPORT_JSON",
    "BatchResult",
    "Status",
    "row_error",
    "write_report_csv",
    "write_report_json",
]

REPORT_CSV = "report.csv"
REPORT_JSON = "report.json"
REPORT_SCHEMA = "consentkit.batch-report/1"

#: ``ok``: the packet was written; ``skipped``: a complete packet for the same inputs was already
#: there, or the row is blank (``note`` says ``blank``); ``failed``: the row could not be read or
#: its packet could not be made (see ``error``).
Status = Literal["ok", "skipped", "failed"]


def row_error(error: str | BaseException, *, source: str | None, row: int) -> str:
    """A row's error message, led by where the row is (``clients.csv row 14``, or ``row 14`` when
    the clients did not come from a file), as the messages of unreadable rows are.

    An :class:`~consentkit.errors.InputError` raised while rendering names the field but not the
    row; it gets the row's place in front of its field. Anything else not from consentkit shows
    only its type (its text may quote a value).
    """
    where = f"{source} row {row}" if source else f"row {row}"
    if isinstance(error, InputError) and error.source is None and error.row is None:
        return str(InputError(error.reason, source=source, row=row, field=error.field))
    if isinstance(error, BaseException):
        message = (
            str(error) if isinstance(error, ConsentKitError) else f"unexpected error ({type(error).__name__})"
        )
    else:
        message = error
    return (
        message
        if message.startswith(f"{where}:") or message.startswith(f"{where},")
        else f"{where}: {message}"
    )


def _to_dict(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


def _to_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class BatchResult:
    """The outcome for one input row."""

    #: The row: the spreadsheet row number for a CSV (header = 1), else the 1-based position.
    row: int
    #: The client's id, or ``None`` when the row had none that could be read.
    client_id: str | None
    #: The client's folder inside the output folder (``None`` when no folder was assigned).
    folder: str | None
    status: Status
    #: Why the row failed: the file, row, field or document concerned, never the values in it.
    error: str = ""
    #: Warnings recorded in the packet's manifest (e.g. a missing translation).
    warnings: tuple[str, ...] = attrs.field(default=(), converter=_to_tuple)
    #: The files of the packet, relative to the output folder, with their SHA-256 (hex).
    hashes: Mapping[str, str] = attrs.field(factory=dict, converter=_to_dict)
    #: Seconds spent on this client (its share of the LibreOffice call included).
    seconds: float = 0.0
    #: Of ``seconds``, this client's share of the time LibreOffice ran.
    libreoffice_seconds: float = 0.0
    #: Why a row was skipped when it is not for a complete packet: ``blank`` (every cell empty).
    note: str = ""

    @property
    def outputs(self) -> tuple[str, ...]:
        """The packet's files, relative to the output folder."""
        return tuple(self.hashes)

    @property
    def ok(self) -> bool:
        """The packet is complete (written now or found complete)."""
        return self.status != "failed"

    def to_json(self) -> dict[str, Any]:
        """The result as plain data (as in ``report.json``)."""
        return {
            "row": self.row,
            "client_id": self.client_id,
            "folder": self.folder,
            "status": self.status,
            "error": self.error,
            "warnings": list(self.warnings),
            "outputs": list(self.outputs),
            "sha256": dict(self.hashes),
            "seconds": round(self.seconds, 3),
            "note": self.note,
        }


_CSV_FIELDS = (
    "row",
    "client_id",
    "folder",
    "status",
    "error",
    "warnings",
    "outputs",
    "sha256",
    "seconds",
    "note",
)


def write_report_csv(results: Iterable[BatchResult], path: str | Path) -> Path:
    """Write ``report.csv``: one line per row, sorted by row.

    ``outputs`` and ``sha256`` list the files and their hashes in the same order, separated by
    ``;``; ``warnings`` are separated by ``;`` too. A cell a spreadsheet would run as a formula
    (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a ``'`` in front.
    The file is replaced atomically.
    """
    rows = (
        [
            result.row,
            result.client_id or "",
            result.folder or "",
            result.status,
            result.error,
            ";".join(result.warnings),
            ";".join(result.outputs),
            ";".join(result.hashes.values()),
            f"{result.seconds:.3f}",
            result.note,
        ]
        for result in sorted(results, key=lambda r: r.row)
    )
    return write_csv(path, _CSV_FIELDS, rows)


def write_report_json(
    results: Iterable[BatchResult], path: str | Path, *, seconds: float | None = None
) -> Path:
    """Write ``report.json``: a summary (counts per status) and one entry per row, sorted by row.

    The file is replaced atomically.
    """
    path = Path(path)
    ordered = sorted(results, key=lambda r: r.row)
    counts = {status: sum(1 for r in ordered if r.status == status) for status in ("ok", "skipped", "failed")}
    counts["blank"] = sum(1 for r in ordered if r.note == "blank")
    report: dict[str, Any] = {
        "schema": REPORT_SCHEMA,
        "consentkit_version": __version__,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "summary": {"rows": len(ordered), **counts},
        "results": _Rows(ordered),
    }
    if seconds is not None:
        report["summary"]["seconds"] = round(seconds, 3)
    # Encoded piece by piece straight into the file: thousands of rows never sit in memory as
    # one string (the indented encoder iterates the lazy list below one result at a time).
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False)
    with atomic_writer(path) as handle:
        for chunk in encoder.iterencode(report):
            handle.write(chunk.encode("utf-8"))
        handle.write(b"\n")
    return path


class _Rows(list[dict[str, Any]]):
    """A list, for the JSON encoder, whose entries are made only as it iterates."""

    def __init__(self, results: Sequence[BatchResult]) -> None:
        super().__init__()
        self._results = results

    def __len__(self) -> int:
        return len(self._results)

    def __bool__(self) -> bool:
        return bool(self._results)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (result.to_json() for result in self._results)
