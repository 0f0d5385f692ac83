"""FHIR R4B Consent resources for a finalized packet, for other systems.

One ``Consent`` per signed document of the packet (reference-only copies have no signatures and
get none), collected in a ``Bundle`` of type ``collection``. The resources are built from the
archive's audit record (``audit.json``, including the state rules whose citations become
``policy`` entries) and the reviewed packet it embeds. Every resource is validated by constructing
the ``fhir.resources`` R4B models, and the Consent invariants that those models do not check
(``ppc-1``, ``ppc-5``, ``dom-3``) are checked here.

The mapping, the code systems and the consentkit URNs are described in ``docs/lifecycle.md``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

import pikepdf
import pydantic
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent

from ..errors import InputError, PacketError, RulesError
from ..pdf.embed import AssociatedFile, read_associated_files
from ..records import (
    AUDIT_NAME,
    AUDIT_SCHEMA,
    REVIEWED_NAME,
    AuditDocument,
    AuditRecord,
    Manifest,
    RecordError,
    RulesRecord,
    utc_text,
)
from ..rules import FEDERAL, load_jurisdiction
from ..signing import ORIGINAL_NAME, REVOCATION_NAME, REVOCATION_SCHEMA

__all__ = [
    "CLIENT_SYSTEM",
    "CLINICIAN_SYSTEM",
    "CONSENT_SYSTEM",
    "EXT_CITATION",
    "EXT_DOCUMENT_SHA256",
    "EXT_RULE",
    "EXT_SHA256",
    "FHIR_MIME",
    "FHIR_NAME",
    "PACKET_URN",
    "TEMPLATE_SYSTEM",
    "ConsentStatus",
    "archive_bundle",
    "bundle_json",
    "consent_bundle",
    "fhir_associated_files",
    "parse_bundle",
    "read_consent_bundle",
    "revoked_bundle",
]

#: The associated file holding the Bundle in an archive or revocation packet.
FHIR_NAME = "consent.fhir.json"
FHIR_MIME = "application/fhir+json"

ConsentStatus = Literal["active", "inactive"]

# consentkit's own names. They are URNs because consentkit has no web address that could serve
# definitions; a receiving system maps them like any local code system.
PACKET_URN = "urn:consentkit:packet:"
TEMPLATE_SYSTEM = "urn:consentkit:template"
CLIENT_SYSTEM = "urn:consentkit:client"
CLINICIAN_SYSTEM = "urn:consentkit:clinician"
CONSENT_SYSTEM = "urn:consentkit:consent"
EXT_SHA256 = "urn:consentkit:fhir:sha256"
EXT_DOCUMENT_SHA256 = "urn:consentkit:fhir:document-sha256"
EXT_CITATION = "urn:consentkit:fhir:citation"
EXT_RULE = "urn:consentkit:fhir:rule"

_LOINC = "http://loinc.org"
_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
_XHTML = "http://www.w3.org/1999/xhtml"
# ISO 3166 as FHIR names it for jurisdictions (Coding.system), with the code appended.
_COUNTRY = "urn:iso:std:iso:3166"
_SUBDIVISION = "urn:iso:std:iso:3166:-2"
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:consentkit")

_SCOPES = {
    "treatment": "Treatment",
    "patient-privacy": "Privacy Consent",
}
#: The consentscope code of each stock template; any other template is a treatment consent.
_TEMPLATE_SCOPE = {"esign_consent": "patient-privacy"}
#: v3 RoleCode for relationships a signing page commonly records (lower case, as written).
_RELATIONSHIPS = {
    "mother": ("MTH", "mother"),
    "father": ("FTH", "father"),
    "parent": ("PRN", "parent"),
    "stepmother": ("STPMTH", "stepmother"),
    "stepfather": ("STPFTH", "stepfather"),
    "grandmother": ("GRMTH", "grandmother"),
    "grandfather": ("GRFTH", "grandfather"),
    "grandparent": ("GRPRN", "grandparent"),
    "aunt": ("AUNT", "aunt"),
    "uncle": ("UNCLE", "uncle"),
    "sister": ("SIS", "sister"),
    "brother": ("BRO", "brother"),
    "spouse": ("SPS", "spouse"),
    "husband": ("HUSB", "husband"),
    "wife": ("WIFE", "wife"),
    "partner": ("DOMPART", "domestic partner"),
    "domestic partner": ("DOMPART", "domestic partner"),
    "guardian": ("GUARD", "guardian"),
    "legal guardian": ("GUARD", "guardian"),
}
_RELATED_ROLES = ("guardian", "co_client")
_CONSENT_STATUSES = ("draft", "proposed", "active", "rejected", "inactive", "entered-in-error")


# --- building -----------------------------------------------------------------------------------


def _require(value: str | None, key: str) -> str:
    if not value:
        raise PacketError(f"{AUDIT_NAME} has no {key}; the FHIR Consent cannot be built")
    return value


def _resource_id(*parts: str) -> str:
    return str(uuid.uuid5(_UUID_NAMESPACE, "/".join(parts)))


def _authority(jurisdiction: str) -> str:
    return f"{_COUNTRY}:US" if jurisdiction == FEDERAL else f"{_SUBDIVISION}:US-{jurisdiction}"


@cache
def _citation_source(jurisdiction: str, rule_id: str, cite: str) -> tuple[str | None, str | None]:
    """(url, source type) of a citation in the bundled rule data, or ``(None, None)``."""
    try:
        rule = load_jurisdiction(jurisdiction).rule(rule_id)
    except (RulesError, KeyError):
        return None, None
    for citation in rule.citations:
        if citation.cite == cite:
            return citation.url, citation.source_type
    return None, None


def _policies(rules: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One ``policy`` per citation of an applied state or federal rule, secondary sources left out."""
    policies: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    try:
        record = RulesRecord.from_json(rules) if rules else None
    except RecordError as exc:
        raise PacketError(f"the state rules record is malformed ({exc})") from exc
    for rule in record.applied if record is not None else ():
        rule_id, jurisdiction = rule.id, rule.jurisdiction
        for cite in rule.citations:
            url, source_type = _citation_source(jurisdiction, rule_id, cite)
            if source_type == "secondary" or (jurisdiction, cite) in seen:
                continue
            seen.add((jurisdiction, cite))
            policy: dict[str, Any] = {
                "extension": [
                    {"url": EXT_CITATION, "valueString": cite},
                    {"url": EXT_RULE, "valueString": rule_id},
                ],
                "authority": _authority(jurisdiction),
            }
            if url:
                policy["uri"] = url
            policies.append(policy)
    return policies


def _relationships(role: str, relationship: str | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    text = (relationship or "").strip()
    if text:
        concept: dict[str, Any] = {"text": text}
        code = _RELATIONSHIPS.get(text.lower())
        if code is not None:
            concept["coding"] = [{"system": _ROLE_SYSTEM, "code": code[0], "display": code[1]}]
        found.append(concept)
    if role == "guardian" and not any(c.get("coding", [{}])[0].get("code") == "GUARD" for c in found):
        found.append({"coding": [{"system": _ROLE_SYSTEM, "code": "GUARD", "display": "guardian"}]})
    return found


def _narrative(consent: Mapping[str, Any]) -> dict[str, str]:
    """A short generated narrative (dom-6), from the resource's own elements."""
    title = consent["category"][1]["text"]
    packet = consent["identifier"][0]["value"].rsplit("/", 1)[0]
    text = f"{title} (consent packet {packet}), signed {consent['dateTime']}."
    end = consent.get("provision", {}).get("period", {}).get("end")
    text += f" Withdrawn {end}: inactive." if end else f" Status: {consent['status']}."
    return {"status": "generated", "div": f'<div xmlns="{_XHTML}"><p>{escape(text)}</p></div>'}


def _consent(
    audit: AuditRecord,
    document: AuditDocument,
    *,
    attachment: Mapping[str, Any],
    policies: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    packet_id = audit.packet_id
    practice = audit.practice_name
    assigner = {"assigner": {"display": practice}} if practice else {}
    client = next((s for s in audit.signers if s.role == "client"), None)
    patient: dict[str, Any] = {
        "type": "Patient",
        "identifier": {"system": CLIENT_SYSTEM, "value": _require(audit.client_id, "client_id"), **assigner},
    }
    if client is not None:
        patient["display"] = client.full_name

    contained: list[dict[str, Any]] = []
    performers: list[dict[str, Any]] = []
    verifications: list[dict[str, Any]] = []
    times: list[datetime] = []
    for key in document.signature_places:
        signer = audit.signer(key)
        if signer is None:
            raise PacketError(f"{AUDIT_NAME}: document {document.id} names signer {key}, who did not sign")
        role = signer.role
        times.append(signer.signed_at)
        if role == "client":
            reference = dict(patient)
        elif role == "clinician":
            practitioner: dict[str, Any] = {
                "resourceType": "Practitioner",
                "id": "clinician",
                "name": [{"text": signer.full_name}],
            }
            if audit.clinician_id:
                practitioner["identifier"] = [
                    {"system": CLINICIAN_SYSTEM, "value": audit.clinician_id, **assigner}
                ]
            contained.append(practitioner)
            reference = {"reference": "#clinician", "display": signer.full_name}
        elif role in _RELATED_ROLES:
            local = key.replace("_", "-")
            person: dict[str, Any] = {
                "resourceType": "RelatedPerson",
                "id": local,
                "patient": patient,
                "name": [{"text": signer.full_name}],
            }
            relationship = _relationships(role, signer.relationship)
            if relationship:
                person["relationship"] = relationship
            contained.append(person)
            reference = {"reference": f"#{local}", "display": signer.full_name}
        else:
            raise PacketError(f"{AUDIT_NAME}: signer {key} has an unknown role {role!r}")
        performers.append(reference)
        if role != "clinician":
            verifications.append(
                {"verified": True, "verifiedWith": reference, "verificationDate": utc_text(signer.signed_at)}
            )

    template_id = document.id
    scope = _TEMPLATE_SCOPE.get(template_id, "treatment")
    title = document.title
    consent: dict[str, Any] = {
        "resourceType": "Consent",
        "id": _resource_id(packet_id, template_id),
        "contained": contained,
        "identifier": [{"system": CONSENT_SYSTEM, "value": f"{packet_id}/{template_id}", **assigner}],
        "status": "active",
        "scope": {"coding": [{"system": _SCOPE_SYSTEM, "code": scope, "display": _SCOPES[scope]}]},
        "category": [
            {"coding": [{"system": _LOINC, "code": "59284-0", "display": "Consent Document"}]},
            {"coding": [{"system": TEMPLATE_SYSTEM, "code": template_id, "display": title}], "text": title},
        ],
        "patient": patient,
        "dateTime": utc_text(max(times)),
        "performer": performers,
        "sourceAttachment": dict(attachment),
        "verification": verifications,
    }
    if document.pdf_sha256:
        consent["sourceAttachment"]["extension"] = [
            *attachment["extension"],
            {"url": EXT_DOCUMENT_SHA256, "valueString": document.pdf_sha256},
        ]
    if practice:
        contained.append({"resourceType": "Organization", "id": "practice", "name": practice})
        consent["organization"] = [{"reference": "#practice", "display": practice}]
    if policies:
        consent["policy"] = [dict(p) for p in policies]
    else:
        consent["policyRule"] = {"text": "The practice's consent form; no state rules were recorded"}
    if not contained:
        del consent["contained"]
    consent["text"] = _narrative(consent)
    return consent


def consent_bundle(
    audit: AuditRecord | Mapping[str, Any],
    reviewed_packet: bytes,
    *,
    rules: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> Bundle:
    """The Consents of a finalized packet (status ``active``), validated.

    Args:
        audit: the archive's audit record (``audit.json``, schema ``consentkit.audit/1``; read
            with :meth:`~consentkit.records.AuditRecord.from_json` when given as plain data).
        reviewed_packet: the packet's reviewed PDF (``reviewed-packet.pdf``); its SHA-256 must be
            the one ``audit`` records. ``sourceAttachment`` describes it (see the module docs).
        rules: the resolved state rules (the manifest's ``rules``); default: the audit record's
            own ``rules``. Their applied rules' citations become ``policy`` entries; without
            any, a ``policyRule`` names the practice's form.
        title: the archive's title (default ``Signed consent packet <id>``, as finalize writes).

    Returns:
        A ``collection`` Bundle with one Consent per signed document.

    Raises:
        PacketError: the record is incomplete, does not match the reviewed packet, or yields an
            invalid resource.
    """
    if not isinstance(audit, AuditRecord):
        try:
            audit = AuditRecord.from_json(audit)
        except RecordError as exc:
            raise PacketError(f"{AUDIT_NAME} is incomplete or malformed ({exc})") from exc
    packet_id = _require(audit.packet_id, "packet_id")
    sha256 = hashlib.sha256(reviewed_packet).hexdigest()
    if sha256 != audit.review_pdf.sha256:
        raise PacketError(f"the reviewed packet does not match the SHA-256 in {AUDIT_NAME}")
    attachment: dict[str, Any] = {
        "extension": [{"url": EXT_SHA256, "valueString": sha256}],
        "contentType": "application/pdf",
        "url": PACKET_URN + packet_id,
        "size": len(reviewed_packet),
        # FHIR R4/R4B Attachment.hash: "The calculated hash of the data using SHA-1."
        "hash": base64.b64encode(hashlib.sha1(reviewed_packet, usedforsecurity=False).digest()).decode(),
        "title": title or f"Signed consent packet {packet_id}",
    }
    if audit.locale:
        attachment["language"] = audit.locale
    policies = _policies(rules if rules is not None else audit.rules)
    documents = [d for d in audit.documents if d.signature_places and not d.reference_only]
    consents = [_consent(audit, d, attachment=attachment, policies=policies) for d in documents]
    if not consents:
        raise PacketError(f"{AUDIT_NAME} records no signed document")
    return _validated(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": utc_text(audit.finalized_at),
            "entry": [{"fullUrl": f"urn:uuid:{c['id']}", "resource": c} for c in consents],
        }
    )


def revoked_bundle(bundle: Bundle, revoked_at: datetime) -> Bundle:
    """The same Consents with status ``inactive``, ending at ``revoked_at`` (``provision.period``).

    Raises:
        InputError: ``revoked_at`` has no time zone.
        PacketError: ``revoked_at`` lies before a signature, or the result is invalid.
    """
    if revoked_at.tzinfo is None:
        raise InputError("must carry a time zone", field="revoked_at")
    data = json.loads(bundle_json(bundle))
    when = utc_text(revoked_at)
    for entry in data.get("entry", []):
        consent = entry["resource"]
        if datetime.fromisoformat(consent["dateTime"]) > revoked_at:
            raise PacketError("the revocation time lies before a signature of the packet")
        consent["status"] = "inactive"
        consent["provision"] = {"period": {"start": consent["dateTime"], "end": when}}
        consent["text"] = _narrative(consent)
    data["timestamp"] = when
    return _validated(data)


# --- validation and serialisation -------------------------------------------------------------------


def _invariant_problems(consent: Mapping[str, Any]) -> list[str]:
    problems = []
    if consent.get("status") not in _CONSENT_STATUSES:
        problems.append(f"status {consent.get('status')!r} is not a Consent status")
    if not consent.get("policy") and not consent.get("policyRule"):
        problems.append("ppc-1: neither policy nor policyRule")
    if not consent.get("patient"):
        problems.append("ppc-2..5: no patient")
    text = json.dumps({k: v for k, v in consent.items() if k != "contained"})
    for contained in consent.get("contained", []):
        if f'"#{contained.get("id")}"' not in text:
            problems.append(f"dom-3: contained {contained.get('id')} is not referenced")
    return problems


def _validated(data: Mapping[str, Any]) -> Bundle:
    try:
        bundle = Bundle.model_validate(data)
        for entry in data.get("entry", []):
            Consent.model_validate(entry["resource"])
    except (pydantic.ValidationError, KeyError, TypeError) as exc:
        first = exc.errors()[0] if isinstance(exc, pydantic.ValidationError) else {"msg": str(exc)}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise PacketError(
            f"not a valid FHIR R4B Bundle of Consents ({where + ': ' if where else ''}{first['msg']})"
        ) from exc
    if bundle.type != "collection":
        raise PacketError("the FHIR Bundle is not a collection")
    for entry in data.get("entry", []):
        resource = entry["resource"]
        if resource.get("resourceType") != "Consent":
            raise PacketError("the FHIR Bundle holds a resource other than Consent")
        problems = _invariant_problems(resource)
        if problems:
            raise PacketError(f"FHIR Consent {resource.get('id')}: {'; '.join(problems)}")
    return bundle


def bundle_json(bundle: Bundle) -> bytes:
    """The Bundle as UTF-8 JSON (FHIR element order, two-space indent, final newline)."""
    return (bundle.model_dump_json(indent=2) + "\n").encode("utf-8")


def parse_bundle(data: bytes) -> Bundle:
    """Read and validate a Bundle of Consents (e.g. an embedded ``consent.fhir.json``).

    Raises:
        PacketError: not JSON, or not a valid R4B collection Bundle of Consents.
    """
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PacketError(f"{FHIR_NAME} is not valid JSON") from exc
    if not isinstance(parsed, dict):
        raise PacketError(f"{FHIR_NAME} is not a FHIR Bundle")
    return _validated(parsed)


# --- archives ---------------------------------------------------------------------------------------


def fhir_associated_files(record: AuditRecord, manifest: Manifest, review: bytes) -> list[AssociatedFile]:
    """``consent.fhir.json`` for :func:`~consentkit.signing.finalize_packet` (``extra_files=``).

    Raises:
        PacketError: the Consents cannot be built (see :func:`consent_bundle`).
    """
    bundle = consent_bundle(record, review, rules=manifest.rules)
    return [
        AssociatedFile(
            name=FHIR_NAME,
            data=bundle_json(bundle),
            mime_type=FHIR_MIME,
            relationship="Data",
            description="FHIR R4B Consent resources, one per signed document (a collection Bundle)",
        )
    ]


def _attachments(data: bytes, source: str) -> tuple[dict[str, tuple[bytes, str]], str | None]:
    """The associated files (name -> content, relationship) and the title of a PDF."""
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            files = read_associated_files(pdf)
            title = pdf.docinfo.get("/Title")
            return files, str(title) if title is not None else None
    except pikepdf.PdfError as exc:
        raise PacketError(f"{source} is not a readable PDF ({exc})") from exc


def _json(files: Mapping[str, tuple[bytes, str]], name: str, schema: str, source: str) -> dict[str, Any]:
    try:
        record = json.loads(files[name][0].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PacketError(f"{source}: {name} is not valid JSON") from exc
    if not isinstance(record, dict) or record.get("schema") != schema:
        raise PacketError(f"{source}: {name} is not a {schema} record")
    return record


def archive_bundle(data: bytes, *, source: str, revoked_at: datetime | None = None) -> Bundle:
    """The Consents of an archive or revocation packet given as bytes.

    The embedded ``consent.fhir.json`` when there is one; otherwise built from ``audit.json``
    or, for a revocation packet, from the original it embeds. With ``revoked_at`` the result is
    revoked.

    Raises:
        PacketError: not a consentkit archive, or its records are unusable.
    """
    files, title = _attachments(data, source)
    if FHIR_NAME in files:
        bundle = parse_bundle(files[FHIR_NAME][0])
    elif REVOCATION_NAME in files and ORIGINAL_NAME in files:
        record = _json(files, REVOCATION_NAME, REVOCATION_SCHEMA, source)
        try:
            when = datetime.fromisoformat(str(record["revoked_at"]))
        except (KeyError, ValueError) as exc:
            raise PacketError(f"{source}: {REVOCATION_NAME} has no valid revoked_at") from exc
        return archive_bundle(files[ORIGINAL_NAME][0], source=f"{source}/{ORIGINAL_NAME}", revoked_at=when)
    elif AUDIT_NAME in files and REVIEWED_NAME in files:
        try:
            audit = AuditRecord.from_json(_json(files, AUDIT_NAME, AUDIT_SCHEMA, source))
        except RecordError as exc:
            raise PacketError(f"{source}: {AUDIT_NAME} is incomplete or malformed ({exc})") from exc
        bundle = consent_bundle(audit, files[REVIEWED_NAME][0], title=title)
    else:
        raise PacketError(f"{source} is not a finalized consentkit packet (no {AUDIT_NAME} or {FHIR_NAME})")
    return revoked_bundle(bundle, revoked_at) if revoked_at is not None else bundle


def read_consent_bundle(archive: str | Path) -> Bundle:
    """The FHIR Consents of a finalized archive or revocation packet.

    Returns the embedded ``consent.fhir.json`` when present, validated; otherwise builds the
    Bundle from the embedded records (see :func:`archive_bundle`).

    Raises:
        PacketError: the file cannot be read, is not a consentkit archive, or its records are
            unusable.
    """
    path = Path(archive)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PacketError(f"cannot read {path.name} ({exc.strerror})") from exc
    return archive_bundle(data, source=path.name)
