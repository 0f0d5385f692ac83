"""Read a signatures JSON file into :class:`Signatures`, reporting bad fields by their path."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .._edge import STRUCTURE_ERRORS, input_error, leaf_converter
from .._files import read_regular
from ..errors import InputError
from ..loaders import check_nesting, parse_json, read_error
from ._model import MAX_EVENTS, MAX_PNG_BYTES, MAX_SIGNERS, Method, Role, Signatures

__all__ = ["MAX_SIGNATURES_BYTES", "load_signatures", "signatures_from_dict"]

#: The largest signatures file read: room for several drawn signatures inline (base64) and the
#: most events a packet may record.
MAX_SIGNATURES_BYTES = 8 * 1024 * 1024

# The models' converters and validators check leaf values and name the field; cattrs only shapes
# the nesting and rejects unknown keys.
_converter = leaf_converter((str, int, bytes, datetime, Role, Method, int | None, str | None, bytes | None))

_DATA_URL = "data:image/png;base64,"


def _image_bytes(value: object, *, base_dir: Path | None, source: str, field: str) -> bytes:
    """A drawn signature given as PNG bytes, as base64 (optionally a ``data:`` URL) or as a
    relative ``.png`` path (in a signatures file only)."""
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        if len(data) > MAX_PNG_BYTES:
            raise InputError(
                f"the image is larger than {MAX_PNG_BYTES // 1024} KB", source=source, field=field
            )
        return data
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            "must be PNG bytes, base64 PNG data or the name of a .png file", source=source, field=field
        )
    text = value.strip()
    if text.lower().endswith(".png"):
        relative = PurePosixPath(text)
        if base_dir is None:
            raise InputError(
                "an image file can only be named in a signatures file", source=source, field=field
            )
        if relative.is_absolute() or ".." in relative.parts:
            raise InputError(
                "the image file must be named relative to the signatures file, without ..",
                source=source,
                field=field,
            )
        path = base_dir / Path(*relative.parts)
        try:
            # Only a regular file, never through a link: a FIFO would block finalize forever.
            return read_regular(path, limit=MAX_PNG_BYTES, follow_symlinks=False)
        except OSError as exc:
            raise InputError(
                f"cannot read the image file ({exc.strerror or type(exc).__name__})",
                source=source,
                field=field,
            ) from exc
    if text.startswith(_DATA_URL):
        text = text[len(_DATA_URL) :]
    if len(text) > (MAX_PNG_BYTES * 4) // 3 + 8:
        raise InputError(f"the image is larger than {MAX_PNG_BYTES // 1024} KB", source=source, field=field)
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError("not valid base64 data", source=source, field=field) from exc


def signatures_from_dict(
    data: dict[str, Any], *, source: str = "<input>", base_dir: Path | None = None
) -> Signatures:
    """Build :class:`Signatures` from plain data (as read from JSON).

    Args:
        data: the parsed JSON object.
        source: the file name for messages.
        base_dir: the folder that relative image file names are read from.

    Raises:
        InputError: a field is missing, unknown or invalid; the error names the field path
            (``signers.2.signed_at``) and never echoes the value.
    """
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", source=source)
    check_nesting(data, source=source)
    data = dict(data)
    # Counted before anything is built: 200,000 events would take minutes and gigabytes.
    for name, limit in (("events", MAX_EVENTS), ("signers", MAX_SIGNERS)):
        items = data.get(name)
        if isinstance(items, list) and len(items) > limit:
            raise InputError(f"more than {limit} entries", source=source, field=name)
    signers = data.get("signers")
    if isinstance(signers, list):
        prepared = []
        for number, signer in enumerate(signers, start=1):
            if isinstance(signer, dict) and "image" in signer and signer["image"] is not None:
                signer = dict(signer)
                signer["image"] = _image_bytes(
                    signer["image"], base_dir=base_dir, source=source, field=f"signers.{number}.image"
                )
            prepared.append(signer)
        data["signers"] = prepared
    try:
        return _converter.structure(data, Signatures)
    except STRUCTURE_ERRORS as exc:
        raise input_error(exc, source=source, cls=Signatures, data=data) from exc


def load_signatures(path: str | Path) -> Signatures:
    """Load the signatures for one packet from a JSON file (format: ``docs/signing.md``).

    A drawn signature's ``image`` is base64 PNG data (a ``data:image/png;base64,`` prefix is
    allowed) or the name of a ``.png`` file next to the JSON file.

    Raises:
        InputError: the file cannot be read, is not JSON, or a field is invalid.
    """
    path = Path(path)
    source = path.name
    try:
        raw = read_regular(path, limit=MAX_SIGNATURES_BYTES)
    except OSError as exc:
        raise read_error(exc, source=source) from exc
    return signatures_from_dict(parse_json(raw, source=source), source=source, base_dir=path.parent)
