"""Shared helpers for the signing tests: an offline test PKI, example signatures, finalized archives.

Heavy results (the finalized example archives) are cached in this module, so every test module
that imports the fixtures shares one computation per session.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from consentkit.signing import SealConfig, finalize_packet, signatures_from_dict

from .conftest import EXAMPLES

SIGNATURES = EXAMPLES / "signatures"
#: After every example signature (the example scenario ends at 19:20 UTC).
FINALIZED_AT = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
_CACHE: dict[str, Any] = {}


# --- an offline PKI -------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "consentkit tests"),
        ]
    )


def _usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _issue(
    subject: str,
    key: Any,
    issuer: x509.Certificate | None,
    issuer_key: Any,
    *,
    ca: bool,
    eku: list[x509.ObjectIdentifier] | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=2))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(sign=not ca, ca=ca), critical=True)
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class Pki:
    """A test CA, a practice seal (RSA) under it, a second unrelated CA and a TSA certificate."""

    folder: Path
    ca_pem: Path
    other_ca_pem: Path
    seal: SealConfig
    ec_seal: SealConfig
    tsa_cert: x509.Certificate
    tsa_key: rsa.RSAPrivateKey


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _issue("Test Root CA", ca_key, None, ca_key, ca=True)
    seal_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    seal = _issue("Magnolia Counseling Group seal", seal_key, ca, ca_key, ca=False)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_cert = _issue("EC seal", ec_key, ca, ca_key, ca=False)
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa = _issue("Test TSA", tsa_key, ca, ca_key, ca=False, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = _issue("Unrelated CA", other_key, None, other_key, ca=True)
    password = b"correct horse"
    (folder / "seal.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", seal_key, seal, [ca], serialization.BestAvailableEncryption(password)
        )
    )
    (folder / "ec.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"ec", ec_key, ec_cert, [ca], serialization.BestAvailableEncryption(password)
        )
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "other-ca.pem").write_bytes(other.public_bytes(serialization.Encoding.PEM))
    return Pki(
        folder=folder,
        ca_pem=folder / "ca.pem",
        other_ca_pem=folder / "other-ca.pem",
        seal=SealConfig(pkcs12=folder / "seal.p12", password=password),
        ec_seal=SealConfig(pkcs12=folder / "ec.p12", password=password),
        tsa_cert=tsa,
        tsa_key=tsa_key,
    )


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if "pki" not in _CACHE:
        _CACHE["pki"] = make_pki(tmp_path_factory.mktemp("pki"))
    return _CACHE["pki"]  # type: ignore[no-any-return]


# --- a local RFC 3161 timestamp server ------------------------------------------------------------


@pytest.fixture
def tsa_url(pki: Pki) -> Iterator[str]:
    """An HTTP timestamp server on localhost answering with pyHanko's test timestamper."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import tsp
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps import DummyTimeStamper

    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(pki.tsa_cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            pki.tsa_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsa"
    finally:
        server.shutdown()
        server.server_close()


# --- example signatures ---------------------------------------------------------------------------


def manifest_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def example_signature_data(client_id: str, folder: Path) -> dict[str, Any]:
    """The example records for a client, with the review hash a signing page would record."""
    data = json.loads((SIGNATURES / f"{client_id}.json").read_text(encoding="utf-8"))
    data["review_pdf_sha256"] = manifest_of(folder)["packet"]["sha256"]
    return data  # type: ignore[no-any-return]


def example_signatures(client_id: str, folder: Path, mutate: Any = None) -> Any:
    data = copy.deepcopy(example_signature_data(client_id, folder))
    if mutate is not None:
        mutate(data)
    return signatures_from_dict(data, source=f"{client_id}.json", base_dir=SIGNATURES)


@dataclass
class Finalized:
    folder: Path
    archive: Path
    manifest: dict[str, Any]
    audit: dict[str, Any]
    seconds: float


@pytest.fixture(scope="session")
def sealed_examples(
    tmp_path_factory: pytest.TempPathFactory, rendered_examples: dict[str, Path], pki: Pki
) -> dict[str, Finalized]:
    """Every example packet finalized and sealed once (keyed by client id)."""
    if "sealed" not in _CACHE:
        import time

        out = tmp_path_factory.mktemp("sealed")
        results = {}
        for folder in rendered_examples.values():
            client_id = manifest_of(folder)["client_id"]
            started = time.perf_counter()
            result = finalize_packet(
                folder,
                example_signatures(client_id, folder),
                out / f"{client_id}.pdf",
                seal=pki.seal,
                now=FINALIZED_AT,
            )
            results[client_id] = Finalized(
                folder=folder,
                archive=result.path,
                manifest=manifest_of(folder),
                audit=json.loads(result.audit.to_json()),
                seconds=time.perf_counter() - started,
            )
        _CACHE["sealed"] = results
    return _CACHE["sealed"]  # type: ignore[no-any-return]
