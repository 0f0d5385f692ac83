"""The seal checks of :func:`~consentkit.signing.verify_packet`: the PAdES seal itself (pyHanko),
the signature container the seal's own signature cannot cover, the certificates it carries, the
file's earlier revisions, and what the record says of the seal."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias

import attrs

# asn1crypto ships no type information.
from asn1crypto import cms, pem  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]
from cryptography import x509 as crypto_x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from .._threads import outside_event_loop
from ..errors import VerificationError
from ..records import AUDIT_NAME, SealRecord

__all__ = ["Check", "SealStatus", "load_trust", "seal_checks"]

_KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
)


@attrs.frozen
class Check:
    """One thing :func:`~consentkit.signing.verify_packet` looked at.

    Attributes:
        name: ``structure``, ``archival``, ``audit record``, ``reviewed packet``,
            ``page content``, ``revocation``, ``original packet`` or ``seal``.
        ok: ``True`` passed, ``False`` failed, ``None`` not applicable (e.g. not sealed).
        detail: what was found, in one line.
    """

    name: str
    ok: bool | None
    detail: str


@attrs.frozen
class SealStatus:
    """What pyHanko found about the seal."""

    #: The sealing certificate's subject.
    signer: str
    #: The signed bytes hash as signed (nothing in the covered bytes changed).
    intact: bool
    #: The signature value is cryptographically valid.
    valid: bool
    #: The seal covers the whole file: no update was appended after it.
    covers_whole_file: bool
    #: No modification the certification forbids.
    docmdp_ok: bool
    #: The certificate chains to a ``trust`` root; ``None`` when no trust roots were given.
    trusted: bool | None
    #: The RFC 3161 timestamp (UTC, ISO 8601), if the seal has one.
    timestamp: str | None = None
    #: Whether the timestamp token is valid (and trusted, when trust roots were given).
    timestamp_ok: bool | None = None


#: What can name a trust root: a PEM/DER file, its bytes, or a parsed certificate (asn1crypto's,
#: which pyHanko uses, or cryptography's).
TrustSource: TypeAlias = "str | Path | bytes | asn1_x509.Certificate | crypto_x509.Certificate"


def load_trust(sources: TrustSource | Sequence[TrustSource]) -> list[asn1_x509.Certificate]:
    """Read trust-root certificates: PEM (one or more per file) or DER files, the same as bytes,
    or certificates already parsed (asn1crypto or cryptography).

    Raises:
        VerificationError: a file cannot be read or holds no certificate.
    """
    items: Sequence[TrustSource] = sources if isinstance(sources, list | tuple) else [sources]
    roots: list[asn1_x509.Certificate] = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, crypto_x509.Certificate):
            der = item.public_bytes(serialization.Encoding.DER)
            roots.append(asn1_x509.Certificate.load(der))
            continue
        if not isinstance(item, str | Path | bytes):  # an asn1crypto certificate
            roots.append(item)
            continue
        if isinstance(item, bytes):
            data, name = item, f"certificate {number} (given as bytes)"
        else:
            path = Path(item)
            name = f"the trust file {path.name}"
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise VerificationError(f"cannot read {name} ({exc.strerror})") from exc
        try:
            if pem.detect(data):
                found = [
                    asn1_x509.Certificate.load(der)
                    for kind, _, der in pem.unarmor(data, multiple=True)
                    if kind == "CERTIFICATE"
                ]
            else:
                found = [asn1_x509.Certificate.load(data)]
            for cert in found:
                _ = cert.subject.human_friendly  # parse now, not in the middle of validation
        except (ValueError, TypeError) as exc:
            raise VerificationError(f"{name} holds no readable certificate") from exc
        if not found:
            raise VerificationError(f"{name} holds no certificate")
        roots.extend(found)
    return roots


def _der_length(raw: bytes) -> int | None:
    """The length of the DER object at the start of ``raw`` (``None`` if it is not one)."""
    if len(raw) < 2 or raw[0] != 0x30:
        return None
    first = raw[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(raw) < 2 + count:
        return None
    end = 2 + count + int.from_bytes(raw[2 : 2 + count], "big")
    return end if end <= len(raw) else None


def _certificates_consistent(signed_data: Any, roots: Sequence[asn1_x509.Certificate]) -> bool:
    """Every certificate in the seal is signed by its issuer.

    pyHanko only needs the certificates on the signer's path; this also catches a change to a
    certificate it would ignore (an extra copy of a CA certificate, say). With trust roots every
    certificate's issuer must be at hand (in the seal or among the roots); without them, a
    certificate whose issuer is absent is passed over, as a seal may carry an incomplete chain.
    """
    embedded = [choice.chosen for choice in signed_data["certificates"] if choice.name == "certificate"]
    try:
        pool = [crypto_x509.load_der_x509_certificate(c.dump()) for c in [*embedded, *roots]]
    except (ValueError, UnsupportedAlgorithm, crypto_x509.InvalidVersion):
        return False
    for cert in pool[: len(embedded)]:
        issuers = [c for c in pool if c.subject == cert.issuer]
        if not issuers:
            if roots:
                return False
            continue
        for issuer in issuers:
            try:
                cert.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
                continue
            break
        else:
            return False
    return True


def _carried(embedded: Any) -> list[str]:
    """SHA-256 of each certificate the seal carries, sorted."""
    try:
        certificates = embedded.signed_data["certificates"]
        return sorted({hashlib.sha256(c.chosen.dump()).hexdigest() for c in certificates})
    except (ValueError, TypeError, KeyError):
        return []


def _container_problems(data: bytes, embedded: Any, roots: Sequence[asn1_x509.Certificate]) -> list[str]:
    """Checks of the signature container itself, which the seal's own signature cannot cover."""
    try:
        _, before, after, _ = (int(n) for n in embedded.sig_object["/ByteRange"])
        raw = bytes(embedded.sig_object["/Contents"])
    except (KeyError, TypeError, ValueError):
        return ["the seal has no usable byte range"]
    if not re.fullmatch(rb"<[0-9A-F]*>", data[before:after]):  # pyHanko writes upper case
        return ["the seal's signature container was altered (it is not as written)"]
    length = _der_length(raw)
    if length is None or any(raw[length:]):
        return ["the seal's signature container holds extra data"]
    try:
        der = raw[:length]
        if cms.ContentInfo.load(der).dump(force=True) != der:
            return ["the seal's signature container is not DER-encoded as written"]
        signed_data = embedded.signed_data
        signers = signed_data["signer_infos"]
        shape_ok = (
            signed_data["version"].native == "v1"
            and len(signers) == 1
            and signers[0]["version"].native == "v1"
            and signed_data["encap_content_info"]["content_type"].native == "data"
            and signed_data["encap_content_info"]["content"].native is None
            and [a.dump() for a in signed_data["digest_algorithms"]]
            == [signers[0]["digest_algorithm"].dump()]
        )
        certificates_ok = _certificates_consistent(signed_data, roots)
    except (ValueError, TypeError, KeyError) as exc:
        return [f"the seal's signature container cannot be read ({type(exc).__name__})"]
    if not shape_ok:
        return ["the seal's signature container is not shaped as finalize writes it"]
    if not certificates_ok:
        return ["a certificate inside the seal was altered"]
    return []


def _no_seal(expected: SealRecord | None, roots: object) -> Check:
    if expected:
        return Check("seal", False, f"{AUDIT_NAME} says the file was sealed, but it has no seal")
    if roots is not None:
        return Check("seal", False, "not sealed, but a trusted seal was required (--trust)")
    return Check("seal", None, "not sealed: changes made after finalizing cannot be detected")


def _seal_problems(
    data: bytes,
    embedded: Any,
    status: Any,
    seal: SealStatus,
    expected: SealRecord | None,
    roots: list[asn1_x509.Certificate] | None,
) -> list[str]:
    problems = []
    if not seal.intact:
        problems.append("the sealed bytes were changed")
    elif not seal.valid:
        problems.append("the seal's signature is not valid")
    if not seal.covers_whole_file:
        problems.append("data was appended after the seal")
    if not seal.docmdp_ok:
        problems.append("the file was modified in a way the seal forbids")
    try:
        problems += _container_problems(data, embedded, roots or [])
    except Exception as exc:  # the container is outside the signed bytes: anything may be in it
        problems.append(f"the seal's signature container cannot be read ({type(exc).__name__})")
    if not expected:
        problems.append(f"{AUDIT_NAME} does not mention a seal")
    else:
        if expected.certificates is not None and sorted(expected.certificates) != _carried(embedded):
            problems.append(f"the certificates in the seal are not the ones {AUDIT_NAME} records")
        if expected.signer != seal.signer:
            problems.append(f"sealed by {seal.signer}, but {AUDIT_NAME} names {expected.signer}")
    if seal.timestamp_ok is False:
        problems.append(
            "the seal's timestamp is not valid" + (" or not trusted" if roots is not None else "")
        )
    if roots is not None and seal.intact and seal.valid and not status.trusted:
        problems.append(f"the sealing certificate ({seal.signer}) does not chain to the given trust roots")
    return problems


def _signature_values(root: Any) -> list[bytes]:
    """The ``/Contents`` of every signed signature field of a revision's catalog."""
    found: list[bytes] = []
    form = root.get("/AcroForm") if root is not None else None
    form = form.get_object() if form is not None else None
    fields = form.get("/Fields") if isinstance(form, dict) else None
    stack = list(fields.get_object()) if fields is not None else []
    seen = 0
    while stack and seen < 10_000:
        seen += 1
        field = stack.pop().get_object()
        if not isinstance(field, dict):
            continue
        kids = field.get("/Kids")
        if kids is not None:
            stack.extend(kids.get_object())
        value = field.get("/V")
        value = value.get_object() if value is not None else None
        if field.get("/FT") == "/Sig" and isinstance(value, dict) and "/Contents" in value:
            found.append(bytes(value["/Contents"]))
    return found


def _history_problems(data: bytes) -> list[str]:
    """What the file's revisions say that its last one does not: a seal that an earlier revision
    held and a later one removed, or (for an unsealed file, which finalize writes as a single
    revision) any update appended after the file was written.

    A seal covers the revision it signs; an incremental update appended later can drop the seal
    and change anything, and only the history shows it.
    """
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    total = reader.xrefs.total_revisions
    if total <= 1:
        return []
    latest = set(_signature_values(reader.root))
    problems = []
    for revision in range(total - 1):
        earlier = _signature_values(reader.get_historical_root(revision))
        if any(value not in latest for value in earlier):
            problems.append(
                f"revision {revision + 1} of {total} was sealed, and a later update to the file "
                "removed that seal (what it covered may have been changed since)"
            )
            break
    if not latest and not problems:
        problems.append(
            f"the file holds {total} revisions: it was changed by an update appended after it was "
            "written (finalize writes an unsealed archive as one revision)"
        )
    return problems


def seal_checks(
    data: bytes, expected: SealRecord | None, roots: list[asn1_x509.Certificate] | None
) -> tuple[list[Check], SealStatus | None, bool]:
    """The seal checks, the seal's status (when it could be validated) and whether a seal exists.

    Args:
        data: the file.
        expected: what the file's record says of its seal (``None``: no seal recorded).
        roots: the trust roots; ``None`` when none were given.
    """
    try:
        signatures = list(PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures)
    except Exception as exc:  # pyHanko raises many kinds of errors on damaged files
        return (
            [Check("seal", False, f"the file cannot be read for the seal ({type(exc).__name__})")],
            None,
            False,
        )
    try:
        history = _history_problems(data)
    except Exception as exc:  # pyHanko raises many kinds of errors on damaged files
        history = [f"the file's revisions cannot be read ({type(exc).__name__})"]
    if not signatures:
        if history:
            return [Check("seal", False, "; ".join(history))], None, False
        return [_no_seal(expected, roots)], None, False
    checks: list[Check] = []
    if history:
        checks.append(Check("seal", False, "; ".join(history)))
    if len(signatures) > 1:
        checks.append(Check("seal", False, f"the file has {len(signatures)} signatures; finalize writes one"))
    embedded = signatures[-1]
    try:
        # Without trust roots, the seal's own certificate stands in as the root: the
        # cryptographic checks still run, pyHanko does not fail (and log) path building, and
        # ``trusted`` is reported as unknown.
        anchors = list(roots) if roots is not None else [embedded.signer_cert]
        context = ValidationContext(trust_roots=anchors, allow_fetching=False)
        # pyHanko's synchronous validation runs asyncio.run: never inside a caller's running loop.
        status = outside_event_loop(validate_pdf_signature, embedded, context, key_usage_settings=_KEY_USAGE)
        signer = str(status.signing_cert.subject.human_friendly)
    except Exception as exc:  # pyHanko and asn1crypto raise many kinds of errors on damaged seals
        checks.append(Check("seal", False, f"the seal cannot be validated ({type(exc).__name__})"))
        return checks, None, True
    timestamp = status.timestamp_validity
    seal = SealStatus(
        signer=signer,
        intact=bool(status.intact),
        valid=bool(status.valid),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        docmdp_ok=bool(status.docmdp_ok),
        trusted=bool(status.trusted) if roots is not None else None,
        timestamp=timestamp.timestamp.isoformat().replace("+00:00", "Z") if timestamp is not None else None,
        timestamp_ok=None
        if timestamp is None
        else bool(timestamp.intact and timestamp.valid and (roots is None or timestamp.trusted)),
    )
    problems = _seal_problems(data, embedded, status, seal, expected, roots)
    if problems:
        checks.append(Check("seal", False, "; ".join(problems)))
    else:
        who = "trusted" if roots is not None else "signer not checked against a trust root (use --trust)"
        stamp = f", timestamp {seal.timestamp}" if seal.timestamp else ""
        checks.append(
            Check("seal", True, f"intact and covers the whole file; sealed by {signer} ({who}){stamp}")
        )
    return checks, seal, True
