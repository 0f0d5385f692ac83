"""Finalized archives for the FHIR and revocation tests, built once per session.

``C-1003`` (the minor: guardian and client sign) and ``C-1002`` (the couple: two adults) are
finalized as ``consentkit finalize`` does, sealed and with ``consent.fhir.json`` embedded;
``C-1001`` (an adult) is finalized unsealed and without it, as an archive from before the FHIR
export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from consentkit.lifecycle import fhir_associated_files
from consentkit.signing import finalize_packet

from .signing_fixtures import FINALIZED_AT, Pki, example_signatures, manifest_of

_CACHE: dict[str, Any] = {}


@dataclass
class Archive:
    folder: Path
    path: Path
    manifest: dict[str, Any]
    audit: dict[str, Any]
    #: The archive's bytes right after finalize, to show that nothing rewrote it.
    data: bytes


@pytest.fixture(scope="session")
def lifecycle_archives(
    tmp_path_factory: pytest.TempPathFactory, rendered_examples: dict[str, Path], pki: Pki
) -> dict[str, Archive]:
    if "archives" not in _CACHE:
        out = tmp_path_factory.mktemp("lifecycle-archives")
        archives = {}
        for name, with_fhir in (("minor", True), ("couple", True), ("adult", False)):
            folder = rendered_examples[name]
            client_id = manifest_of(folder)["client_id"]
            result = finalize_packet(
                folder,
                example_signatures(client_id, folder),
                out / f"{client_id}.pdf",
                seal=pki.seal if with_fhir else None,
                now=FINALIZED_AT,
                extra_files=fhir_associated_files if with_fhir else None,
            )
            archives[client_id] = Archive(
                folder=folder,
                path=result.path,
                manifest=manifest_of(folder),
                audit=json.loads(result.audit.to_json()),
                data=result.path.read_bytes(),
            )
        _CACHE["archives"] = archives
    return _CACHE["archives"]  # type: ignore[no-any-return]
