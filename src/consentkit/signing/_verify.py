"""Verify a finalized packet: structure, audit record and page hashes, archival claim, seal."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import pikepdf

from ..errors import LayoutError, VerificationError
from ..pdf.archival import archival_report
from ..pdf.embed import read_associated_file
from ..pdf.fingerprint import FINGERPRINT_SCHEME, page_fingerprints
from ..records import AUDIT_NAME, AUDIT_SCHEMA, REVIEWED_NAME, AuditRecord, RecordError, SealRecord
from ._revocation import REVOCATION_NAME, check_original, describe, read_revocation
from ._seal_check import Check, SealStatus, TrustSource, load_trust, seal_checks

__all__ = ["Check", "SealStatus", "VerificationReport", "load_trust", "verify_packet"]


@attrs.frozen
class VerificationReport:
    """The result of :func:`verify_packet`."""

    path: Path
    #: Every check passed (with ``trust``: and the seal is trusted).
    intact: bool
    sealed: bool
    #: ``True``/``False`` when trust roots were given and the packet is sealed; else ``None``.
    trusted: bool | None
    packet_id: str | None
    checks: tuple[Check, ...]
    seal: SealStatus | None = None
    #: For a revocation packet: ``revoked_at``, ``revoked_by``, ``reason``, ``original_sha256``.
    revocation: dict[str, Any] | None = None
    #: The signers the audit record lists: ``key``, ``role`` and ``full_name`` (names are protected
    #: health information: :meth:`summary` and :meth:`to_dict` show them only when asked).
    signers: tuple[dict[str, str], ...] = ()

    @property
    def problems(self) -> list[str]:
        """The failed checks' details."""
        return [f"{c.name}: {c.detail}" for c in self.checks if c.ok is False]

    def to_dict(self, *, show_names: bool = False) -> dict[str, Any]:
        """Plain data for ``--json``; signers' names (and who revoked) only with ``show_names``."""
        revocation = self.revocation
        if revocation is not None and not show_names:
            revocation = {k: v for k, v in revocation.items() if k != "revoked_by"}
        data = {
            "file": self.path.name,
            "intact": self.intact,
            "sealed": self.sealed,
            "trusted": self.trusted,
            "packet_id": self.packet_id,
            "checks": [attrs.asdict(c) for c in self.checks],
            "seal": attrs.asdict(self.seal) if self.seal is not None else None,
            "revocation": revocation,
        }
        if show_names:
            data["signers"] = [dict(s) for s in self.signers]
        return data

    def summary(self, *, show_names: bool = False) -> list[str]:
        """A short human summary, one line per check, the verdict first; with ``show_names``,
        a line per signer with the name the audit record holds."""
        verdict = "INTACT" if self.intact else "NOT INTACT"
        head = f"{self.path.name}: {verdict}"
        if self.packet_id:
            head += f" (packet {self.packet_id})"
        if self.revocation is not None:
            head += ": consent REVOKED"
        lines = [head]
        marks = {True: "ok  ", False: "FAIL", None: "--  "}
        lines += [f"  {marks[c.ok]} {c.name}: {c.detail}" for c in self.checks]
        if show_names:
            lines += [f"  signer {s['key']} ({s['role']}): {s['full_name']}" for s in self.signers]
            if self.revocation is not None:
                lines.append(f"  revoked by: {self.revocation.get('revoked_by')}")
        return lines


def _version_problems(pdf: pikepdf.Pdf) -> list[str]:
    """PDF/A-3 is based on PDF 1.7: a catalog ``/Version`` above that breaks the claim."""
    version = pdf.Root.get("/Version")
    if not isinstance(version, pikepdf.Name):
        return []
    try:
        number = tuple(int(part) for part in str(version).lstrip("/").split("."))
    except ValueError:
        return [f"the catalog declares an unknown PDF version {version}"]
    return (
        [f"the catalog declares PDF {str(version).lstrip('/')}, above the 1.7 PDF/A-3 is based on"]
        if (number > (1, 7))
        else []
    )


def _audit_checks(pdf: pikepdf.Pdf) -> tuple[list[Check], AuditRecord | None]:
    found = read_associated_file(pdf, AUDIT_NAME)
    if found is None:
        return [
            Check(
                "audit record",
                False,
                f"no {AUDIT_NAME} attached: not a consentkit archive, or it was removed",
            )
        ], None
    data, relationship = found
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return [Check("audit record", False, f"{AUDIT_NAME} is not valid JSON")], None
    if not isinstance(raw, dict) or raw.get("schema") != AUDIT_SCHEMA:
        return [Check("audit record", False, f"{AUDIT_NAME} is not a {AUDIT_SCHEMA} record")], None
    if raw.get("fingerprint_scheme") != FINGERPRINT_SCHEME:
        return [Check("audit record", False, "unknown page fingerprint scheme")], None
    try:
        record = AuditRecord.from_json(raw)
    except RecordError as exc:
        return [Check("audit record", False, f"{AUDIT_NAME} is incomplete ({exc})")], None
    if relationship != "/Data":
        return [Check("audit record", False, f"{AUDIT_NAME} is not attached as /Data")], record
    # Keys only: signers' names are protected health information, shown on request (show_names).
    signers = ", ".join(s.key for s in record.signers)
    return [Check("audit record", True, f"{AUDIT_NAME} present; signed by {signers}")], record


def _expected_fingerprints(record: AuditRecord) -> list[str] | None:
    """The signed pages' fingerprints in page order, or ``None`` when the record's page ranges
    are inconsistent (documents not consecutive, fingerprints missing, the certificate not
    right after them)."""
    expected: list[str] = []
    for document in record.documents:
        first, last = document.archive_pages
        if first != len(expected) + 1 or len(document.page_fingerprints) != last - first + 1:
            return None
        expected.extend(document.page_fingerprints)
    if record.audit_pages is None or record.pages is None:
        return None
    audit_first, audit_last = record.audit_pages
    pages = record.review_pdf.pages
    if len(expected) != pages or audit_first != pages + 1 or audit_last != record.pages:
        return None
    return expected


def _reviewed_check(pdf: pikepdf.Pdf, record: AuditRecord, expected: list[str]) -> Check:
    """The embedded reviewed packet matches the record's hash and page fingerprints."""
    found = read_associated_file(pdf, REVIEWED_NAME)
    if found is None:
        return Check("reviewed packet", False, f"no {REVIEWED_NAME} attached")
    data, relationship = found
    digest = hashlib.sha256(data).hexdigest()
    if digest != record.review_pdf.sha256:
        return Check(
            "reviewed packet",
            False,
            f"the attached {REVIEWED_NAME} does not match the SHA-256 in {AUDIT_NAME}",
        )
    if relationship != "/Source":
        return Check("reviewed packet", False, f"{REVIEWED_NAME} is not attached as /Source")
    pages = record.review_pdf.pages
    try:
        with pikepdf.open(io.BytesIO(data)) as reviewed:
            ok = (
                len(reviewed.pages) == pages
                and page_fingerprints(reviewed, pages, layout="reviewed") == expected
            )
    except pikepdf.PdfError:
        ok = False
    return Check(
        "reviewed packet",
        ok,
        f"{REVIEWED_NAME} matches SHA-256 {digest[:16]}… and the page hashes in {AUDIT_NAME}"
        if ok
        else f"the pages of {REVIEWED_NAME} do not match the page hashes in {AUDIT_NAME}",
    )


def _pages_check(pdf: pikepdf.Pdf, record: AuditRecord, expected: list[str]) -> Check:
    """Every signed page still shows exactly the reviewed content."""
    pages = record.review_pdf.pages
    try:
        actual = page_fingerprints(pdf, pages, layout="archive")
    except LayoutError as exc:
        return Check("page content", False, f"a signed page was restructured ({exc})")
    except pikepdf.PdfError as exc:
        return Check("page content", False, f"the pages cannot be read ({exc})")
    changed = [n for n, (a, b) in enumerate(zip(actual, expected, strict=True), start=1) if a != b]
    if changed:
        titles = [
            d.title
            for d in record.documents
            if any(d.archive_pages[0] <= n <= d.archive_pages[1] for n in changed)
        ]
        return Check(
            "page content",
            False,
            f"page(s) {', '.join(map(str, changed))} differ from what was reviewed ({'; '.join(titles)})",
        )
    return Check(
        "page content",
        True,
        f"the {pages} signed pages of {len(record.documents)} documents show exactly the reviewed "
        "content (plus signatures and footer)",
    )


def _content_checks(pdf: pikepdf.Pdf, record: AuditRecord) -> list[Check]:
    expected = _expected_fingerprints(record)
    if expected is None:
        return [Check("audit record", False, f"{AUDIT_NAME} page ranges are inconsistent")]
    if len(pdf.pages) != record.pages:
        return [
            Check(
                "page content",
                False,
                f"the file has {len(pdf.pages)} pages; {AUDIT_NAME} says {record.pages}",
            )
        ]
    return [_reviewed_check(pdf, record, expected), _pages_check(pdf, record, expected)]


@attrs.frozen
class _Read:
    """What the file's records say: the checks of them, and what the seal checks and the report
    need."""

    checks: list[Check]
    packet_id: str | None = None
    expected_seal: SealRecord | None = None
    signers: tuple[dict[str, str], ...] = ()
    revocation: dict[str, Any] | None = None
    original: bytes | None = None


def _read_revocation(pdf: pikepdf.Pdf) -> _Read:
    record, original, problem = read_revocation(pdf)
    checks = [Check("revocation", problem is None, problem or describe(record or {}))]
    if record is None:
        return _Read(checks=checks)
    seal = record.get("seal")
    try:
        expected = SealRecord.from_json(seal) if isinstance(seal, dict) else None
    except RecordError:
        expected = None
    revocation = None
    if original is not None:
        revocation = {key: record[key] for key in ("revoked_at", "revoked_by", "reason")}
        revocation["original_sha256"] = record["original"]["sha256"]
    packet_id = record.get("packet_id")
    return _Read(
        checks=checks,
        packet_id=str(packet_id) if packet_id is not None else None,
        expected_seal=expected,
        revocation=revocation,
        original=original,
    )


def _read_audit(pdf: pikepdf.Pdf) -> _Read:
    checks, record = _audit_checks(pdf)
    if record is None:
        return _Read(checks=checks)
    if all(c.ok for c in checks):
        checks += _content_checks(pdf, record)
    return _Read(
        checks=checks,
        packet_id=record.packet_id,
        expected_seal=record.seal,
        signers=tuple({"key": s.key, "role": s.role, "full_name": s.full_name} for s in record.signers),
    )


def verify_packet(
    path: str | Path | bytes, *, trust: TrustSource | Iterable[TrustSource] | None = None
) -> VerificationReport:
    """Check a finalized packet.

    The checks: the file's structure (qpdf's check, run in-process through pikepdf: no program is
    needed); the archival claim (a subset of the PDF/A-3b rules, see
    :func:`consentkit.pdf.archival.check_archival`); the embedded
    ``audit.json``; the embedded reviewed packet against the SHA-256 in ``audit.json``; every
    signed page against its fingerprint in ``audit.json`` (each still shows exactly the reviewed
    content); and, when sealed, the seal with pyHanko (intact, valid, covering the whole file,
    no forbidden modification, matching the audit record, and with ``trust``: chaining to one
    of the trust roots).

    Safe to call from threads and from inside a running asyncio event loop.

    Args:
        path: the archive: a file, or its bytes (as a web backend or a document store holds it).
        trust: the CAs to trust for the seal (and its timestamp): PEM/DER certificate file(s),
            the same as bytes, or parsed certificates. With ``trust`` a seal is required and must
            be trusted.

    Returns:
        The report; ``report.intact`` is the verdict.

    Raises:
        VerificationError: the file cannot be read or is not a PDF, or a trust file is unusable.
    """
    sources: list[TrustSource] | None = None
    if trust is not None:
        # A list: read again for the original inside a revocation packet.
        sources = (
            [trust]
            if isinstance(trust, str | Path | bytes) or not isinstance(trust, Iterable)
            else list(trust)
        )
    roots = load_trust(sources) if sources is not None else None
    if isinstance(path, bytes | bytearray | memoryview):
        data = bytes(path)
        path = Path("archive.pdf")
    else:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise VerificationError(f"cannot read {path.name} ({exc.strerror})") from exc
    if b"%PDF-" not in data[:1024]:
        raise VerificationError(f"{path.name} is not a PDF file")

    archival = archival_report(data, part=3)
    claim = archival.claim
    read = _Read(checks=[])
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            claim += _version_problems(pdf)
            # A revocation packet: its record replaces audit.json.
            read = _read_revocation(pdf) if REVOCATION_NAME in pdf.attachments else _read_audit(pdf)
    except pikepdf.PdfError as exc:
        read = _Read(checks=[Check("audit record", False, f"the file cannot be parsed ({exc})")])
    content = list(read.checks)
    if read.original is not None:
        ok, detail = check_original(read.original, lambda inner: verify_packet(inner, trust=sources))
        content.append(Check("original packet", ok, detail))
    structure = archival.structure
    checks = [
        Check(
            "structure",
            not structure,
            structure[0] if structure else "structure check passed (qpdf's, via pikepdf)",
        ),
        Check(
            "archival",
            not claim,
            "; ".join(claim[:3]) + (f" (and {len(claim) - 3} more)" if len(claim) > 3 else "")
            if claim
            else "PDF/A-3b claim consistent (subset of rules)",
        ),
        *content,
    ]
    found, seal, sealed = seal_checks(data, read.expected_seal, roots)
    checks += found
    return VerificationReport(
        signers=read.signers,
        path=path,
        intact=all(c.ok is not False for c in checks),
        sealed=sealed,
        trusted=seal.trusted if seal is not None else None,
        packet_id=read.packet_id,
        checks=tuple(checks),
        seal=seal,
        revocation=read.revocation,
    )
