"""Render, sign, seal and verify the example packets, the way a host application would.

Run through ``make demo``. For every client in ``examples/clients/`` it

1. renders the packet into ``OUT/<client id>/`` (DOCX, PDF/A, ``packet.pdf``, ``manifest.json``);
2. plays the signing application: takes the example signature records from
   ``examples/signatures/<client id>.json`` and records the SHA-256 of the ``packet.pdf`` the
   signers were shown (the example files carry a placeholder there);
3. finalizes and seals it into ``OUT/<client id>/archive.pdf`` with a demo certificate;
4. verifies the archive against the demo CA.

The demo replays a fixed scenario (packets rendered on 27 November 2026 at 15:30 UTC, signed
that afternoon, finalized at 20:00 UTC), so its output reads the same on every run; only the
seal's own signing time is the real clock.

The demo CA and the practice's seal certificate are generated on the first run with
``cryptography``: ``OUT/demo-ca.pem`` (the CA certificate, to verify with), ``OUT/demo-seal.p12``
and ``OUT/demo-seal.password`` (the private key and its password; never commit them). Later runs
reuse them, and skip every client whose ``archive.pdf`` exists: a signed archive is never
overwritten (delete ``OUT/<client id>/`` or run ``make clean`` to make it again).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from consentkit import ConsentKitError, load_client, load_practice, render_packet
from consentkit.convert import LibreOfficeConverter
from consentkit.lifecycle import fhir_associated_files
from consentkit.signing import SealConfig, finalize_packet, signatures_from_dict, verify_packet

HERE = Path(__file__).resolve().parent
#: The fixed scenario: when the packets are rendered and finalized.
DOCUMENT_DATE = date(2026, 11, 27)
RENDERED_AT = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)
FINALIZED_AT = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
ARCHIVE = "archive.pdf"


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "consentkit demo (not a real certificate)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
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


def demo_certificates(out: Path, practice_name: str) -> tuple[Path, SealConfig]:
    """The demo CA certificate and the practice's seal (made on the first run, then reused)."""
    ca_path, p12_path, password_path = out / "demo-ca.pem", out / "demo-seal.p12", out / "demo-seal.password"
    if ca_path.is_file() and p12_path.is_file() and password_path.is_file():
        return ca_path, SealConfig(pkcs12=p12_path, password=password_path.read_bytes().rstrip(b"\n"))
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("consentkit demo CA"))
        .issuer_name(_name("consentkit demo CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # RSA: an ECDSA seal would make pyHanko mark the file as PDF 2.0, which PDF/A-3 does not allow.
    seal_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    seal = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{practice_name} (document seal)"))
        .issuer_name(ca.subject)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True, ca=False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    password = secrets.token_urlsafe(24).encode()
    p12 = pkcs12.serialize_key_and_certificates(
        b"practice seal", seal_key, seal, [ca], serialization.BestAvailableEncryption(password)
    )
    out.mkdir(parents=True, exist_ok=True)
    _write_private(p12_path, p12)
    _write_private(password_path, password + b"\n")
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return ca_path, SealConfig(pkcs12=p12_path, password=password)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    args = parser.parse_args()
    out: Path = args.out
    practice = load_practice(HERE / "practice.toml")
    ca_path, seal = demo_certificates(out, practice.name)
    print(f"demo CA certificate: {ca_path}")
    failures = 0
    with LibreOfficeConverter() as converter:
        for path in sorted((HERE / "clients").glob("*.toml")):
            client = load_client(path)
            folder = out / client.id
            if (folder / ARCHIVE).exists():
                print(
                    f"{client.id}: {folder / ARCHIVE} exists; skipped (a signed archive is never overwritten)"
                )
                continue
            try:
                result = render_packet(
                    practice,
                    client,
                    folder,
                    converter=converter,
                    on=DOCUMENT_DATE,
                    now=RENDERED_AT,
                    packet_id=f"PKT-{client.id}",
                )
                manifest = result.manifest
                assert manifest.packet is not None  # a rendered packet has its packet.pdf
                print(
                    f"{client.id}: rendered {len(manifest.documents)} documents, "
                    f"{manifest.packet.pages} pages ({manifest.locale})"
                )
                for warning in result.warnings:
                    print(f"  warning: {warning}")
                records = HERE / "signatures" / f"{client.id}.json"
                if not records.is_file():
                    print(f"  no example signatures ({records.name}); not finalized")
                    continue
                data = json.loads(records.read_text(encoding="utf-8"))
                # What the signing application recorded when it showed the packet to the signers.
                data["review_pdf_sha256"] = manifest.packet.sha256
                signatures = signatures_from_dict(data, source=records.name, base_dir=records.parent)
                final = finalize_packet(
                    folder,
                    signatures,
                    folder / ARCHIVE,
                    seal=seal,
                    now=FINALIZED_AT,
                    extra_files=fhir_associated_files,  # embeds the FHIR Consent bundle
                )
                report = verify_packet(final.path, trust=ca_path)
            except ConsentKitError as exc:
                failures += 1
                print(f"{client.id}: error: {exc}", file=sys.stderr)
                continue
            verdict = "intact, seal trusted" if report.intact else "NOT INTACT: " + "; ".join(report.problems)
            print(f"  finalized {final.path} ({final.pages} pages, sealed) -> verify: {verdict}")
            if not report.intact:
                failures += 1
    print(f"check an archive yourself: consentkit verify {out}/C-1001/{ARCHIVE} --trust {ca_path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
