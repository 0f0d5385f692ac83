"""The practice's seal: an invisible PAdES certification signature over the finished file.

pyHanko appends the signature as an incremental update to the bytes in memory; nothing rewrites
the file afterwards (any rewrite would break the seal). The certification (DocMDP) allows no
changes, so a validator reports any later update as a modification.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import aiohttp
import attrs
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError

from .._threads import outside_event_loop
from ..errors import SigningError
from ..records import SealRecord

__all__ = ["SEAL_FIELD", "LoadedSeal", "SealConfig", "load_seal", "seal_info", "seal_pdf"]

#: The name of the signature field the seal occupies.
SEAL_FIELD = "ConsentKitSeal"


def _path_or_bytes(value: object) -> Path | bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return Path(value)  # type: ignore[arg-type]


def _describe_pkcs12(value: Path | bytes) -> str:
    return repr(value) if isinstance(value, Path) else f"<{len(value)} bytes>"


def _password(value: object) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError("the seal password must be text or bytes")


@attrs.frozen(kw_only=True)
class SealConfig:
    """The practice's sealing certificate.

    Read the password from a file or a secret store; never put it on a command line.
    """

    #: A PKCS#12 file (``.p12``/``.pfx``) holding the private key, the certificate and its chain,
    #: or its bytes (as a secret store or a key management service returns them).
    pkcs12: Path | bytes = attrs.field(converter=_path_or_bytes, repr=_describe_pkcs12)
    #: The PKCS#12 password (``None`` for an unencrypted file); text is encoded as UTF-8.
    password: bytes | None = attrs.field(default=None, converter=_password, repr=False)

    @property
    def name(self) -> str:
        """How messages name the certificate: its file name, or ``the seal certificate``."""
        return self.pkcs12.name if isinstance(self.pkcs12, Path) else "(given as bytes)"


@attrs.frozen
class LoadedSeal:
    """A seal ready to sign with."""

    signer: signers.SimpleSigner = attrs.field(repr=False)
    #: The certificate subject, human-readable.
    subject: str
    #: SHA-256 of every certificate the seal will carry (the signer's and the PKCS#12 chain),
    #: recorded in the audit record so that verify can tell when one was changed.
    certificates: tuple[str, ...] = ()


def load_seal(config: SealConfig) -> LoadedSeal:
    """Open the PKCS#12 file.

    Raises:
        SigningError: the file cannot be read, or the password is wrong, or it holds no key.
    """
    if isinstance(config.pkcs12, bytes):
        data = config.pkcs12
    else:
        try:
            data = config.pkcs12.read_bytes()
        except OSError as exc:
            raise SigningError(f"cannot read the seal certificate {config.name} ({exc.strerror})") from exc
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=config.password)
    except (ValueError, TypeError) as exc:
        raise SigningError(
            f"cannot open the seal certificate {config.name}: not PKCS#12, or the password is wrong"
        ) from exc
    cert = signer.signing_cert
    if cert is None:
        raise SigningError(f"the seal certificate {config.name} holds no certificate")
    algorithm = cert.public_key.algorithm
    if algorithm != "rsa":
        # pyHanko marks a file signed with ECDSA or EdDSA as PDF 2.0 (ISO 32002), and PDF/A-3 is
        # based on PDF 1.7, so such a seal would break the archival claim.
        raise SigningError(
            f"the seal certificate {config.name} has a {algorithm.upper()} key; a PDF/A-3 archive "
            "needs an RSA seal key (an ECDSA or EdDSA signature makes the file PDF 2.0)"
        )
    carried = {hashlib.sha256(c.dump()).hexdigest() for c in [cert, *signer.cert_registry]}
    return LoadedSeal(
        signer=signer, subject=str(cert.subject.human_friendly), certificates=tuple(sorted(carried))
    )


def seal_info(seal: LoadedSeal, timestamp_url: str | None) -> SealRecord:
    """What a record (``audit.json``, ``revocation.json``) says of the seal the file will get."""
    return SealRecord(
        signer=seal.subject,
        level="PAdES B-T" if timestamp_url else "PAdES B-B",
        timestamp_url=timestamp_url,
        field=SEAL_FIELD,
        certificates=seal.certificates,
    )


def seal_pdf(pdf: bytes, seal: LoadedSeal, *, timestamp_url: str | None = None, reason: str = "") -> bytes:
    """Append the seal (PAdES B-B, or B-T with an RFC 3161 timestamp from ``timestamp_url``).

    Raises:
        SigningError: pyHanko failed, or the timestamp server could not be reached or answered
            badly.
    """
    meta = PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
        reason=reason or None,
    )
    timestamper = HTTPTimeStamper(timestamp_url, timeout=30) if timestamp_url else None
    out = io.BytesIO()
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        # pyHanko's synchronous signer runs asyncio.run: never inside a caller's running loop.
        outside_event_loop(PdfSigner(meta, seal.signer, timestamper=timestamper).sign_pdf, writer, output=out)
    except (TimeoutError, TimestampRequestError, aiohttp.ClientError) as exc:
        raise SigningError(
            f"the timestamp server did not give a timestamp ({type(exc).__name__}: {exc})"
        ) from exc
    except (PyHankoSigningError, PdfError, ValueError, OSError) as exc:
        raise SigningError(f"sealing failed ({type(exc).__name__}: {exc})") from exc
    return out.getvalue()
