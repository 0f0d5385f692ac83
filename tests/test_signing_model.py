"""Signature records: strict loading, readable per-field errors, PNG validation."""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from consentkit.errors import InputError
from consentkit.signing import Method, Role, load_signatures, signatures_from_dict
from consentkit.signing._model import png_size

from .conftest import EXAMPLES

HASH = "ab" * 32


def png(width: int = 120, height: int = 40, mode: str = "RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), (10, 20, 90, 255) if mode == "RGBA" else 0).save(buffer, format="PNG")
    return buffer.getvalue()


def signer(role: str = "client", **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "role": role,
        "full_name": "Ana Example",
        "method": "typed",
        "signed_at": "2026-11-27T16:02:11Z",
        "ip_address": "203.0.113.5",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
        "intent_statement": "By typing my name I sign.",
        "esign_consent_at": "2026-11-27T16:00:00Z",
        "attested_location": {"address": "1 Main Street, Jackson", "state": "MS"},
        "identity_verification": {"method": "photo ID on video"},
    }
    record.update(changes)
    return record


def document(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "packet_id": "PKT-1",
        "review_pdf_sha256": HASH,
        "signers": [signer(), signer("guardian", index=1, full_name="Gail Example")],
    }
    data.update(changes)
    return data


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(InputError) as info:
        signatures_from_dict(data, source="signatures.json")
    return str(info.value)


def test_a_valid_document_loads_with_derived_keys() -> None:
    signatures = signatures_from_dict(document(), source="signatures.json")
    assert [s.key for s in signatures.signers] == ["client", "guardian-1"]
    assert signatures.signers[0].role is Role.CLIENT and signatures.signers[0].method is Method.TYPED
    assert signatures.signers[1].signed_at.tzinfo is not None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["signers"][1].update(signed_at="2026-11-27T16:02:11+01:00"),
            "signatures.json, signers.2.signed_at: must be in UTC",
        ),
        (
            lambda d: d["signers"][1].update(signed_at="yesterday"),
            "signers.2.signed_at: not an ISO 8601 time",
        ),
        (
            lambda d: d["signers"][0].update(ip_address="300.1.1.1"),
            "signers.1.ip_address: not an IPv4 or IPv6",
        ),
        (lambda d: d["signers"][1].update(shoe_size=9), "signers.2.shoe_size: unknown field"),
        (lambda d: d.update(extra=True), "signatures.json, extra: unknown field"),
        (
            lambda d: d["signers"][1]["attested_location"].update(state="XX"),
            "signers.2.attested_location.state: not a US state",
        ),
        (lambda d: d["signers"][1].pop("user_agent"), "signers.2.user_agent: required field is missing"),
        (lambda d: d["signers"][0].update(role="witness"), "signers.1.role: must be one of"),
        (lambda d: d["signers"][0].update(method="stamped"), "signers.1.method: must be one of"),
        (lambda d: d["signers"][0].update(index=2), "signers.1.index: only co_client and guardian"),
        (lambda d: d["signers"][1].update(index=0), "signers.2.index: must be a whole number"),
        (lambda d: d["signers"].append(d["signers"][0]), "signers.3: a second record for client"),
        (lambda d: d.update(review_pdf_sha256="xyz"), "review_pdf_sha256: must be a SHA-256 hash"),
        (lambda d: d.update(signers=[]), "signers: at least one signer is needed"),
        (
            lambda d: d["signers"][0].update(esign_consent_at="2026-11-28T00:00:00Z"),
            "signers.1.esign_consent_at: is after signed_at",
        ),
        (lambda d: d["signers"][0].update(full_name="  "), "signers.1.full_name: must not be empty"),
        (lambda d: d["signers"][0].update(user_agent="a\x00b"), "signers.1.user_agent: contains control"),
        (
            lambda d: d.update(events=[{"at": "2026-11-27T15:00:00Z", "actor": "practice"}]),
            "events.1.action: required field is missing",
        ),
        (lambda d: d.update(schema="other/9"), "schema: unsupported format"),
    ],
)
def test_a_bad_field_is_named_with_its_path(change: Any, expected: str) -> None:
    data = copy.deepcopy(document())
    change(data)
    assert expected in error_of(data)


def test_errors_do_not_echo_values() -> None:
    data = document()
    data["signers"][0]["ip_address"] = "secret-value-123"
    assert "secret-value-123" not in error_of(data)


def test_ip_addresses_are_normalised() -> None:
    data = document()
    data["signers"][0]["ip_address"] = " 2001:DB8:0:0::1 "
    assert signatures_from_dict(data).signers[0].ip_address == "2001:db8::1"


def test_a_drawn_signature_accepts_base64_and_data_urls() -> None:
    image = png()
    for text in (
        base64.b64encode(image).decode(),
        "data:image/png;base64," + base64.b64encode(image).decode(),
    ):
        data = document()
        data["signers"][0].update(method="drawn", image=text)
        record = signatures_from_dict(data).signers[0]
        assert record.image == image and record.image_sha256 is not None


def test_a_drawn_signature_reads_a_png_next_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "sig.png").write_bytes(png())
    data = document()
    data["signers"][0].update(method="drawn", image="sig.png")
    path = tmp_path / "signatures.json"
    path.write_text(json.dumps(data))
    assert load_signatures(path).signers[0].image == png()


@pytest.mark.parametrize("name", ["../sig.png", "/etc/sig.png"])
def test_an_image_path_must_stay_beside_the_file(tmp_path: Path, name: str) -> None:
    data = document()
    data["signers"][0].update(method="drawn", image=name)
    path = tmp_path / "signatures.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"signers\.1\.image: the image file must be named relative"):
        load_signatures(path)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _with_header(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\0"))
        + _chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the image is empty"),
        (b"GIF89a" + b"\0" * 40, "not a PNG image"),
        (png()[:40], "truncated"),
        (png()[:20] + bytes([png()[20] ^ 0xFF]) + png()[21:], "checksum mismatch"),
        (_with_header(0, 10), "zero width or height"),
        (_with_header(2001, 10), "larger than 2000x1000"),
        (_with_header(100, 1001), "larger than 2000x1000"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (512 * 1024), "larger than 512 KB"),
    ],
)
def test_a_bad_png_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        png_size(data)
    record = document()
    record["signers"][0].update(method="drawn", image=base64.b64encode(data).decode())
    assert "signers.1.image" in error_of(record)


def test_a_typed_signature_has_no_image_and_a_drawn_one_needs_it() -> None:
    data = document()
    data["signers"][0].update(image=base64.b64encode(png()).decode())
    assert "signers.1.image: a typed signature has no image" in error_of(data)
    data = document()
    data["signers"][0].update(method="drawn")
    assert "signers.1.image: a drawn signature needs its PNG image" in error_of(data)


def test_a_real_png_passes_with_its_size() -> None:
    assert png_size(png(300, 90)) == (300, 90)
    assert png_size(png(1, 1, "L")) == (1, 1)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_png_checking_never_crashes_on_arbitrary_bytes(data: bytes) -> None:
    prefix = b"\x89PNG\r\n\x1a\n"
    for candidate in (data, prefix + data):
        with contextlib.suppress(ValueError):
            png_size(candidate)


@pytest.mark.parametrize("path", sorted((EXAMPLES / "signatures").glob("*.json")), ids=lambda p: p.stem)
def test_the_example_signature_files_load(path: Path) -> None:
    signatures = load_signatures(path)
    assert signatures.packet_id == f"PKT-{path.stem}"
    assert {s.key for s in signatures.signers} >= {"client", "clinician"}
