# ruff: noqa: F811 (pytest fixtures are imported, then requested by name)
"""manifest.json and audit.json as typed records: one reader and one writer each, the JSON byte for
byte as written before the types, records of earlier versions still readable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from consentkit.errors import PacketError
from consentkit.records import AuditRecord, Manifest, RecordError, RulesRecord, read_manifest

from .signing_fixtures import Finalized, pki, sealed_examples  # noqa: F401 (fixtures)

#: Keys that versions before the Spanish templates, the rule-wording policy and the removal of
#: the anchor text did not write (the schema id stayed consentkit.manifest/1 throughout).
_LATER_MANIFEST_KEYS = ("title", "clauses", "template_set")
_LATER_DOCUMENT_KEYS = ("locale", "reference_only", "signature_anchors")
_LATER_AUDIT_KEYS = ("template_set", "rules", "clauses", "signer_languages")


@pytest.mark.libreoffice
def test_a_manifest_reads_and_writes_back_byte_for_byte(rendered_examples: dict[str, Path]) -> None:
    for folder in rendered_examples.values():
        raw = (folder / "manifest.json").read_bytes()
        manifest = read_manifest(folder)
        assert manifest.to_json() == raw
        assert manifest.packet is not None and manifest.packet.file == "packet.pdf"
        assert all(d.signature_anchors is not None for d in manifest.documents)


@pytest.mark.libreoffice
def test_an_audit_record_reads_and_writes_back_byte_for_byte(sealed_examples: dict[str, Finalized]) -> None:
    for item in sealed_examples.values():
        raw = (json.dumps(item.audit, indent=2, ensure_ascii=False) + "\n").encode()
        record = AuditRecord.from_json(raw)
        assert record.to_json() == raw
        assert record.audit_pages is not None and record.seal is not None
        assert record.signer("client") is not None


def _old_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    old = {k: v for k, v in manifest.items() if k not in _LATER_MANIFEST_KEYS}
    old["signers"] = [{"key": s["key"], "role": s["role"]} for s in manifest["signers"]]
    old["documents"] = [
        {k: v for k, v in d.items() if k not in _LATER_DOCUMENT_KEYS} for d in manifest["documents"]
    ]
    rules = dict(manifest["rules"])
    del rules["profession"]
    rules["applied"] = [{k: v for k, v in r.items() if k != "wording"} for r in rules["applied"]]
    old["rules"] = rules
    return old


@pytest.mark.libreoffice
def test_records_of_earlier_versions_still_load(
    rendered_examples: dict[str, Path], sealed_examples: dict[str, Finalized]
) -> None:
    manifest = json.loads((rendered_examples["minor"] / "manifest.json").read_text())
    old = Manifest.from_json(_old_manifest(manifest))
    assert old.title is None and old.clauses is None and old.template_set is None
    assert all(d.signature_anchors is None and d.locale is None for d in old.documents)
    assert all(s.language is None for s in old.signers)
    rules = old.rules_record()
    assert isinstance(rules, RulesRecord) and rules.profession is None
    assert all(r.wording is None for r in rules.applied)
    # The rules an earlier version recorded are kept as written (finalize copies them on).
    assert json.loads(old.to_json())["rules"] == _old_manifest(manifest)["rules"]

    audit = dict(sealed_examples["C-1003"].audit)
    for key in _LATER_AUDIT_KEYS:
        del audit[key]
    record = AuditRecord.from_json(audit)
    assert record.rules is None and record.signer_languages is None


def test_a_malformed_record_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match=r"not a consentkit\.manifest/1 record"):
        Manifest.from_json({"schema": "other"})
    with pytest.raises(RecordError, match="not valid JSON"):
        Manifest.from_json(b"{")
    with pytest.raises(RecordError) as caught:
        Manifest.from_json(
            {
                "schema": "consentkit.manifest/1",
                "packet_id": "P",
                "document_date": "2026-11-27",
                "locale": "en-US",
                "client_id": "C-1",
                "state": "MS",
                "minor": "no",
                "documents": [],
            }
        )
    assert caught.value.where == "minor" and "true or false" in caught.value.reason
    with pytest.raises(RecordError) as caught:
        AuditRecord.from_json({"schema": "consentkit.audit/1", "packet_id": "P"})
    assert "required field is missing" in str(caught.value)
    folder = tmp_path / "packet"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"schema": "consentkit.manifest/1", "packet_id": 7}')
    with pytest.raises(PacketError, match=r"packet/manifest.json: packet_id: must be text"):
        read_manifest(folder)
