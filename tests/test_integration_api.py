# ruff: noqa: F811 (pytest fixtures are imported, then requested by name)
"""The integrator's API (issue 13): bytes in and out, threads and running event loops, every
problem at once, reprs without personal data, no external program at verify time.

The end-to-end tests run the real LibreOffice and pyHanko; the archives are checked with the
library's own verify and, independently, with pikepdf.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pikepdf
import pytest

from consentkit import Packet, aio, render_packet_bytes
from consentkit.errors import InputError
from consentkit.loaders import client_from_dict, load_client, practice_from_dict
from consentkit.models import Client, Money, Practice
from consentkit.signing import (
    SealConfig,
    finalize_archive,
    finalize_packet,
    signatures_from_dict,
    verify_packet,
)

from .conftest import DOC_DATE, EXAMPLES, NOW
from .signing_fixtures import (  # noqa: F401 (fixtures)
    FINALIZED_AT,
    SIGNATURES,
    Pki,
    pki,
)

CLIENT = "C-1002"  # a couple: one drawn signature (a PNG), one typed


@pytest.fixture(scope="module")
def couple(example_clients: dict[str, Client]) -> Client:
    return next(c for c in example_clients.values() if c.id == CLIENT)


def _render(practice: Practice, client: Client, converter: object = None) -> Packet:
    return render_packet_bytes(
        practice, client, on=DOC_DATE, now=NOW, packet_id=f"PKT-{client.id}", converter=converter
    )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def packet(practice: Practice, couple: Client, converter: object) -> Packet:
    return _render(practice, couple, converter)


def _signatures(packet: Packet) -> dict[str, Any]:
    """The example signatures as a web form would hand them over: plain data, the drawn image as
    the PNG bytes the canvas produced, the hash of the PDF the client was shown."""
    data = json.loads((SIGNATURES / f"{CLIENT}.json").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    assert packet.manifest.packet is not None
    data["review_pdf_sha256"] = packet.manifest.packet.sha256
    for signer in data["signers"]:
        if signer.get("image"):
            signer["image"] = (SIGNATURES / signer["image"]).read_bytes()
    return data  # type: ignore[no-any-return]


def _seal_in_memory(pki: Pki) -> SealConfig:
    # The key file as bytes from a secrets store, its password as text.
    return SealConfig(pkcs12=Path(pki.seal.pkcs12).read_bytes(), password="correct horse")  # type: ignore[arg-type]


def _sign_and_verify(packet: Packet, pki: Pki) -> tuple[bool, list[str], bytes]:
    archive = finalize_archive(packet, _signatures(packet), seal=_seal_in_memory(pki), now=FINALIZED_AT)
    report = verify_packet(archive.data, trust=pki.ca_pem.read_bytes())
    return report.intact, list(report.problems), archive.data


# --- bytes in, bytes out -----------------------------------------------------------------------


@pytest.mark.libreoffice
def test_a_packet_survives_between_requests_as_bytes(packet: Packet, pki: Pki) -> None:
    stored = packet.to_bytes()
    restored = Packet.from_bytes(stored)
    assert restored.manifest == packet.manifest
    assert restored.packet_pdf == packet.packet_pdf
    intact, problems, archive = _sign_and_verify(restored, pki)
    assert intact, problems
    with pikepdf.open(io.BytesIO(archive)) as pdf:
        assert "/Perms" in pdf.Root  # a certification seal
        assert "audit.json" in pdf.attachments


def test_a_damaged_stored_packet_is_refused(packet: Packet) -> None:
    stored = bytearray(packet.to_bytes())
    stored[len(stored) // 2] ^= 0xFF
    with pytest.raises(Exception) as caught:
        Packet.from_bytes(bytes(stored))
    assert type(caught.value).__module__ == "consentkit.errors"


# --- threads and event loops -------------------------------------------------------------------


@pytest.mark.libreoffice
def test_render_finalize_verify_inside_a_running_event_loop(
    practice: Practice, couple: Client, packet: Packet, pki: Pki, tmp_path: Path
) -> None:
    # pyHanko's synchronous API calls asyncio.run(), which fails inside a running loop: a
    # FastAPI handler used to get a RuntimeError from a sealed finalize and a false "not intact".
    async def handler() -> list[bool]:
        verdicts = []
        intact, problems, archive = _sign_and_verify(packet, pki)  # the synchronous API, in the loop
        assert intact, problems
        verdicts.append(intact)
        finalize_packet(packet, _signatures(packet), tmp_path / "a.pdf", seal=pki.seal, now=FINALIZED_AT)
        verdicts.append(verify_packet(tmp_path / "a.pdf", trust=pki.ca_pem).intact)
        rendered = await aio.render_packet_bytes(
            practice, couple, on=DOC_DATE, now=NOW, packet_id=f"PKT-{CLIENT}"
        )
        sealed = await aio.finalize_archive(
            rendered, _signatures(rendered), seal=_seal_in_memory(pki), now=FINALIZED_AT
        )
        verdicts.append((await aio.verify_packet(sealed.data, trust=pki.ca_pem.read_bytes())).intact)
        verdicts.append((await aio.verify_packet(archive)).intact)
        return verdicts

    assert asyncio.run(handler()) == [True, True, True, True]


@pytest.mark.libreoffice
def test_render_finalize_verify_from_four_threads_at_once(
    practice: Practice, couple: Client, pki: Pki, converter: object
) -> None:
    def one(_: int) -> tuple[bool, list[str]]:
        rendered = _render(practice, couple, converter)
        intact, problems, _archive = _sign_and_verify(rendered, pki)
        return intact, problems

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(4)))
    assert [intact for intact, _ in results] == [True] * 4, results


@pytest.mark.libreoffice
def test_verify_needs_no_external_program(
    packet: Packet, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, archive = _sign_and_verify(packet, pki)
    monkeypatch.setenv("PATH", str(tmp_path))  # no qpdf, no poppler, nothing
    report = verify_packet(archive, trust=pki.ca_pem.read_bytes())
    assert report.intact, report.problems


# --- every problem at once ---------------------------------------------------------------------


def _client_data() -> dict[str, Any]:
    with (EXAMPLES / "clients" / "adult.toml").open("rb") as f:
        return tomllib.load(f)


def test_four_bad_fields_are_four_problems() -> None:
    data = _client_data()
    data["date_of_birth"] = "31/02/1990"
    data["phone"] = "555-01"
    data["session_address"]["postal_code"] = "ABCDE"  # a nested model
    data["emergency_contact"]["phone"] = "call me"  # another nested model
    with pytest.raises(InputError) as caught:
        client_from_dict(data, source="intake form")
    problems = caught.value.problems
    assert [(p.source, p.field) for p in problems] == [
        ("intake form", "date_of_birth"),
        ("intake form", "phone"),
        ("intake form", "session_address.postal_code"),
        ("intake form", "emergency_contact.phone"),
    ]
    text = " ".join(str(p) for p in problems) + str(caught.value)
    for value in ("31/02/1990", "555-01", "ABCDE", "call me"):
        assert value not in text
    assert "(and 3 more problem(s))" in str(caught.value)


def test_problems_keep_the_csv_row_and_a_valid_file_has_none() -> None:
    data = _client_data()
    data["email"] = "not-an-address"
    data["unknown_thing"] = 1
    with pytest.raises(InputError) as caught:
        client_from_dict(data, source="clients.csv", row=7)
    assert {(p.row, p.field) for p in caught.value.problems} == {(7, "email"), (7, "unknown_thing")}
    client_from_dict(_client_data())  # the unchanged example is valid


# --- plain Python values -----------------------------------------------------------------------


def test_money_accepts_decimal() -> None:
    assert Money.parse(Decimal("140.50")) == Money.parse("140.50")
    with (EXAMPLES / "practice.toml").open("rb") as f:
        data = tomllib.load(f)
    data["fees"]["session"] = Decimal("150")
    assert practice_from_dict(data).fees.session == Money.parse("150.00")


def test_signatures_accept_png_bytes(packet: Packet) -> None:
    signatures = signatures_from_dict(_signatures(packet))
    drawn = [s for s in signatures.signers if s.image is not None]
    assert drawn and drawn[0].image is not None
    assert drawn[0].image[:8] == b"\x89PNG\r\n\x1a\n"


# --- no personal data in reprs -----------------------------------------------------------------


def _texts(value: object) -> Iterator[str]:
    """Every text and date held anywhere in a model (the personal data a repr could leak)."""
    if attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from _texts(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, str) and len(value) > 3:
        yield value
    elif hasattr(value, "isoformat"):
        yield value.isoformat()  # type: ignore[union-attr]


@pytest.mark.parametrize("path", sorted((EXAMPLES / "clients").glob("*.toml")), ids=lambda p: p.stem)
def test_reprs_show_the_client_id_only(path: Path) -> None:
    client = load_client(path)
    personal = {
        text
        for text in _texts(client)
        if text not in (client.id, client.clinician_id, client.preferred_language)
    }
    personal |= {p.e164[-7:] for p in (client.phone, client.emergency_contact.phone) if p is not None}
    assert client.legal_name in personal and client.session_address.city in personal  # the test can fail
    nested = [getattr(client, f.name) for f in attrs.fields(Client)]
    shown = [repr(client), str(client), repr([v for v in nested if not isinstance(v, str)])]
    assert f"id={client.id!r}" in shown[0]
    for text in shown:
        leaked = sorted(p for p in personal if p in text)
        assert not leaked, f"{path.name}: repr shows personal data"


def test_signature_records_hide_personal_data(packet: Packet) -> None:
    signatures = signatures_from_dict(_signatures(packet))
    text = repr(signatures) + repr(signatures.signers) + repr(signatures.events)
    for signer in signatures.signers:
        assert signer.full_name not in text
        if signer.ip_address:
            assert signer.ip_address not in text
        if signer.attested_location is not None:
            assert signer.attested_location.address not in text
    assert repr(packet).startswith("Packet(")
    assert len(repr(packet)) < 200
