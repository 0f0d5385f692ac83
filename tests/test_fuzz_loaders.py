"""Fuzzing the loaders (issue 15): whatever the bytes, only ConsentKitError escapes and memory
stays bounded. Modest example counts keep it to seconds in ``make test``."""

from __future__ import annotations

import json
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentkit import iter_clients_csv, load_client, load_practice
from consentkit.errors import ConsentKitError
from consentkit.signing import load_signatures

from .conftest import EXAMPLES

FUZZ = settings(
    max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
PEAK = 64 * 1024 * 1024
HEADER = (EXAMPLES / "clients.csv").read_bytes().split(b"\n", 1)[0]
KEYS = st.sampled_from(
    [
        "id",
        "legal_name",
        "date_of_birth",
        "phone",
        "guardians",
        "participants",
        "session_address",
        "fees",
        "cancellation_notice_hours",
        "signers",
        "events",
        "image",
        "full_name",
        "role",
        "index",
        "method",
        "signed_at",
        "schema",
        "packet_id",
        "review_pdf_sha256",
        "clinicians",
        "licenses",
        "state",
        "name",
    ]
) | st.text(max_size=8)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=40,
)


def _only_our_errors(load: Callable[[Path], Any], path: Path) -> None:
    tracemalloc.start()
    try:
        try:
            result = load(path)
            if hasattr(result, "__iter__") and not isinstance(result, dict):
                list(result)
        except ConsentKitError:
            pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK


_FOLDER = tempfile.TemporaryDirectory(prefix="consentkit-fuzz-")  # removed when the run ends


def _write(suffix: str, data: bytes) -> Path:
    path = Path(_FOLDER.name) / f"input{suffix}"
    path.write_bytes(data)
    return path


@FUZZ
@given(
    body=st.binary(max_size=3000), header=st.sampled_from([HEADER, b"id,legal_name,guardians.1.name", b""])
)
def test_clients_csv_bytes(body: bytes, header: bytes) -> None:
    path = _write(".csv", header + b"\n" + body)
    _only_our_errors(lambda p: iter_clients_csv(p), path)
    _only_our_errors(lambda p: iter_clients_csv(p, encoding="cp1252"), path)


@FUZZ
@given(text=st.text(max_size=2000) | st.binary(max_size=2000))
def test_toml_files(text: str | bytes) -> None:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    path = _write(".toml", data)
    _only_our_errors(load_client, path)
    _only_our_errors(load_practice, path)


@FUZZ
@given(value=JSON)
def test_json_clients_and_practices(value: object) -> None:
    path = _write(".json", json.dumps(value).encode())
    _only_our_errors(load_client, path)
    _only_our_errors(load_practice, path)


@FUZZ
@given(value=JSON, signers=st.lists(JSON, max_size=3))
def test_signatures_files(value: object, signers: list[object]) -> None:
    data = json.loads((EXAMPLES / "signatures" / "C-1001.json").read_text(encoding="utf-8"))
    if isinstance(value, dict):
        data.update(value)
    data["signers"] = (
        [*data.get("signers", [])[:1], *signers] if isinstance(data.get("signers"), list) else signers
    )
    path = _write(".json", json.dumps(data).encode())
    _only_our_errors(load_signatures, path)


@FUZZ
@given(raw=st.binary(max_size=3000))
def test_signatures_bytes(raw: bytes) -> None:
    _only_our_errors(load_signatures, _write(".json", raw))
