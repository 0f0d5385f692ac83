"""FHIR Consent export: valid R4B resources with the right signers, hashes and citations, embedded
in the archive before the seal, and printed by ``consentkit fhir``."""

# ruff: noqa: F811 (pytest fixtures are imported, then requested by name)
from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent

from consentkit.cli import main
from consentkit.errors import PacketError
from consentkit.lifecycle import (
    FHIR_NAME,
    bundle_json,
    consent_bundle,
    parse_bundle,
    read_consent_bundle,
)
from consentkit.lifecycle.fhir import (
    CLIENT_SYSTEM,
    EXT_CITATION,
    EXT_DOCUMENT_SHA256,
    EXT_SHA256,
    TEMPLATE_SYSTEM,
)
from consentkit.pdf.archival import check_archival
from consentkit.signing import verify_packet

from .lifecycle_fixtures import Archive, lifecycle_archives  # noqa: F401 (fixture)
from .signing_fixtures import FINALIZED_AT, Pki, example_signature_data, pki  # noqa: F401 (fixture)

pytestmark = pytest.mark.libreoffice


def consents(path: Path) -> dict[str, dict[str, Any]]:
    """The Consents of an archive as plain JSON, by template id."""
    data = json.loads(bundle_json(read_consent_bundle(path)))
    found = {}
    for entry in data["entry"]:
        resource = entry["resource"]
        template = next(c for c in resource["category"] if c["coding"][0]["system"] == TEMPLATE_SYSTEM)
        found[template["coding"][0]["code"]] = resource
    return found


def contained(consent: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    local = reference["reference"].removeprefix("#")
    return next(r for r in consent["contained"] if r["id"] == local)


def attachment(path: Path, name: str) -> tuple[bytes, dict[str, Any]]:
    """An associated file's content and its PDF/A-3 keys."""
    with pikepdf.open(path) as pdf:
        spec = pdf.attachments[name]
        stream = spec.obj["/EF"]["/F"]
        return spec.get_file().read_bytes(), {
            "listed in /AF": spec.obj.objgen in {item.objgen for item in pdf.Root.AF},
            "/AFRelationship": str(spec.obj["/AFRelationship"]),
            "/UF": str(spec.obj["/UF"]),
            "/Subtype": str(stream["/Subtype"]),
            "/ModDate": "/ModDate" in stream["/Params"],
        }


def test_the_archive_embeds_the_bundle_as_a_pdfa3_associated_file_under_the_seal(
    lifecycle_archives: dict[str, Archive], pki: Pki
) -> None:
    archive = lifecycle_archives["C-1003"]
    data, keys = attachment(archive.path, FHIR_NAME)
    assert keys == {
        "listed in /AF": True,
        "/AFRelationship": "/Data",
        "/UF": FHIR_NAME,
        "/Subtype": "/application/fhir+json",
        "/ModDate": True,
    }
    assert isinstance(parse_bundle(data), Bundle)
    assert check_archival(archive.path) == []
    report = verify_packet(archive.path, trust=pki.ca_pem)
    assert report.intact, report.problems
    assert report.seal is not None and report.seal.covers_whole_file


def test_one_valid_active_consent_per_signed_document(lifecycle_archives: dict[str, Archive]) -> None:
    archive = lifecycle_archives["C-1003"]
    found = consents(archive.path)
    signed = [d["id"] for d in archive.manifest["documents"] if d["signature_places"]]
    assert sorted(found) == sorted(signed)
    for consent in found.values():
        Consent.model_validate(consent)
        assert consent["status"] == "active"
        assert consent["patient"]["identifier"] == {
            "system": CLIENT_SYSTEM,
            "value": "C-1003",
            "assigner": {"display": archive.manifest["practice_name"]},
        }
        assert consent["category"][0]["coding"][0] == {
            "system": "http://loinc.org",
            "code": "59284-0",
            "display": "Consent Document",
        }
        assert consent["organization"] == [
            {"reference": "#practice", "display": archive.manifest["practice_name"]}
        ]
    scopes = {template: c["scope"]["coding"][0]["code"] for template, c in found.items()}
    assert scopes.pop("esign_consent") == "patient-privacy"
    assert set(scopes.values()) == {"treatment"}


def test_reference_only_copies_get_no_consent(lifecycle_archives: dict[str, Archive]) -> None:
    archive = lifecycle_archives["C-1003"]
    audit = copy.deepcopy(archive.audit)
    audit["documents"].append(
        {**audit["documents"][0], "id": "informed_consent.es-US", "signature_places": []}
    )
    bundle = consent_bundle(audit, (archive.folder / "packet.pdf").read_bytes())
    assert len(bundle.entry or []) == len(archive.audit["documents"])


def test_the_minors_guardian_is_a_related_person(lifecycle_archives: dict[str, Archive]) -> None:
    found = consents(lifecycle_archives["C-1003"].path)
    informed = found["informed_consent"]
    client, guardian, clinician = informed["performer"]
    assert client["type"] == "Patient" and client["display"] == "Ethan James Carter"
    person = contained(informed, guardian)
    assert person["resourceType"] == "RelatedPerson"
    assert person["name"] == [{"text": "Rebecca Carter"}]
    assert person["patient"]["identifier"]["value"] == "C-1003"
    codes = {c["coding"][0]["code"] for c in person["relationship"] if "coding" in c}
    assert codes == {"MTH", "GUARD"}
    doctor = contained(informed, clinician)
    assert doctor["resourceType"] == "Practitioner"
    assert doctor["name"] == [{"text": "Dana Whitfield, PhD, LPC"}]
    # Verification records the client's side only: the client's assent and the guardian.
    assert [v["verifiedWith"].get("display") for v in informed["verification"]] == [
        "Ethan James Carter",
        "Rebecca Carter",
    ]
    assert all(v["verified"] is True for v in informed["verification"])
    # The fees policy has the guardian's signature only.
    fees = found["fees_policy"]
    assert [p["display"] for p in fees["performer"]] == ["Rebecca Carter"]
    assert [r["resourceType"] for r in fees["contained"]] == ["RelatedPerson", "Organization"]
    signed = {s["key"]: s["signed_at"] for s in lifecycle_archives["C-1003"].audit["signers"]}
    assert fees["dateTime"] == signed["guardian-1"]
    assert informed["dateTime"] == max(signed.values())


def test_both_adults_of_the_couple_are_performers(lifecycle_archives: dict[str, Archive]) -> None:
    informed = consents(lifecycle_archives["C-1002"].path)["informed_consent"]
    client, partner, clinician = informed["performer"]
    assert client["type"] == "Patient" and client["display"] == "Andre Williams"
    person = contained(informed, partner)
    assert person["resourceType"] == "RelatedPerson" and person["id"] == "co-client-1"
    assert person["name"] == [{"text": "Keisha Williams"}]
    assert person["relationship"][0]["coding"][0]["code"] == "SPS"
    assert contained(informed, clinician)["name"] == [{"text": "Jordan Reyes, MS, P-LPC"}]
    assert {v["verifiedWith"]["display"] for v in informed["verification"]} == {
        "Andre Williams",
        "Keisha Williams",
    }


def test_the_source_attachment_hashes_match_the_archive(lifecycle_archives: dict[str, Archive]) -> None:
    archive = lifecycle_archives["C-1003"]
    reviewed, _ = attachment(archive.path, "reviewed-packet.pdf")
    with pikepdf.open(archive.path) as pdf:
        title = str(pdf.docinfo["/Title"])
    pdf_hashes = {d["id"]: d["pdf_sha256"] for d in archive.manifest["documents"]}
    for template, consent in consents(archive.path).items():
        source = consent["sourceAttachment"]
        assert source["contentType"] == "application/pdf"
        assert source["url"] == "urn:consentkit:packet:PKT-C-1003"
        assert source["title"] == title
        assert source["size"] == len(reviewed)
        assert base64.b64decode(source["hash"]) == hashlib.sha1(reviewed).digest()
        extensions = {e["url"]: e["valueString"] for e in source["extension"]}
        assert extensions[EXT_SHA256] == archive.audit["review_pdf"]["sha256"]
        assert extensions[EXT_SHA256] == hashlib.sha256(reviewed).hexdigest()
        assert extensions[EXT_DOCUMENT_SHA256] == pdf_hashes[template]


def test_the_policies_are_the_applied_rules_citations(lifecycle_archives: dict[str, Archive]) -> None:
    archive = lifecycle_archives["C-1003"]
    policies = consents(archive.path)["telehealth_consent"]["policy"]
    cites = {next(e["valueString"] for e in p["extension"] if e["url"] == EXT_CITATION): p for p in policies}
    minor = cites["Miss. Code Ann. § 41-41-203(a), (e)"]
    assert minor["authority"] == "urn:iso:std:iso:3166:-2:US-MS"
    assert minor["uri"].startswith("http")
    assert cites["15 U.S.C. § 7001(c)"]["authority"] == "urn:iso:std:iso:3166:US"
    applied = {c for rule in archive.manifest["rules"]["applied"] for c in rule["citations"]}
    assert set(cites) <= applied
    # Commentary is not a policy: secondary sources are left out.
    assert not any(cite.startswith("CCHP") for cite in cites)


def test_cli_prints_the_embedded_bundle(
    lifecycle_archives: dict[str, Archive], capsys: pytest.CaptureFixture[str]
) -> None:
    archive = lifecycle_archives["C-1002"]
    assert main(["fhir", str(archive.path), "--fhir-version", "r4b"]) == 0
    embedded, _ = attachment(archive.path, FHIR_NAME)
    assert capsys.readouterr().out.encode("utf-8") == embedded


def test_an_archive_without_the_bundle_gets_the_same_one_built_from_its_audit_record(
    lifecycle_archives: dict[str, Archive],
) -> None:
    archive = lifecycle_archives["C-1001"]
    with pikepdf.open(archive.path) as pdf:
        assert FHIR_NAME not in pdf.attachments
    built = bundle_json(read_consent_bundle(archive.path))
    at_finalize = consent_bundle(
        archive.audit, (archive.folder / "packet.pdf").read_bytes(), rules=archive.manifest["rules"]
    )
    assert built == bundle_json(at_finalize)
    assert all(e["resource"]["policy"] for e in json.loads(built)["entry"])


def test_without_state_rules_a_policy_rule_names_the_form(lifecycle_archives: dict[str, Archive]) -> None:
    archive = lifecycle_archives["C-1001"]
    audit = {**archive.audit, "rules": None}
    data = json.loads(bundle_json(consent_bundle(audit, (archive.folder / "packet.pdf").read_bytes())))
    for entry in data["entry"]:
        assert "policy" not in entry["resource"]
        assert entry["resource"]["policyRule"]["text"]


def test_cli_unusable_input_exits_2(
    tmp_path: Path, lifecycle_archives: dict[str, Archive], capsys: pytest.CaptureFixture[str]
) -> None:
    not_pdf = tmp_path / "notes.pdf"
    not_pdf.write_text("not a PDF")
    assert main(["fhir", str(not_pdf)]) == 2
    # A PDF that is not a finalized packet: the reviewed packet itself.
    assert main(["fhir", str(lifecycle_archives["C-1003"].folder / "packet.pdf")]) == 2
    assert main(["fhir", str(tmp_path / "missing.pdf")]) == 2
    assert "consentkit: error:" in capsys.readouterr().err


def test_a_record_that_cannot_give_valid_resources_is_refused(
    lifecycle_archives: dict[str, Archive],
) -> None:
    archive = lifecycle_archives["C-1003"]
    review = (archive.folder / "packet.pdf").read_bytes()
    with pytest.raises(PacketError, match="does not match"):
        consent_bundle(archive.audit, review + b"\n")
    without_client = {**archive.audit, "client_id": None}
    with pytest.raises(PacketError, match="client_id"):
        consent_bundle(without_client, review)
    bad_time = copy.deepcopy(archive.audit)
    bad_time["signers"][0]["signed_at"] = "yesterday"
    with pytest.raises(PacketError):
        consent_bundle(bad_time, review)
    data = json.loads(bundle_json(consent_bundle(archive.audit, review)))
    data["entry"][0]["resource"]["status"] = "signed"
    with pytest.raises(PacketError, match="not a Consent status"):
        parse_bundle(json.dumps(data).encode())
    del data["entry"][0]["resource"]["scope"]
    with pytest.raises(PacketError, match="scope"):
        parse_bundle(json.dumps(data).encode())
    with pytest.raises(PacketError, match="not valid JSON"):
        parse_bundle(b"{")


def test_the_bundle_round_trips_unchanged(lifecycle_archives: dict[str, Archive]) -> None:
    embedded, _ = attachment(lifecycle_archives["C-1003"].path, FHIR_NAME)
    assert bundle_json(parse_bundle(embedded)) == embedded


def test_cli_finalize_embeds_the_bundle(
    lifecycle_archives: dict[str, Archive], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from consentkit.cli import _finalize

    archive = lifecycle_archives["C-1001"]
    signatures = tmp_path / "signatures.json"
    signatures.write_text(json.dumps(example_signature_data("C-1001", archive.folder)))
    real = _finalize.finalize_packet

    def at_the_scenarios_time(*args: Any, **kwargs: Any) -> Any:  # the examples are signed "today"
        return real(*args, **kwargs, now=FINALIZED_AT)

    monkeypatch.setattr(_finalize, "finalize_packet", at_the_scenarios_time)
    out = tmp_path / "C-1001.pdf"
    assert main(["finalize", str(archive.folder), "--signatures", str(signatures), "--out", str(out)]) == 0
    embedded, keys = attachment(out, FHIR_NAME)
    assert keys["/AFRelationship"] == "/Data"
    assert embedded == bundle_json(read_consent_bundle(archive.path))
