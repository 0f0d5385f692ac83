"""Every consentkit call the signing app makes, in this one module.

The rest of the app (routes, storage, pages) never imports consentkit: when consentkit's public API
changes, this is the only file to adapt. It uses public names only (``consentkit``,
``consentkit.signing``, ``consentkit.lifecycle``, ``consentkit.models``, ``consentkit.formatting``).

Adapters written here because consentkit has no public function for them yet:

* :class:`PacketView`: a typed view of a rendered packet's ``manifest.json`` (consentkit returns it
  as a dict): the packet's signers, documents and their signature places, page ranges, review hash.
* :func:`check_record`: checks one signer's record on its own, before it is stored, by wrapping it in
  a one-signer signatures document for :func:`consentkit.signing.signatures_from_dict`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from consentkit import (
    ConsentKitError,
    InputError,
    WarmConverter,
    load_client,
    load_practice,
    load_template_set,
    render_packet,
)
from consentkit.formatting import format_phone
from consentkit.lifecycle import fhir_associated_files
from consentkit.models import US_STATES
from consentkit.records import Manifest
from consentkit.signing import SealConfig, finalize_packet, signatures_from_dict, verify_packet

__all__ = [
    "SIGNATURES_SCHEMA",
    "ConsentKitError",
    "DemoSeal",
    "Document",
    "ExampleClient",
    "Finalized",
    "PacketView",
    "Practice",
    "RecordError",
    "Renderer",
    "SignerSlot",
    "Verdict",
    "Words",
    "check_record",
    "demo_seal",
    "example_clients",
    "finalize",
    "load_example_practice",
    "verify",
    "words",
]

SIGNATURES_SCHEMA = "consentkit.signatures/1"
_EXAMPLES = Path(__file__).resolve().parent.parent


@attrs.frozen(kw_only=True)
class Practice:
    """What the pages show of the practice: its name and how to reach it."""

    name: str
    email: str
    phone: str
    time_zone: str
    path: Path


@attrs.frozen(kw_only=True)
class ExampleClient:
    """A client the practice user can prepare a packet for (from ``examples/clients/``)."""

    id: str
    name: str
    language: str
    path: Path
    #: The relationship on file of each guardian (``guardian-1``, ...) and other adult client
    #: (``co_client-1``, ...), by signature-place key.
    relationships: Mapping[str, str]


@attrs.frozen(kw_only=True)
class Document:
    """One document of a packet, as the signing page shows it."""

    id: str
    title: str
    first_page: int
    last_page: int
    places: tuple[str, ...]
    reference_only: bool


@attrs.frozen(kw_only=True)
class SignerSlot:
    """One signer the packet needs: its signature-place key, role, number and language."""

    key: str
    role: str
    index: int | None
    language: str


@attrs.frozen(kw_only=True)
class PacketView:
    """The parts of a rendered packet's manifest the app needs (over consentkit's typed ``Manifest``)."""

    packet_id: str
    client_id: str
    locale: str
    state: str
    minor: bool
    time_zone: str
    review_sha256: str
    pages: int
    documents: tuple[Document, ...]
    signers: tuple[SignerSlot, ...]

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> PacketView:
        """Read the typed manifest ``render_packet`` returned into this view."""
        if manifest.packet is None:
            raise ValueError("the packet has no packet.pdf yet")
        documents = tuple(
            Document(
                id=d.id,
                title=d.title,
                first_page=d.packet_pages[0] if d.packet_pages else 1,
                last_page=d.packet_pages[1] if d.packet_pages else 1,
                places=tuple(d.signature_places),
                reference_only=d.reference_only,
            )
            for d in manifest.documents
        )
        signers = []
        for s in manifest.signers:
            _, _, number = s.key.partition("-")
            signers.append(
                SignerSlot(
                    key=s.key,
                    role=s.role,
                    index=int(number) if number else None,
                    language=s.language or manifest.locale,
                )
            )
        return cls(
            packet_id=manifest.packet_id,
            client_id=manifest.client_id,
            locale=manifest.locale,
            state=manifest.state,
            minor=manifest.minor,
            time_zone=manifest.time_zone or "UTC",
            review_sha256=manifest.packet.sha256,
            pages=manifest.packet.pages,
            documents=documents,
            signers=tuple(signers),
        )

    def signer(self, key: str) -> SignerSlot:
        """The signer with this key (``KeyError`` if the packet has none)."""
        for slot in self.signers:
            if slot.key == key:
                return slot
        raise KeyError(key)

    def documents_for(self, key: str) -> tuple[Document, ...]:
        """The documents with a signature place for ``key``."""
        return tuple(d for d in self.documents if key in d.places and not d.reference_only)

    @property
    def guardian_signs(self) -> bool:
        """A guardian signs the consent, so the minor's own signature is their assent."""
        return any(s.role == "guardian" for s in self.signers)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the app's state file."""
        return attrs.asdict(self, recurse=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PacketView:
        """The inverse of :meth:`to_dict`."""
        values = dict(data)
        values["documents"] = tuple(
            Document(**{**d, "places": tuple(d["places"])}) for d in values["documents"]
        )
        values["signers"] = tuple(SignerSlot(**s) for s in values["signers"])
        return cls(**values)


@attrs.frozen(kw_only=True)
class Words:
    """Words for the signing page that consentkit's template sets already translate."""

    locale: str
    roles: Mapping[str, str]
    #: ``(code, name)`` of every US state and DC, in this language, sorted by name.
    states: tuple[tuple[str, str], ...]

    def state_name(self, code: str) -> str:
        return dict(self.states).get(code, code)


def words(locale: str) -> Words:
    """Role and state names in ``locale`` (``en-US`` or ``es-US``), from consentkit's catalogues."""
    template_set = load_template_set(locale if locale in ("en-US", "es-US") else "en-US")
    roles = {
        role: template_set.text("audit.role", role)
        for role in ("client", "co_client", "guardian", "clinician")
    }
    roles["client_assent"] = template_set.word("role", "client_assent")
    states = sorted(((code, template_set.state_name(code)) for code in US_STATES), key=lambda item: item[1])
    return Words(locale=template_set.locale, roles=roles, states=tuple(states))


def load_example_practice(path: Path | None = None) -> Practice:
    """The example practice (``examples/practice.toml``): the app's stand-in for a practice database."""
    path = path or _EXAMPLES / "practice.toml"
    practice = load_practice(path)
    return Practice(
        name=practice.name,
        email=practice.email,
        phone=format_phone(str(practice.phone), practice.default_language),
        time_zone=practice.time_zone,
        path=path,
    )


def example_clients(folder: Path | None = None) -> list[ExampleClient]:
    """The example clients (``examples/clients/*.toml``): the app's stand-in for a client list."""
    result = []
    for path in sorted((folder or _EXAMPLES / "clients").glob("*.toml")):
        client = load_client(path)
        relationships = {f"guardian-{n}": g.relationship for n, g in enumerate(client.guardians, start=1)}
        relationships |= {
            f"co_client-{n}": p.relationship for n, p in enumerate(client.participants, start=1)
        }
        result.append(
            ExampleClient(
                id=client.id,
                name=client.legal_name,
                language=client.preferred_language,
                path=path,
                relationships=relationships,
            )
        )
    return result


class Renderer:
    """Renders packets with one :class:`~consentkit.WarmConverter` for the app's lifetime.

    The warm converter keeps LibreOffice running, so a packet renders in well under a second once
    :meth:`start` has returned; it is safe to share between the server's threads.
    """

    def __init__(self) -> None:
        self._converter = WarmConverter()

    def start(self) -> None:
        """Start LibreOffice (a few seconds), so that the first packet does not wait for it.

        Raises:
            ConsentKitError: LibreOffice (or the Python it needs) is missing or did not start.
        """
        self._converter.start()

    def render(
        self, practice: Practice, client: ExampleClient, out_dir: Path, *, packet_id: str, now: datetime
    ) -> PacketView:
        """Render ``client``'s packet into ``out_dir`` (which must not exist yet).

        Raises:
            ConsentKitError: the client's data does not fit, a template failed, LibreOffice failed,
                or the clinician may not practise where the client is.
        """
        result = render_packet(
            load_practice(practice.path),
            load_client(client.path),
            out_dir,
            converter=self._converter,
            now=now,
            on=now.astimezone(ZoneInfo(practice.time_zone)).date(),  # the date where the practice is
            packet_id=packet_id,
        )
        return PacketView.from_manifest(result.manifest)

    def close(self) -> None:
        self._converter.close()


class RecordError(Exception):
    """A signer's record was refused: ``field`` is the record's field (``image``, ``full_name``, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_record(record: Mapping[str, Any], packet: PacketView) -> None:
    """Check one signer's record (the ``signers`` entry of a signatures file) on its own.

    Raises:
        RecordError: a field is invalid; the message names the field, never its value.
    """
    try:
        signatures_from_dict(
            {
                "schema": SIGNATURES_SCHEMA,
                "packet_id": packet.packet_id,
                "review_pdf_sha256": packet.review_sha256,
                "signers": [dict(record)],
            },
            source="signing form",
        )
    except InputError as exc:
        field = (exc.field or "").removeprefix("signers.1.")
        raise RecordError(field, str(exc)) from exc


@attrs.frozen(kw_only=True)
class DemoSeal:
    """The demo seal: a PKCS#12 file with its password, and the demo CA to verify against."""

    config: SealConfig
    ca_certificate: Path


def demo_seal(folder: Path, practice_name: str) -> DemoSeal:
    """KEY MANAGEMENT FOR THE DEMO ONLY: a practice replaces this.

    Makes (first run) or reuses the demo CA and seal certificate of ``examples/demo.py`` in
    ``folder``, with the private key's password in a file next to it. A practice keeps its seal key
    in an HSM or a cloud key service, or at least its password in a secret store, and its CA
    certificate is the one its archive readers trust.
    """
    if str(_EXAMPLES) not in sys.path:
        sys.path.insert(0, str(_EXAMPLES))
    from demo import demo_certificates

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_path, config = demo_certificates(folder, practice_name)
    return DemoSeal(config=config, ca_certificate=ca_path)


@attrs.frozen(kw_only=True)
class Finalized:
    """The stored archive."""

    path: Path
    sha256: str
    pages: int


def finalize(
    packet_dir: Path,
    packet: PacketView,
    records: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    out: Path,
    *,
    seal: DemoSeal,
    now: datetime,
) -> Finalized:
    """Stamp, certify, embed and seal the packet into ``out`` (with its FHIR Consent bundle).

    Raises:
        ConsentKitError: a signature is missing or invalid, the packet changed, or sealing failed;
            nothing is written then.
    """
    signatures = signatures_from_dict(
        {
            "schema": SIGNATURES_SCHEMA,
            "packet_id": packet.packet_id,
            "review_pdf_sha256": packet.review_sha256,
            "signers": [dict(r) for r in records],
            "events": [dict(e) for e in events],
        },
        source="signing app",
    )
    result = finalize_packet(
        packet_dir, signatures, out, seal=seal.config, now=now, extra_files=fhir_associated_files
    )
    return Finalized(path=result.path, sha256=result.sha256, pages=result.pages)


@attrs.frozen(kw_only=True)
class Verdict:
    """What :func:`consentkit.signing.verify_packet` said of an archive."""

    intact: bool
    sealed: bool
    trusted: bool | None
    problems: tuple[str, ...]


def verify(archive: Path, trust: Path) -> Verdict:
    """Verify an archive against the CA certificate ``trust``."""
    report = verify_packet(archive, trust=trust)
    return Verdict(
        intact=report.intact, sealed=report.sealed, trusted=report.trusted, problems=tuple(report.problems)
    )
