"""Resuming a batch: what a packet was made from, and whether a packet folder is complete.

Every packet written by a batch records, in its ``manifest.json``, the SHA-256 of everything its
content depends on (``inputs_sha256``): the client, the practice, the template set's files, the
options that change the text, and the consentkit version. A later run skips a client whose folder
holds a manifest with the same hash and whose files all match the hashes in that manifest; any
other folder is regenerated. The temporary folders a killed run leaves (all dot-prefixed) are
removed at the start of the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import attrs
import cattrs

from .._files import sha256_file
from .._version import __version__
from ..models import Client, Practice
from ..records import MANIFEST_NAME, PACKET_NAME, Manifest, RecordError
from ..rendering import TemplateSet
from ..rules import data_sha256

__all__ = [
    "INPUTS_KEY",
    "VerifiedPacket",
    "clean_stale",
    "inputs_sha256",
    "manifest_client_id",
    "packet_files",
    "plain_form",
    "rules_data_sha256",
    "template_file_hashes",
    "verified_outputs",
]

#: The manifest key holding the hash of a packet's inputs.
INPUTS_KEY = "inputs_sha256"
#: Dot-prefixed leftovers of interrupted runs: staging folders of packets (``.<name>.staging-*``),
#: folders moved aside while being replaced (``.<name>.old-*``), conversion folders
#: (``.consentkit-chunk-*``) and temporary files of atomic writes (``.<name>.*.tmp``).
_STALE = (".*.staging-*", ".*.old-*", ".consentkit-chunk-*", ".*.tmp")


#: Models as plain data: every attrs field by name, enums by value, tuples as lists; dates,
#: amounts and other leaf values stay as they are and are written by ``json.dumps(default=str)``.
_plain = cattrs.Converter(unstruct_collection_overrides={tuple: list})


def plain_form(value: Any) -> Any:
    """Models as JSON-able data with a stable form (what :func:`inputs_sha256` hashes)."""
    return _plain.unstructure(value)


def _template_files(template_set: TemplateSet) -> dict[str, str]:
    files = {
        name: sha256_file(template_set.root / name)
        for name in ("templates.toml", "clauses.toml")
        if (template_set.root / name).is_file()
    }
    # The templates were read and hashed when the set was loaded.
    files.update({info.path.name: info.sha256 for info in template_set.templates})
    return files


def inputs_sha256(
    practice: Practice,
    client: Client,
    template_set: TemplateSet,
    *,
    options: dict[str, Any],
    template_hashes: dict[str, str] | None = None,
    practice_form: Any = None,
) -> str:
    """The SHA-256 of everything a client's packet is made from.

    Args:
        practice: the practice.
        client: the client.
        template_set: the template set the client's packet uses.
        options: the options that change the packet's content (document date, template ids).
        template_hashes: the template set's file hashes, if already known (saves reading them).
        practice_form: ``plain_form(practice)``, if already known (a batch computes it once).
    """
    data = {
        "consentkit": __version__,
        "practice": practice_form if practice_form is not None else plain_form(practice),
        "client": plain_form(client),
        "template_set": {
            "locale": template_set.locale,
            "files": template_hashes if template_hashes is not None else _template_files(template_set),
        },
        "options": plain_form(options),
    }
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rules_data_sha256() -> str:
    """The SHA-256 of the bundled state rule data (every jurisdiction's file)."""
    return data_sha256()


def template_file_hashes(template_set: TemplateSet) -> dict[str, str]:
    """The SHA-256 of each file of a template set (index, clauses and DOCX templates)."""
    return _template_files(template_set)


def _read_manifest(folder: Path) -> Manifest | None:
    try:
        return Manifest.from_json((folder / MANIFEST_NAME).read_bytes())
    except (OSError, RecordError):
        return None


def manifest_client_id(folder: Path) -> str | None:
    """The client id recorded in a packet folder's manifest, if the folder holds one."""
    if folder.is_symlink() or not folder.is_dir():
        return None
    manifest = _read_manifest(folder)
    return manifest.client_id if manifest is not None else None


def packet_files(manifest: Manifest) -> dict[str, str]:
    """The files a complete packet's manifest lists (DOCX and PDF of every document, the packet
    PDF; no document PDFs when the documents were converted joined),
    by name, with their SHA-256; empty when the manifest does not describe a complete
    packet."""
    files: dict[str, str] = {}
    for document in manifest.documents:
        files[document.docx] = document.docx_sha256
        if document.pdf is not None and document.pdf_sha256 is not None:
            files[document.pdf] = document.pdf_sha256
        elif document.packet_pages is None:
            # Neither a PDF of its own nor pages in packet.pdf (a joined conversion): incomplete.
            return {}
    if manifest.packet is None:
        return {}
    files[manifest.packet.file] = manifest.packet.sha256
    return files


@attrs.frozen
class VerifiedPacket:
    """A complete packet found on disk (see :func:`verified_outputs`)."""

    #: Its files, relative to the folder's parent, with their SHA-256.
    hashes: dict[str, str]
    #: The warnings its manifest records (a resumed run reports them again for the skipped row).
    warnings: tuple[str, ...]


def verified_outputs(folder: Path, expected_inputs: str) -> VerifiedPacket | None:
    """The files of a complete packet made from ``expected_inputs``, with their SHA-256, and
    the warnings recorded when it was made.

    Returns ``None`` unless the folder's manifest records ``expected_inputs`` and every file it
    lists exists with the hash it records.
    """
    if folder.is_symlink() or not folder.is_dir():
        return None
    manifest = _read_manifest(folder)
    if manifest is None or manifest.inputs_sha256 != expected_inputs:
        return None
    listed = packet_files(manifest)
    if PACKET_NAME not in listed:
        return None
    hashes: dict[str, str] = {}
    for name, expected in listed.items():
        path = folder / name
        if Path(name).name != name or not path.is_file() or sha256_file(path) != expected:
            return None
        hashes[f"{folder.name}/{name}"] = expected
    hashes[f"{folder.name}/{MANIFEST_NAME}"] = sha256_file(folder / MANIFEST_NAME)
    return VerifiedPacket(hashes=hashes, warnings=manifest.warnings)


def clean_stale(out_dir: Path) -> int:
    """Remove what interrupted runs left in ``out_dir`` (dot-prefixed temporary files and folders).

    Returns:
        How many entries were removed.
    """
    removed = 0
    for pattern in _STALE:
        for path in out_dir.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            removed += 1
    return removed
