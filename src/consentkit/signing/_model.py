"""Frozen models of what a web signing page captured: who signed, how, when, from where.

Converters normalise (strip text, parse UTC times, canonicalise IP addresses); validators check
and raise :class:`~consentkit.errors.FieldValueError` naming the field, so the loader can report
``signatures.json, signers.2.signed_at: ...``. No I/O, no clock.
"""

from __future__ import annotations

import enum
import hashlib
import ipaddress
import re
import struct
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from attrs import field, frozen

from .. import _fields as ft
from ..errors import FieldValueError
from ..models import US_STATES

__all__ = [
    "MAX_EVENTS",
    "MAX_PNG_BYTES",
    "MAX_PNG_HEIGHT",
    "MAX_PNG_WIDTH",
    "MAX_SIGNERS",
    "SIGNATURES_SCHEMA",
    "AttestedLocation",
    "IdentityVerification",
    "Method",
    "Role",
    "SignatureEvent",
    "SignatureRecord",
    "Signatures",
    "png_size",
]

SIGNATURES_SCHEMA = "consentkit.signatures/1"
#: Limits for a drawn signature image.
MAX_PNG_BYTES = 512 * 1024
MAX_PNG_WIDTH = 2000
MAX_PNG_HEIGHT = 1000
#: The most events one packet's history may hold (about 20 pages of audit certificate), and the
#: most signer records: a real packet has a few dozen events and a handful of signers.
MAX_EVENTS = 500
MAX_SIGNERS = 20

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Valid (colour type: bit depths) pairs of the PNG specification, section 11.2.2.
_PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}


class Role(enum.Enum):
    """Who signs: the client, another adult client of a couple or family, a guardian, the clinician."""

    CLIENT = "client"
    CO_CLIENT = "co_client"
    GUARDIAN = "guardian"
    CLINICIAN = "clinician"


def _to_role(value: object) -> object:
    return ft.enum_value(Role, value)


class Method(enum.Enum):
    """How the signature was made: a typed name, or a drawing captured as a PNG image."""

    TYPED = "typed"
    DRAWN = "drawn"


def _to_method(value: object) -> object:
    return ft.enum_value(Method, value)


_NUMBERED = {Role.CO_CLIENT, Role.GUARDIAN}


# --- converters and validators -----------------------------------------------------------------


def _text(max_length: int, *, required: bool = True) -> Any:
    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str):
            raise FieldValueError(attribute.name, "must be text")
        if required and not value:
            raise FieldValueError(attribute.name, "must not be empty")
        if len(value) > max_length:
            raise FieldValueError(attribute.name, f"is longer than {max_length} characters")
        if _CONTROL.search(value):
            raise FieldValueError(attribute.name, "contains control characters")

    return validate


def _to_utc(value: object) -> object:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    return value


def _is_utc(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, datetime):
        raise FieldValueError(attribute.name, "not an ISO 8601 time (use e.g. 2026-11-27T15:02:11Z)")
    if value.utcoffset() != timedelta(0):
        raise FieldValueError(attribute.name, "must be in UTC (end the time with Z)")


def _normalise_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _to_ip(value: object) -> object:
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            return value
    return value


def _is_ip(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.default is None:
        return
    if not isinstance(value, str):
        raise FieldValueError(attribute.name, "not an IP address")
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise FieldValueError(attribute.name, "not an IPv4 or IPv6 address") from None


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def png_size(data: bytes) -> tuple[int, int]:
    """Check that ``data`` is a complete PNG within the limits; return its width and height.

    Every chunk's length and CRC are checked, the header must be a valid ``IHDR``, and the file
    must hold image data and end with ``IEND``.

    Raises:
        ValueError: what is wrong, without the data.
    """
    if not data:
        raise ValueError("the image is empty")
    if len(data) > MAX_PNG_BYTES:
        raise ValueError(f"the image is larger than {MAX_PNG_BYTES // 1024} KB")
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG image (wrong file signature)")
    position = len(_PNG_SIGNATURE)
    size: tuple[int, int] | None = None
    seen_data = False
    while True:
        if position + 12 > len(data):
            raise ValueError("the PNG image is truncated")
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 8 + length
        if end + 4 > len(data):
            raise ValueError("the PNG image is truncated")
        body = data[position + 8 : end]
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if zlib.crc32(kind + body) != crc:
            raise ValueError("the PNG image is damaged (checksum mismatch)")
        if size is None:
            if kind != b"IHDR" or length != 13:
                raise ValueError("the PNG image has no valid IHDR header")
            width, height, depth, colour, _compression, _filter, interlace = struct.unpack(">IIBBBBB", body)
            if width == 0 or height == 0:
                raise ValueError("the image has zero width or height")
            if width > MAX_PNG_WIDTH or height > MAX_PNG_HEIGHT:
                raise ValueError(f"the image is larger than {MAX_PNG_WIDTH}x{MAX_PNG_HEIGHT} pixels")
            if depth not in _PNG_DEPTHS.get(colour, set()) or interlace > 1:
                raise ValueError("the PNG header is invalid")
            size = (width, height)
        elif kind == b"IDAT":
            seen_data = True
        elif kind == b"IEND":
            if not seen_data:
                raise ValueError("the PNG image holds no image data")
            return size
        position = end + 4


# --- models -------------------------------------------------------------------------------------


@frozen(kw_only=True)
class AttestedLocation:
    """Where the signer said they were when signing."""

    __repr__ = ft.redacted_repr("state")

    #: The street address (or a description) the signer attested to.
    address: str = field(converter=ft.strip, validator=_text(500))
    #: The state (USPS code) of that address.
    state: str = field(converter=ft.strip_upper)

    @state.validator
    def _check_state(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in US_STATES:
            raise FieldValueError(attribute.name, "not a US state or DC postal code (e.g. MS)")


@frozen(kw_only=True)
class IdentityVerification:
    """How the signer's identity was established (e.g. photo ID shown on video, portal login)."""

    __repr__ = ft.redacted_repr("method")

    #: The method, in words.
    method: str = field(converter=ft.strip, validator=_text(300))
    #: Anything else worth keeping (who checked, a reference number); optional.
    detail: str = field(default="", converter=ft.strip, validator=_text(1000, required=False))


@frozen(kw_only=True)
class SignatureRecord:
    """One signer's signature and the evidence captured with it.

    The signer's place in the documents is :attr:`key`: ``client``, ``clinician``, or for the
    numbered roles ``co_client-<index>`` / ``guardian-<index>`` (``index`` defaults to 1). One
    record signs every document of the packet that has a place for that key.
    """

    __repr__ = ft.redacted_repr("role", "index", "method")

    #: The signer's role.
    role: Role = field(converter=_to_role, validator=ft.member_of(Role))
    #: For ``co_client`` and ``guardian``: which one (1-based); must be absent for the others.
    index: int | None = field(default=None)
    #: The name as the signer gave it.
    full_name: str = field(converter=ft.strip, validator=_text(200))
    #: ``typed`` or ``drawn``.
    method: Method = field(converter=_to_method, validator=ft.member_of(Method))
    #: The drawn signature (PNG bytes); required for ``drawn``, absent for ``typed``.
    image: bytes | None = field(default=None, repr=False)
    #: When the signer signed (UTC).
    signed_at: datetime = field(converter=_to_utc, validator=_is_utc)
    #: The signer's IP address as the server saw it.
    ip_address: str = field(converter=_to_ip, validator=_is_ip)
    #: The signer's browser user agent.
    user_agent: str = field(converter=ft.strip, validator=_text(1000))
    #: The intent statement the signer accepted (e.g. "By typing my name I sign ...").
    intent_statement: str = field(converter=ft.strip, validator=_text(2000))
    #: When the signer consented to electronic records and signatures (ESIGN, UTC).
    esign_consent_at: datetime = field(converter=_to_utc, validator=_is_utc)
    #: The version or id of the ESIGN disclosure shown; optional.
    esign_disclosure_version: str = field(
        default="", converter=ft.strip, validator=_text(200, required=False)
    )
    #: Where the signer attested to be at signing.
    attested_location: AttestedLocation
    #: How the signer's identity was verified.
    identity_verification: IdentityVerification
    #: The signer's relationship to the client (a guardian's, for instance); optional.
    relationship: str = field(default="", converter=ft.strip, validator=_text(200, required=False))

    def __attrs_post_init__(self) -> None:
        if self.role in _NUMBERED:
            if self.index is not None and (
                not isinstance(self.index, int) or isinstance(self.index, bool) or self.index < 1
            ):
                raise FieldValueError("index", "must be a whole number, 1 or more")
        elif self.index is not None:
            raise FieldValueError(
                "index", f"only co_client and guardian signers are numbered, not {self.role.value}"
            )
        if self.method is Method.DRAWN:
            if self.image is None:
                raise FieldValueError("image", "a drawn signature needs its PNG image")
            if not isinstance(self.image, bytes):
                raise FieldValueError("image", "must be PNG data")
            try:
                png_size(self.image)
            except ValueError as exc:
                raise FieldValueError("image", str(exc)) from None
        elif self.image is not None:
            raise FieldValueError("image", "a typed signature has no image (use method drawn)")
        if self.esign_consent_at > self.signed_at:
            raise FieldValueError("esign_consent_at", "is after signed_at: consent must come before signing")
        object.__setattr__(self, "signed_at", _normalise_utc(self.signed_at))
        object.__setattr__(self, "esign_consent_at", _normalise_utc(self.esign_consent_at))

    @property
    def key(self) -> str:
        """The signature-place key: ``client``, ``co_client-1``, ``guardian-2``, ``clinician``."""
        if self.role in _NUMBERED:
            return f"{self.role.value}-{self.index or 1}"
        return self.role.value

    @property
    def image_sha256(self) -> str | None:
        """SHA-256 of the drawn image, for the audit record."""
        return hashlib.sha256(self.image).hexdigest() if self.image is not None else None


@frozen(kw_only=True)
class SignatureEvent:
    """One entry of the packet's history as the signing application logged it."""

    __repr__ = ft.redacted_repr("action")

    #: When it happened (UTC, server time).
    at: datetime = field(converter=_to_utc, validator=_is_utc)
    #: Who acted (a role, a name or ``system``).
    actor: str = field(converter=ft.strip, validator=_text(200))
    #: What happened (``sent``, ``viewed``, ``signed``, ...).
    action: str = field(converter=ft.strip, validator=_text(200))
    #: The actor's IP address, when known.
    ip_address: str | None = field(default=None, converter=_to_ip, validator=_is_ip)
    #: The actor's user agent, when known.
    user_agent: str = field(default="", converter=ft.strip, validator=_text(1000, required=False))
    #: Anything else; optional.
    detail: str = field(default="", converter=ft.strip, validator=_text(1000, required=False))

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "at", _normalise_utc(self.at))


@frozen(kw_only=True)
class Signatures:
    """Every signature for one rendered packet, as a signing application hands them to finalize."""

    __repr__ = ft.redacted_repr("packet_id")

    #: The packet's id (must match ``manifest.json``).
    packet_id: str = field(converter=ft.strip, validator=_text(200))
    #: SHA-256 of the ``packet.pdf`` the signers reviewed (must match the manifest and the file).
    review_pdf_sha256: str = field(converter=_lower)
    #: One record per signer.
    signers: tuple[SignatureRecord, ...] = field(converter=ft.to_tuple_or_empty)
    #: The packet's event history (optional); finalize adds the events it can derive.
    events: tuple[SignatureEvent, ...] = field(default=(), converter=ft.to_tuple_or_empty)
    #: The format version; optional.
    schema: str = field(default=SIGNATURES_SCHEMA)

    @review_pdf_sha256.validator
    def _check_hash(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or not _SHA256.match(value):
            raise FieldValueError(attribute.name, "must be a SHA-256 hash (64 hexadecimal digits)")

    @schema.validator
    def _check_schema(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value != SIGNATURES_SCHEMA:
            raise FieldValueError(attribute.name, f"unsupported format (expected {SIGNATURES_SCHEMA!r})")

    def __attrs_post_init__(self) -> None:
        if not self.signers:
            raise FieldValueError("signers", "at least one signer is needed")
        if len(self.signers) > MAX_SIGNERS:
            raise FieldValueError("signers", f"more than {MAX_SIGNERS} entries")
        if len(self.events) > MAX_EVENTS:
            raise FieldValueError("events", f"more than {MAX_EVENTS} entries")
        seen: dict[str, int] = {}
        for number, record in enumerate(self.signers, start=1):
            if not isinstance(record, SignatureRecord):
                raise FieldValueError(f"signers.{number}", "must be a signer record")
            if record.key in seen:
                raise FieldValueError(
                    f"signers.{number}",
                    f"a second record for {record.key} (first at signers.{seen[record.key]})",
                )
            seen[record.key] = number

    def signer(self, key: str) -> SignatureRecord | None:
        """The record for a signature-place key, if any."""
        return next((s for s in self.signers if s.key == key), None)
