"""Load practices and clients from TOML, JSON and CSV files.

This is the edge where outside data becomes models. Every problem is reported as an
:class:`~consentkit.errors.InputError` naming the file, the CSV row and the dotted field path, e.g.
``clients.csv row 14, emergency_contact.phone: not a valid phone number``. Values themselves are
never echoed back (they may be protected health information).

CSV files have one client per row. Nested fields use dotted column names
(``session_address.city``, ``emergency_contact.phone``) and list items a 1-based index
(``participants.1.name``, ``guardians.1.phone``). Empty cells count as absent. Row numbers are the
ones a spreadsheet shows: the header is row 1, the first client row 2.
"""

from __future__ import annotations

import csv
import json
import tomllib
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from .errors import InputError
from .models import (
    Client,
    Compact,
    Connection,
    Device,
    FieldValueError,
    Money,
    Phone,
    Population,
    Practice,
    ServiceType,
)

__all__ = [
    "ClientRow",
    "client_from_dict",
    "iter_clients_csv",
    "load_client",
    "load_clients_csv",
    "load_practice",
    "practice_from_dict",
]

T = TypeVar("T")

_converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)


def _passthrough(value: Any, _type: Any) -> Any:
    return value


# Leaf values are normalised and validated by the models' own converters and validators, which
# name the field on failure; cattrs only shapes the nesting and rejects unknown keys.
for _leaf in (
    str,
    int,
    bool,
    Decimal,
    date,
    Phone,
    Money,
    Device,
    Connection,
    ServiceType,
    Population,
    Compact,
):
    _converter.register_structure_hook(_leaf, _passthrough)
_converter.register_structure_hook_func(lambda t: t == dict[str, Any], _passthrough)


def _describe(exc: BaseException, path: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """Flatten a cattrs error tree into (dotted path, reason) pairs."""
    if isinstance(exc, ForbiddenExtraKeysError):
        for key in sorted(exc.extra_fields):
            yield ".".join((*path, key)), "unknown field"
    elif isinstance(exc, ClassValidationError):
        with_notes, without_notes = exc.group_exceptions()
        for sub, note in with_notes:
            yield from _describe(sub, (*path, note.name))
        for sub in without_notes:
            yield from _describe(sub, path)
    elif isinstance(exc, IterableValidationError):
        with_index, without_index = exc.group_exceptions()
        for item, index_note in with_index:
            position = index_note.index
            label = str(position + 1) if isinstance(position, int) else str(position)
            yield from _describe(item, (*path, label))
        for sub in without_index:
            yield from _describe(sub, path)
    elif isinstance(exc, ExceptionGroup):
        for sub in exc.exceptions:
            yield from _describe(sub, path)
    elif isinstance(exc, FieldValueError):
        # Raised from a model's __init__: its field is relative to the class at ``path``; when the
        # error surfaced while cattrs structured that very attribute, do not repeat the name.
        if path and path[-1] == exc.field:
            yield ".".join(path), exc.reason
        else:
            yield ".".join((*path, exc.field)), exc.reason
    elif isinstance(exc, KeyError):
        yield ".".join(path), "required field is missing"
    elif isinstance(exc, TypeError) and "missing" in str(exc) and "required" in str(exc):
        missing = str(exc).split("'")
        name = missing[1] if len(missing) > 1 else "?"
        yield ".".join((*path, name)), "required field is missing"
    elif isinstance(exc, TypeError | AttributeError):
        yield ".".join(path), "has the wrong shape (expected a table/object or a list)"
    else:
        yield ".".join(path), str(exc) or type(exc).__name__


def _structure(data: object, cls: type[T], *, source: str, row: int | None = None) -> T:
    if not isinstance(data, dict):
        raise InputError("expected a table of fields", source=source, row=row)
    try:
        return _converter.structure(data, cls)
    except (ClassValidationError, ForbiddenExtraKeysError, FieldValueError, ValueError, TypeError) as exc:
        problems = list(_describe(exc, ()))
        field, reason = problems[0] if problems else ("", str(exc))
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise InputError(reason + more, source=source, row=row, field=field or None) from exc


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


def _read_mapping(path: Path) -> dict[str, Any]:
    source = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=source) from exc
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            return tomllib.loads(raw.decode("utf-8"))
        if suffix == ".json":
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict):
                raise InputError("expected a JSON object", source=source)
            return data
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", source=source) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", source=source) from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", source=source
        ) from exc
    raise InputError("unsupported file type (use .toml or .json)", source=source)


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
    """One row of a clients CSV: the client, or the error that row produced."""

    row: int
    client: Client | None
    error: InputError | None
    data: dict[str, Any] = attrs.field(repr=False, eq=False)


def _set_dotted(target: dict[str, Any], dotted: str, value: str, *, source: str, row: int) -> None:
    parts = dotted.split(".")
    node: Any = target
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part.isdigit():
            if not isinstance(node, list):
                raise InputError("a numbered column needs a list field", source=source, row=row, field=dotted)
            position = int(part) - 1
            if position < 0:
                raise InputError("list columns count from 1", source=source, row=row, field=dotted)
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
            node = node.setdefault(part, [] if following.isdigit() else {})


def _compact_lists(value: Any) -> Any:
    """Drop list items whose cells were all empty (``guardians.2.*`` left blank)."""
    if isinstance(value, dict):
        return {k: _compact_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_compact_lists(v) for v in value if v != {}]
    return value


def iter_clients_csv(path: str | Path) -> Iterator[ClientRow]:
    """Read a clients CSV row by row; a bad row yields its error and reading goes on.

    Raises:
        InputError: the file itself cannot be read or has no usable header.
    """
    path = Path(path)
    source = path.name
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=source) from exc
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError("the file is empty", source=source) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"unreadable header ({exc})", source=source, row=1) from exc
        header = [h.strip() for h in header]
        if "id" not in header:
            raise InputError("the header has no 'id' column", source=source, row=1)
        duplicates = sorted({h for h in header if header.count(h) > 1})
        if duplicates:
            raise InputError(f"duplicate column {duplicates[0]!r}", source=source, row=1)
        row_number = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                row_number += 1
                error = InputError(f"malformed CSV ({exc})", source=source, row=row_number)
                yield ClientRow(row=row_number, client=None, error=error, data={})
                continue
            row_number += 1
            if not any(c.strip() for c in cells):
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
                    data={},
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
                yield ClientRow(row=row_number, client=None, error=exc, data=data)
                continue
            yield ClientRow(row=row_number, client=client, error=None, data=data)


def load_clients_csv(path: str | Path) -> list[Client]:
    """Load every client of a CSV file, failing on the first bad row.

    Use :func:`iter_clients_csv` to keep going past bad rows (as ``consentkit batch`` does).

    Raises:
        InputError: the file or a row is invalid; the error names the row and field.
    """
    clients = []
    for item in iter_clients_csv(path):
        if item.error is not None:
            raise item.error
        assert item.client is not None
        clients.append(item.client)
    return clients
