"""The records consentkit writes and reads back: a packet folder's ``manifest.json`` and a finalized
archive's ``audit.json``, as frozen typed classes with one reader and one writer each.

:class:`Manifest` is written by :func:`~consentkit.render_packet` and read by
:func:`~consentkit.signing.finalize_packet`, the lifecycle checks and batch resumption;
:class:`AuditRecord` is written by finalize and read by :func:`~consentkit.signing.verify_packet`,
revocation and the FHIR export. Nothing reads either file as a plain dict any more.

The JSON is the same as before the types: the same keys in the same order (``docs/file-formats.md``
describes both). Keys that later versions added are optional when reading, so packets and
archives made by earlier versions still load; the state rules and the clause texts a packet was
made with are recorded as they were written (plain JSON objects), with a typed view
(:class:`RulesRecord`) for the code that reads them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from ._edge import STRUCTURE_ERRORS, problems
from ._fields import redacted_repr
from .errors import PacketError, RecordError

__all__ = [
    "ARCHIVE_NAME",
    "AUDIT_NAME",
    "AUDIT_SCHEMA",
    "MANIFEST_NAME",
    "MANIFEST_SCHEMA",
    "PACKET_NAME",
    "REVIEWED_NAME",
    "AppliedRuleRecord",
    "AttestedLocationRecord",
    "AuditDocument",
    "AuditEvent",
    "AuditRecord",
    "AuditSigner",
    "DocumentEntry",
    "IdentityRecord",
    "ImageRecord",
    "Manifest",
    "PacketFile",
    "RecordError",
    "ReviewPdf",
    "RulesRecord",
    "SealRecord",
    "SignatureAnchor",
    "SignerEntry",
    "TemplateSetRecord",
    "read_manifest",
    "utc_text",
]

#: A packet folder's files.
MANIFEST_NAME = "manifest.json"
PACKET_NAME = "packet.pdf"
MANIFEST_SCHEMA = "consentkit.manifest/1"
#: A folder holding one of these was finalized; rendering never replaces it.
ARCHIVE_NAME = "archive.pdf"
#: A finalized archive's associated files.
AUDIT_NAME = "audit.json"
REVIEWED_NAME = "reviewed-packet.pdf"
AUDIT_SCHEMA = "consentkit.audit/1"

T = TypeVar("T")


def utc_text(value: datetime) -> str:
    """``2026-11-27T15:02:11Z``: how every record writes a moment."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


R = TypeVar("R", bound="_JsonRecord")


class _JsonRecord:
    """What a record file has: its schema id, one reader and one writer, and the state rules it
    records (kept as written, read through :class:`RulesRecord`)."""

    SCHEMA: ClassVar[str]

    def rules_record(self) -> RulesRecord | None:
        """The state rules applied, read (``None`` without them).

        Raises:
            RecordError: the recorded rules are malformed.
        """
        rules: dict[str, Any] | None = getattr(self, "rules", None)
        return None if rules is None else RulesRecord.from_json(rules)

    def to_json(self) -> bytes:
        """The record as its file holds it: UTF-8 JSON, two-space indent, keys in the order of the
        fields, a final newline."""
        return _dumps(_converter.unstructure(self))

    @classmethod
    def from_json(cls: type[R], data: bytes | str | Mapping[str, Any]) -> R:
        """Read the record (its JSON text, or the object already parsed).

        Raises:
            RecordError: not a record of this schema, or a field is missing or malformed;
                ``where`` names it.
        """
        return _read(data, cls, cls.SCHEMA)


# --- the manifest -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TemplateSetRecord:
    """The template set a packet was made from, and who reviewed its translation."""

    locale: str
    translation_reviewed_by: str = ""
    translation_reviewed_on: str = ""


@attrs.frozen(kw_only=True)
class SignerEntry:
    """Someone who signs the packet (``key`` is the signature place's suffix)."""

    key: str
    role: str
    #: The language version the signer reads (since the es-US template set).
    language: str | None = None


@attrs.frozen(kw_only=True)
class SignatureAnchor:
    """Where a signature place is: its page in the packet and the anchor's position (PDF points,
    origin bottom-left)."""

    key: str
    page: int
    x: float
    y: float


@attrs.frozen(kw_only=True)
class DocumentEntry:
    """One document of a packet. The PDF fields are set once the document is converted."""

    id: str
    title: str
    locale: str | None = None
    reference_only: bool = False
    template_file: str | None = None
    template_sha256: str | None = None
    docx: str
    docx_sha256: str
    signature_places: tuple[str, ...] = ()
    pdf: str | None = None
    pdf_sha256: str | None = None
    pages: int | None = None
    #: The first and last page of the document in ``packet.pdf``.
    packet_pages: tuple[int, int] | None = None
    #: Where each signature place is (written since the anchors are removed from the PDFs;
    #: ``None`` in packets of earlier versions, which kept the anchor text).
    signature_anchors: tuple[SignatureAnchor, ...] | None = None


@attrs.frozen(kw_only=True)
class PacketFile:
    """``packet.pdf``: the merged review PDF."""

    file: str
    sha256: str
    pages: int


@attrs.frozen(kw_only=True)
class Manifest(_JsonRecord):
    """A packet folder's ``manifest.json``: what the packet was made from and of.

    Attributes:
        rules: the state rules applied (:meth:`ResolvedRules.to_record`), recorded as written;
            :meth:`rules_record` reads them. ``None`` without state rules.
        clauses: the clause texts the documents showed, recorded as written.
        inputs_sha256: the hash of a batch packet's inputs (only packets made by a batch).
        packet: ``packet.pdf``; ``None`` until the packet is merged.
    """

    __repr__ = redacted_repr("packet_id", "client_id")

    schema: str = MANIFEST_SCHEMA
    packet_id: str
    generated_at: datetime | None = None
    document_date: date
    consentkit_version: str = "?"
    locale: str
    template_set: TemplateSetRecord | None = None
    title: str | None = None
    practice_name: str = ""
    time_zone: str | None = None
    client_id: str
    clinician_id: str | None = None
    state: str
    minor: bool
    signers: tuple[SignerEntry, ...] = ()
    rules: dict[str, Any] | None = None
    clauses: dict[str, Any] | None = None
    documents: tuple[DocumentEntry, ...]
    warnings: tuple[str, ...] = ()
    inputs_sha256: str | None = None
    packet: PacketFile | None = None

    SCHEMA: ClassVar[str] = MANIFEST_SCHEMA


def read_manifest(packet_dir: str | Path) -> Manifest:
    """Read a packet folder's ``manifest.json``.

    Raises:
        PacketError: the folder has no manifest, or it cannot be read or is malformed.
    """
    folder = Path(packet_dir)
    path = folder / MANIFEST_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise PacketError(f"{folder.name}: no {MANIFEST_NAME}; is this a folder written by render?") from exc
    except OSError as exc:
        raise PacketError(f"{folder.name}/{MANIFEST_NAME} cannot be read ({exc.strerror})") from exc
    try:
        return Manifest.from_json(raw)
    except RecordError as exc:
        raise PacketError(f"{folder.name}/{MANIFEST_NAME}: {exc}") from exc


# --- the state rules a packet records -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AppliedRuleRecord:
    """A rule used for a packet, as the manifest records it."""

    id: str
    topic: str
    jurisdiction: str
    confidence: str
    #: ``law`` or ``policy`` (since packets state the law only where it was read).
    wording: str | None = None
    last_reviewed: str
    effective_date: str | None = None
    citations: tuple[str, ...] = ()
    override: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class RulesRecord:
    """A typed view of the state rules a manifest records (the rules are kept as written)."""

    dataset_version: str
    state: str
    resolved_on: str
    authorization: str
    minor_self_consent: bool
    guardian_required: bool
    profession: str | None = None
    applied: tuple[AppliedRuleRecord, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RulesRecord:
        """Read the recorded rules.

        Raises:
            RecordError: a field is missing or malformed.
        """
        return _structure(data, cls, prefix=("rules",))


# --- the audit record -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ReviewPdf:
    """The packet as the signers reviewed it, embedded in the archive."""

    file: str
    sha256: str
    pages: int
    embedded_as: str = REVIEWED_NAME


@attrs.frozen(kw_only=True)
class AuditDocument:
    """One document of a finalized packet and the fingerprints of its signed pages."""

    id: str
    title: str
    locale: str | None = None
    reference_only: bool = False
    template_file: str | None = None
    template_sha256: str | None = None
    docx_sha256: str | None = None
    pdf_sha256: str | None = None
    packet_pages: tuple[int, int]
    archive_pages: tuple[int, int]
    signature_places: tuple[str, ...] = ()
    page_fingerprints: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class AttestedLocationRecord:
    __repr__ = redacted_repr("state")

    address: str
    state: str


@attrs.frozen(kw_only=True)
class IdentityRecord:
    __repr__ = redacted_repr("method")

    method: str
    detail: str = ""


@attrs.frozen(kw_only=True)
class ImageRecord:
    """A drawn signature's PNG: its hash and size in pixels."""

    sha256: str
    width: int
    height: int


@attrs.frozen(kw_only=True)
class AuditSigner:
    """One signer's signature and the evidence captured with it."""

    __repr__ = redacted_repr("key", "role")

    key: str
    role: str
    full_name: str
    relationship: str = ""
    method: str
    signed_at: datetime
    signed_at_local: str = ""
    ip_address: str | None = None
    user_agent: str = ""
    intent_statement: str = ""
    esign_consent_at: datetime
    esign_consent_at_local: str = ""
    esign_disclosure_version: str = ""
    attested_location: AttestedLocationRecord
    identity_verification: IdentityRecord
    documents: tuple[str, ...] = ()
    #: A drawn signature's image (written only for drawn signatures).
    image: ImageRecord | None = None


@attrs.frozen(kw_only=True)
class AuditEvent:
    """One event of the packet's history."""

    __repr__ = redacted_repr("action")

    at: datetime
    at_local: str = ""
    actor: str
    action: str
    ip_address: str | None = None
    user_agent: str = ""
    detail: str = ""
    #: ``consentkit``, ``signature record`` or ``signing application``.
    source: str = ""


@attrs.frozen(kw_only=True)
class SealRecord:
    """What the record says of the archive's seal."""

    signer: str
    level: str
    timestamp_url: str | None = None
    field: str | None = None
    #: SHA-256 of every certificate the seal carries (recorded since finalize checks them).
    certificates: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SealRecord:
        """Read the ``seal`` entry of a record (``audit.json``, ``revocation.json``).

        Raises:
            RecordError: a field is missing or malformed.
        """
        return _structure(data, cls, prefix=("seal",))

    def to_json(self) -> dict[str, Any]:
        """The entry as records write it."""
        return dict(_converter.unstructure(self))


@attrs.frozen(kw_only=True)
class AuditRecord(_JsonRecord):
    """A finalized archive's ``audit.json``: the documents, signers, evidence and hashes.

    ``audit_pages`` and ``pages`` are known once the certificate is drawn (``None`` before).
    ``template_set``, ``rules`` and ``clauses`` are the manifest's, as recorded.
    """

    __repr__ = redacted_repr("packet_id", "client_id")

    schema: str = AUDIT_SCHEMA
    packet_id: str
    client_id: str | None = None
    clinician_id: str | None = None
    practice_name: str | None = None
    state: str | None = None
    minor: bool | None = None
    locale: str | None = None
    time_zone: str
    document_date: date | None = None
    rendered_at: datetime | None = None
    rendered_by: str = ""
    finalized_at: datetime
    finalized_by: str = ""
    review_pdf: ReviewPdf
    fingerprint_scheme: str
    documents: tuple[AuditDocument, ...]
    signers: tuple[AuditSigner, ...]
    events: tuple[AuditEvent, ...] = ()
    seal: SealRecord | None = None
    warnings: tuple[str, ...] = ()
    template_set: TemplateSetRecord | None = None
    rules: dict[str, Any] | None = None
    clauses: dict[str, Any] | None = None
    #: The language version each signer saw, by signature place (since the es-US template set).
    signer_languages: dict[str, str | None] | None = None
    note: str = ""
    audit_pages: tuple[int, int] | None = None
    pages: int | None = None

    def signer(self, key: str) -> AuditSigner | None:
        """The signer of signature place ``key``."""
        return next((s for s in self.signers if s.key == key), None)

    SCHEMA: ClassVar[str] = AUDIT_SCHEMA


# --- the reader and writer ------------------------------------------------------------------------


def _dumps(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


_converter = cattrs.Converter(detailed_validation=True)


def _text(value: Any, _type: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value


def _number(value: Any, _type: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("must be a whole number")
    return value


def _decimal(value: Any, _type: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError("must be a number")
    return float(value)


def _flag(value: Any, _type: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _moment(value: Any, _type: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("must carry a time zone")
    return moment


def _day(value: Any, _type: Any) -> date:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date")
    return date.fromisoformat(value)


def _object(value: Any, _type: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    return value


_converter.register_structure_hook(str, _text)
_converter.register_structure_hook(int, _number)
_converter.register_structure_hook(float, _decimal)
_converter.register_structure_hook(bool, _flag)
_converter.register_structure_hook(datetime, _moment)
_converter.register_structure_hook(date, _day)
_converter.register_structure_hook_func(lambda t: t == dict[str, Any], _object)
_converter.register_unstructure_hook(datetime, utc_text)
_converter.register_unstructure_hook(date, date.isoformat)
# Keys written only in some records: a drawn signature's image, the signature anchors (packets
# of earlier versions have none), a batch packet's input hash, a seal's certificates.
for _cls, _fields in (
    (AuditSigner, ("image",)),
    (DocumentEntry, ("signature_anchors",)),
    (Manifest, ("inputs_sha256",)),
    (SealRecord, ("certificates",)),
):
    _omitted = {name: override(omit_if_default=True) for name in _fields}
    _converter.register_unstructure_hook(
        _cls, cast(Any, make_dict_unstructure_fn)(_cls, _converter, **_omitted)
    )


def _structure(data: object, cls: type[T], *, prefix: tuple[str, ...] = ()) -> T:
    if not isinstance(data, Mapping):
        raise RecordError(".".join(prefix), "must be a JSON object")
    try:
        return _converter.structure(dict(data), cls)
    except STRUCTURE_ERRORS as exc:
        found = list(problems(exc, prefix, wrong_shape="has the wrong shape", other=_reason))
        where, reason = found[0] if found else (".".join(prefix), _reason(exc))
        raise RecordError(where, reason) from exc


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _read(data: bytes | str | Mapping[str, Any], cls: type[T], schema: str) -> T:
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RecordError("", "not valid JSON") from exc
    if not isinstance(data, Mapping) or data.get("schema") != schema:
        raise RecordError("", f"not a {schema} record")
    return _structure(data, cls)
