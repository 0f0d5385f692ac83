"""Load practices and clients from TOML, JSON and CSV files.

This is the edge where outside data becomes models. Every problem is reported as an
:class:`~consentkit.errors.InputError` naming the file, the CSV row and the dotted field path, e.g.
``clients.csv row 14, emergency_contact.phone: not a valid phone number``. Values themselves are
never echoed back (they may be protected health information).

CSV files have one client per row. Nested fields use dotted column names
(``session_address.city``, ``emergency_contact.phone``) and list items a 1-based index
(``participants.1.name``, ``guardians.1.phone``). Empty cells count as absent. Row numbers are the
ones a spreadsheet shows: the header is row 1, the first client row 2.

Outside files are read only when they are regular files within a size limit (a FIFO never makes a
loader wait), and their content is bounded too: nesting depth, list indexes in column names, rows.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
import tomllib
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import attrs

from ._edge import STRUCTURE_ERRORS, input_error, leaf_converter
from ._files import NotRegularFileError, open_regular, read_regular
from .errors import InputError
from .models import (
    Client,
    Compact,
    Connection,
    Device,
    Money,
    Phone,
    Population,
    Practice,
    ServiceType,
)

__all__ = [
    "MAX_CSV_BYTES",
    "MAX_CSV_ROWS",
    "MAX_FILE_BYTES",
    "MAX_LIST_INDEX",
    "MAX_NESTING",
    "ClientRow",
    "client_from_bytes",
    "client_from_dict",
    "iter_clients_csv",
    "load_client",
    "load_clients_csv",
    "load_practice",
    "practice_from_bytes",
    "practice_from_dict",
]

T = TypeVar("T")

#: The largest practice or client file (TOML or JSON) read.
MAX_FILE_BYTES = 4 * 1024 * 1024
#: The largest clients CSV read, and the most client rows in it.
MAX_CSV_BYTES = 64 * 1024 * 1024
MAX_CSV_ROWS = 100_000
#: The largest list index in a CSV column name (``guardians.50.phone``).
MAX_LIST_INDEX = 50
#: How deeply tables and lists may nest in a TOML or JSON file (the models need fewer than 8).
MAX_NESTING = 32

# Leaf values are normalised and validated by the models' own converters and validators, which
# name the field on failure; cattrs only shapes the nesting and rejects unknown keys.
_LEAVES = (str, int, bool, Decimal, date, Phone, Money, Device, Connection, ServiceType, Population, Compact)
_converter = leaf_converter(_LEAVES, predicates=(lambda t: t == dict[str, Any],))


def _structure(data: object, cls: type[T], *, source: str, row: int | None = None) -> T:
    if not isinstance(data, dict):
        raise InputError("expected a table of fields", source=source, row=row)
    try:
        return _converter.structure(data, cls)
    except STRUCTURE_ERRORS as exc:
        raise input_error(exc, source=source, row=row, cls=cls, data=data, leaves=_LEAVES) from exc


def practice_from_dict(data: dict[str, Any], *, source: str = "<input>") -> Practice:
    """Build a :class:`Practice` from plain data (as read from TOML or JSON).

    Raises:
        InputError: a field is missing, unknown or invalid.
    """
    return _structure(data, Practice, source=source)


def client_from_dict(data: dict[str, Any], *, source: str = "<input>", row: int | None = None) -> Client:
    """Build a :class:`Client` from plain data.

    Raises:
        InputError: a field is missing, unknown or invalid.
    """
    return _structure(data, Client, source=source, row=row)


def read_error(exc: OSError, *, source: str) -> InputError:
    """The :class:`InputError` for an input file that cannot be read (or is no regular file)."""
    if isinstance(exc, NotRegularFileError):
        return InputError(f"cannot read file: it {exc.strerror}", source=source)
    return InputError(f"cannot read file ({exc.strerror or type(exc).__name__})", source=source)


def check_nesting(data: object, *, source: str, limit: int = MAX_NESTING) -> None:
    """Refuse data whose tables and lists nest deeper than ``limit`` (without recursing).

    Raises:
        InputError: naming the path to the first place that is too deep.
    """
    stack: list[tuple[object, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > limit:
            raise InputError(
                f"nested more than {limit} levels deep", source=source, field=".".join(path[:limit]) or None
            )
        if isinstance(value, dict):
            stack.extend((item, (*path, str(key))) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, (*path, str(n))) for n, item in enumerate(value, start=1))


def parse_json(raw: bytes, *, source: str) -> Any:
    """Parse JSON input bytes, every problem (not UTF-8, malformed, nested too deeply) an
    :class:`InputError` that never quotes the text.

    Raises:
        InputError: as above.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", source=source) from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", source=source
        ) from exc
    except RecursionError:
        raise InputError(f"nested more than {MAX_NESTING} levels deep", source=source) from None
    check_nesting(data, source=source)
    return data


def _parse_toml(raw: bytes, *, source: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", source=source) from exc
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message is "<what> (at line L, column C)" and never quotes the document.
        raise InputError(f"not valid TOML ({exc})", source=source) from exc
    except RecursionError:
        raise InputError(f"nested more than {MAX_NESTING} levels deep", source=source) from None
    check_nesting(data, source=source)
    return data


def _read_mapping(path: Path) -> dict[str, Any]:
    source = path.name
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise InputError("unsupported file type (use .toml or .json)", source=source)
    try:
        raw = read_regular(path, limit=MAX_FILE_BYTES)
    except OSError as exc:
        raise read_error(exc, source=source) from exc
    if suffix == ".toml":
        return _parse_toml(raw, source=source)
    data = parse_json(raw, source=source)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", source=source)
    return data


def _mapping_from_bytes(raw: bytes, *, source: str) -> dict[str, Any]:
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", source=source)
    if raw.lstrip()[:1] == b"{":
        data = parse_json(raw, source=source)
        if not isinstance(data, dict):  # pragma: no cover - a "{" starts an object
            raise InputError("expected a JSON object", source=source)
        return data
    return _parse_toml(raw, source=source)


def practice_from_bytes(raw: bytes, *, source: str = "<input>") -> Practice:
    """A :class:`Practice` from the bytes of a TOML or JSON document (JSON when it starts with
    ``{``), as uploaded to a web back end or piped to ``consentkit render --practice -``.

    Raises:
        InputError: the document cannot be parsed or a field is invalid (every field named).
    """
    return practice_from_dict(_mapping_from_bytes(raw, source=source), source=source)


def client_from_bytes(raw: bytes, *, source: str = "<input>") -> Client:
    """A :class:`Client` from the bytes of a TOML or JSON document (JSON when it starts with ``{``).

    Raises:
        InputError: the document cannot be parsed or a field is invalid (every field named).
    """
    return client_from_dict(_mapping_from_bytes(raw, source=source), source=source)


def load_practice(path: str | Path) -> Practice:
    """Load a practice from a TOML (or JSON) file.

    Raises:
        InputError: the file cannot be read or a field is invalid.
    """
    path = Path(path)
    return practice_from_dict(_read_mapping(path), source=path.name)


def load_client(path: str | Path) -> Client:
    """Load one client from a TOML or JSON file.

    Raises:
        InputError: the file cannot be read or a field is invalid.
    """
    path = Path(path)
    return client_from_dict(_read_mapping(path), source=path.name)


@attrs.frozen
class ClientRow:
    """One row of a clients CSV: the client, or the error that row produced, or a blank row."""

    row: int
    client: Client | None
    error: InputError | None
    data: dict[str, Any] = attrs.field(repr=False, eq=False)
    #: The CSV file's name (for messages about this row).
    source: str = attrs.field(default="<input>", kw_only=True)
    #: Every cell of the row was empty (or the line was empty): nothing to do, nothing wrong.
    blank: bool = attrs.field(default=False, kw_only=True)


def _list_index(part: str) -> int | None:
    """The 0-based list position of a column name part, ``None`` when the part is a field name."""
    if not (part.isascii() and part.isdigit()):
        return None
    return int(part[:6]) - 1 if len(part) <= 6 else MAX_LIST_INDEX


def _check_column(column: str, *, source: str) -> None:
    for part in column.split("."):
        position = _list_index(part)
        if position is None:
            continue
        if position < 0:
            raise InputError("list columns count from 1", source=source, row=1, field=column)
        if position >= MAX_LIST_INDEX:
            raise InputError(f"list columns go up to {MAX_LIST_INDEX}", source=source, row=1, field=column)


def _set_dotted(target: dict[str, Any], dotted: str, value: str, *, source: str, row: int) -> None:
    parts = dotted.split(".")
    node: Any = target
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        position = _list_index(part)
        if position is not None:
            if not isinstance(node, list):
                raise InputError("a numbered column needs a list field", source=source, row=row, field=dotted)
            while len(node) <= position:
                node.append({})
            if last:
                node[position] = value
            else:
                node = node[position]
            continue
        if not isinstance(node, dict):
            raise InputError("conflicting column names", source=source, row=row, field=dotted)
        if last:
            node[part] = value
        else:
            following = parts[index + 1]
            node = node.setdefault(part, [] if _list_index(following) is not None else {})


def _compact_lists(value: Any) -> Any:
    """Drop list items whose cells were all empty (``guardians.2.*`` left blank)."""
    if isinstance(value, dict):
        return {k: _compact_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_compact_lists(v) for v in value if v != {}]
    return value


#: Bytes the declared encoding cannot decode become lone surrogates (``surrogateescape``), which
#: no correctly decoded text holds: a row holding one is reported, the rows around it are not lost.
_UNDECODED = re.compile("[\udc80-\udcff]")


def _encoding(encoding: str, *, source: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, TypeError, ValueError):
        raise InputError("unknown text encoding (try utf-8 or cp1252)", source=source) from None
    # A byte-order mark at the start of a UTF-8 file (spreadsheet exports write one) is not data.
    return "utf-8-sig" if name == "utf-8" else name


def iter_clients_csv(path: str | Path, *, encoding: str = "utf-8") -> Iterator[ClientRow]:
    """Read a clients CSV row by row; a bad row yields its error and reading goes on.

    Every record of the file gives one :class:`ClientRow`, in order, blank rows included (marked
    ``blank``), so a report can have a line for each row a spreadsheet shows.

    Args:
        path: the CSV file.
        encoding: the file's text encoding: ``utf-8`` (the default; a byte-order mark is
            skipped) or what the exporting program used, often ``cp1252`` for spreadsheet
            software on Windows. A row holding bytes this encoding cannot decode is reported as
            that row's error; the other rows are read.

    Raises:
        InputError: the file itself cannot be read (not a regular file, larger than
            :data:`MAX_CSV_BYTES`), has no usable header, or has more than :data:`MAX_CSV_ROWS`
            rows (raised when that row is reached).
    """
    path = Path(path)
    source = path.name
    codec = _encoding(encoding, source=source)
    undecodable = (
        f"holds bytes that are not {encoding} text (is the file in another encoding? see --encoding)"
    )
    with contextlib.ExitStack() as stack:
        try:
            raw = stack.enter_context(open_regular(path, limit=MAX_CSV_BYTES))
        except OSError as exc:
            raise read_error(exc, source=source) from exc
        text = io.TextIOWrapper(raw, encoding=codec, errors="surrogateescape", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError("the file is empty", source=source) from None
        except csv.Error as exc:
            raise InputError(f"unreadable header ({exc})", source=source, row=1) from exc
        if any(_UNDECODED.search(h) for h in header):
            raise InputError(f"the header {undecodable}", source=source, row=1)
        header = [h.strip() for h in header]
        if "id" not in header:
            raise InputError("the header has no 'id' column", source=source, row=1)
        duplicates = sorted({h for h in header if header.count(h) > 1})
        if duplicates:
            raise InputError("a column name appears twice", source=source, row=1, field=duplicates[0])
        for column in header:
            _check_column(column, source=source)
        id_column = header.index("id")
        row_number = 1
        while True:
            before = reader.line_num
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if reader.line_num == before:  # the reader cannot get past this point
                    raise InputError(f"malformed CSV ({exc})", source=source, row=row_number + 1) from exc
                row_number += 1
                error = InputError(f"malformed CSV ({exc})", source=source, row=row_number)
                yield ClientRow(row=row_number, client=None, error=error, data={}, source=source)
                continue
            row_number += 1
            if row_number - 1 > MAX_CSV_ROWS:
                raise InputError(f"more than {MAX_CSV_ROWS} client rows; split the file", source=source)
            if not any(c.strip() for c in cells):
                yield ClientRow(row=row_number, client=None, error=None, data={}, source=source, blank=True)
                continue
            known_id = cells[id_column] if id_column < len(cells) else ""
            id_data = {"id": known_id} if known_id.strip() and not _UNDECODED.search(known_id) else {}
            if any(_UNDECODED.search(c) for c in cells):
                error = InputError(f"the row {undecodable}", source=source, row=row_number)
                yield ClientRow(row=row_number, client=None, error=error, data=id_data, source=source)
                continue
            if len(cells) != len(header):
                reason = (
                    "more cells than the header has columns"
                    if len(cells) > len(header)
                    else ("fewer cells than the header has columns")
                )
                yield ClientRow(
                    row=row_number,
                    client=None,
                    error=InputError(reason, source=source, row=row_number),
                    data=id_data,
                    source=source,
                )
                continue
            data: dict[str, Any] = {}
            try:
                for column, cell in zip(header, cells, strict=True):
                    if cell.strip():
                        _set_dotted(data, column, cell, source=source, row=row_number)
                data = _compact_lists(data)
                client = client_from_dict(data, source=source, row=row_number)
            except InputError as exc:
                yield ClientRow(row=row_number, client=None, error=exc, data=data, source=source)
                continue
            yield ClientRow(row=row_number, client=client, error=None, data=data, source=source)


def load_clients_csv(path: str | Path, *, encoding: str = "utf-8") -> list[Client]:
    """Load every client of a CSV file, failing on the first bad row (blank rows are skipped).

    Use :func:`iter_clients_csv` to keep going past bad rows (as ``consentkit batch`` does).

    Raises:
        InputError: the file or a row is invalid; the error names the row and field.
    """
    clients = []
    for item in iter_clients_csv(path, encoding=encoding):
        if item.error is not None:
            raise item.error
        if item.client is not None:
            clients.append(item.client)
    return clients
