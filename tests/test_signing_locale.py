"""The audit certificate and the stamps follow the packet's language.

A Spanish (es-US) packet is finalized with a Spanish audit certificate, Spanish footers, captions
and date lines, and shows the language version each signer saw; an English packet stays English.
The words are data (the ``[audit]`` and ``[stamp]`` tables of each template set's
``clauses.toml``), the dates come from babel, and ``audit.json`` stays in English.
"""

# ruff: noqa: F811 (pytest fixtures are imported, then requested by name)
from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import attrs
import pdfplumber
import pikepdf
import pytest

from consentkit.errors import TemplateError
from consentkit.models import Client, Practice
from consentkit.pdf.archival import check_archival, pdffonts_all_embedded
from consentkit.pdf.fonts import font_set
from consentkit.rendering import load_template_set
from consentkit.signing import finalize_packet
from consentkit.signing._anchors import Anchor
from consentkit.signing._stamp import Stamp, draw_overlay
from consentkit.signing._words import words_for

from .conftest import DOC_DATE, NOW, ROOT
from .pdf_support import pdf_text
from .signing_fixtures import (  # noqa: F401 (fixtures)
    FINALIZED_AT,
    Finalized,
    Pki,
    example_signatures,
    manifest_of,
    pki,
    sealed_examples,
)

SPANISH = "C-1004"
ENGLISH = "C-1001"
#: The day the last example signer signed, in the practice's time zone (America/Chicago).
SIGNED_ON = {"en-US": "November 27, 2026", "es-US": "27 de noviembre de 2026"}

#: The English labels and sentences of the certificate and the stamps; none may be left on the
#: Spanish archive's audit pages (matched as whole words, case-sensitive, so the English free text
#: the signers and the signing application recorded, e.g. "signed from the practice's EHR
#: session", is not mistaken for a label).
ENGLISH_LABELS = [
    "Audit certificate",
    "Packet",
    "Packet id",
    "Client id",
    "Clinician id",
    "Client's state",
    "Language",
    "Document date",
    "Rendered for review",
    "Finalized",
    "Reviewed packet SHA-256",
    "Reviewed packet pages",
    "Documents",
    "Template",
    "Template version SHA-256",
    "Reviewed PDF SHA-256",
    "Pages in this packet",
    "Signature places",
    "Use",
    "Signers",
    "Client",
    "Clinician",
    "Signature place",
    "Relationship",
    "Method",
    "Typed name",
    "Drawn signature",
    "Signed",
    "Language version seen",
    "Spanish",
    "English",
    "IP address",
    "User agent",
    "Attested location",
    "Identity verification",
    "ESIGN consent",
    "; disclosure",
    "Intent statement",
    "Documents signed",
    "Event history",
    "Time (UTC)",
    "Practice time",
    "Actor",
    "Action",
    "packet rendered for review",
    "consented to electronic records and signatures",
    "signed (typed)",
    "finalized and sealed",
    "Seal",
    "sealed with a PAdES certification signature",
    "It covers the whole file",
    "Warning recorded at rendering",
    "Verify this file with",
    "consentkit is not legal advice",
    "Central Time",
    "Times are shown in UTC",
    "Page",
    "Electronically signed",
    "Electronically signed by",
    "November",
    "AM",
    "PM",
    "copy for reference, not signed",
]
SPANISH_LABELS = [
    "Certificado de auditoría",
    "Paquete",
    "Página",
    "Firmado electrónicamente",
    "Idioma de la versión que vio",
    "Historial de eventos",
    "Firmantes",
    "noviembre",
]


def _page_text(path: Path, first: int, last: int) -> str:
    """The text of pages ``first``..``last``, whitespace collapsed."""
    return pdf_text(path, flat=True, pages=(first, last)).strip()


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def _audit_text(item: Finalized) -> str:
    first, last = item.audit["audit_pages"]
    return _page_text(item.archive, first, last)


def _clauses(locale: str) -> dict[str, Any]:
    return tomllib.loads((ROOT / "templates" / locale / "clauses.toml").read_text(encoding="utf-8"))


def _strings(locale: str) -> dict[str, str]:
    """Every entry of the certificate's and the stamps' tables, by dotted key."""
    clauses = _clauses(locale)
    found: dict[str, str] = {}

    def walk(table: dict[str, Any], prefix: str) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                found[f"{prefix}{key}"] = value

    walk({"audit": clauses["audit"], "stamp": clauses["stamp"]}, "")
    return found


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _english_sentences() -> set[str]:
    """The runs of two or more words between placeholders of every English entry."""
    runs = set()
    for text in _strings("en-US").values():
        for piece in _PLACEHOLDER.split(text)[::2]:
            piece = piece.strip(" ()·,.:;")
            if len(re.findall(r"[A-Za-z]{2,}", piece)) >= 2:
                runs.add(piece)
    return runs


# --- the strings table --------------------------------------------------------------------------


def test_every_certificate_and_stamp_string_is_translated_with_the_same_placeholders() -> None:
    english, spanish = _strings("en-US"), _strings("es-US")
    assert set(spanish) == set(english)
    assert len(english) > 60
    same_in_both = {"audit.signer_heading", "audit.language_value"}
    for key, text in english.items():
        assert set(_PLACEHOLDER.findall(spanish[key])) == set(_PLACEHOLDER.findall(text)), key
        if key not in same_in_both:
            assert spanish[key] != text, f"{key} is not translated"


def test_the_words_follow_the_locale_with_english_as_the_fallback() -> None:
    assert words_for("es-US").locale == "es-US"
    assert words_for("es-MX").locale == "es-US"  # the same language
    assert words_for("es").locale == "es-US"
    for unknown in ("fr-CA", "vi-US", "", None):
        assert words_for(unknown).locale == "en-US"
    spanish = words_for("es-US")
    assert spanish.stamp("footer", packet_id="P", page=2, pages=9, date="d") == (
        "Paquete P  ·  Página 2 de 9  ·  Firmado electrónicamente  ·  d"
    )
    moment = datetime(2026, 11, 27, 19, 3, tzinfo=UTC)
    assert spanish.moment(moment, "America/Chicago") == "27 de noviembre de 2026, 1:03 p.m. CST"
    assert words_for("en-US").moment(moment, "America/Chicago") == "November 27, 2026, 1:03 PM CST"
    assert spanish.date(date(2026, 11, 27)) == "27 de noviembre de 2026"
    assert spanish.language("en-US") == "inglés (en-US)"
    assert spanish.role("guardian") == "Padre, madre o tutor legal"
    assert spanish.role("someone_else") == "someone_else"


def test_text_reads_other_tables_and_refuses_gaps() -> None:
    templates = load_template_set("es-US")
    assert templates.text("audit.label", "signed") == "Fecha y hora de la firma"
    assert templates.text("audit", "signer_heading", role="Cliente", name="Rosa") == "Cliente: Rosa"
    with pytest.raises(TemplateError, match=r"lacks audit\.label\.nothing"):
        templates.text("audit.label", "nothing")
    with pytest.raises(TemplateError, match="is not text"):
        templates.text("audit", "label")
    with pytest.raises(TemplateError, match="unknown placeholder"):
        templates.text("audit", "signer_heading", role="Cliente")


def test_an_overlay_without_a_locale_is_english_and_an_explicit_one_wins(tmp_path: Path) -> None:
    anchor = Anchor(document="d", key="client", page=1, x=72, y=200, width=240, date_x=340, date_width=120)
    signatures = example_signatures(ENGLISH, _fake_folder(tmp_path))
    record = signatures.signers[0]
    for locale, anchor_locale, footer, caption in [
        (None, None, "Packet PKT-C-1001 · Page 1 of 1", "Electronically signed by"),
        ("es-US", None, "Paquete PKT-C-1001 · Página 1 de 1", "Firmado electrónicamente por"),
        (None, "es-US", "Paquete PKT-C-1001 · Página 1 de 1", "Firmado electrónicamente por"),
        ("en-US", "es-US", "Packet PKT-C-1001 · Page 1 of 1", "Firmado electrónicamente por"),
    ]:
        stamp = Stamp(anchor=attrs.evolve(anchor, locale=anchor_locale), record=record)
        pdf, figures = draw_overlay(
            [(612.0, 792.0)],
            [stamp],
            font_set(),
            packet_id="PKT-C-1001",
            signed_on="2026-11-27",
            time_zone="America/Chicago",
            locale=locale,
        )
        # The stamp's alternative text follows its document's language too.
        assert figures[0].alt.startswith("Firma de" if caption.startswith("Firmado") else "Signature of")
        path = tmp_path / "overlay.pdf"
        path.write_bytes(pdf)
        text = _page_text(path, 1, 1)
        assert footer in text, (locale, anchor_locale)
        assert caption in text, (locale, anchor_locale)


def _fake_folder(tmp_path: Path) -> Path:
    """A folder whose manifest gives the example signatures a review hash."""
    folder = tmp_path / "packet"
    folder.mkdir(exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"packet": {"sha256": "0" * 64}}), encoding="utf-8")
    return folder


# --- a Spanish archive --------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_the_spanish_audit_certificate_is_spanish(sealed_examples: dict[str, Finalized]) -> None:
    item = sealed_examples[SPANISH]
    assert item.manifest["locale"] == "es-US"
    first, last = item.audit["audit_pages"]
    text = _audit_text(item)
    total = last
    for expected in [
        "Certificado de auditoría",
        "Paquete PKT-C-1004 · Magnolia Counseling Group, PLLC",
        "zona horaria del consultorio: hora central (America/Chicago)",
        "Identificador del paquete PKT-C-1004",
        "Idioma español (es-US)",
        "Fecha de los documentos 27 de noviembre de 2026",  # babel's Spanish long date
        "Consentimiento informado para servicios de consejería",
        "Cliente: Rosa María Hernández Castillo",
        "Terapeuta: Jordan Reyes, MS, P-LPC",
        "Método Nombre escrito",
        "2026-11-27 19:03:27 UTC (27 de noviembre de 2026, 1:03 p.m. CST)",  # UTC stays ISO
        "versión del aviso: esign-disclosure-2026-01-es",
        "Historial de eventos",
        "paquete generado para revisión",
        "dio su consentimiento para registros y",  # a table cell, wrapped after "y"
        "firmó (nombre escrito)",
        "finalizado y sellado",
        "firma de certificación PAdES (PAdES B-B)",
        "Advertencia registrada al generar el paquete",
        "consentkit no constituye asesoría legal.",
        f"Página {first} de {total}",
        f"Página {last} de {total}",
        "Firmado electrónicamente · 27 de noviembre de 2026",
    ]:
        assert expected in text, expected
    # What was recorded is shown as recorded (the clinician's signing page was in English).
    assert "I sign these documents electronically as the treating clinician" in text


@pytest.mark.libreoffice
def test_no_english_label_is_left_on_the_spanish_audit_pages(sealed_examples: dict[str, Finalized]) -> None:
    text = _audit_text(sealed_examples[SPANISH])
    left = [label for label in ENGLISH_LABELS if _has(text, label)]
    assert left == []
    left = sorted(s for s in _english_sentences() if _has(text, s))
    assert left == []


@pytest.mark.libreoffice
def test_every_signer_s_language_version_is_shown(sealed_examples: dict[str, Finalized]) -> None:
    item = sealed_examples[SPANISH]
    assert item.audit["signer_languages"] == {"client": "es-US", "clinician": "es-US"}
    text = _audit_text(item)
    signers = re.split(r"(?=Cliente: |Terapeuta: )", text.split("Firmantes", 1)[1].split("Historial")[0])[1:]
    assert len(signers) == len(item.audit["signers"]) == 2
    for section in signers:
        assert "Idioma de la versión que vio español (es-US)" in section, section[:60]
    english = _audit_text(sealed_examples[ENGLISH])
    assert english.count("Language version seen English (en-US)") == len(
        sealed_examples[ENGLISH].audit["signers"]
    )


@pytest.mark.libreoffice
def test_spanish_footers_captions_and_date_lines(sealed_examples: dict[str, Finalized]) -> None:
    item = sealed_examples[SPANISH]
    with pdfplumber.open(item.archive) as pdf:
        total = len(pdf.pages)
        for number, page in enumerate(pdf.pages, start=1):
            bottom = page.crop((0, page.height - 45, page.width, page.height)).extract_text()
            expected = f"Paquete PKT-C-1004 · Página {number} de {total} · Firmado electrónicamente · "
            assert expected + SIGNED_ON["es-US"] in bottom, number
    text = _page_text(item.archive, 1, total)
    for signer in item.audit["signers"]:
        minute = signer["signed_at"][:16].replace("T", " ")
        caption = f"Firmado electrónicamente por {signer['full_name']}, {minute} UTC"
        assert text.count(caption) == len(signer["documents"]), caption
    # Every page gains the footer's date; a page with signature places also gains one date per
    # date line (every stock signature block has one), in Spanish.
    review = item.folder / "packet.pdf"
    for number in range(1, int(item.manifest["packet"]["pages"]) + 1):
        before = _page_text(review, number, number)
        after = _page_text(item.archive, number, number)
        places = sum(a["page"] == number for d in item.manifest["documents"] for a in d["signature_anchors"])
        assert after.count(SIGNED_ON["es-US"]) - before.count(SIGNED_ON["es-US"]) == 1 + places, number
    assert "Electronically signed" not in text
    assert not re.search(r"\bPage \d+ of \d+\b", text)


@pytest.mark.libreoffice
def test_the_spanish_archive_stays_archival_with_accents(sealed_examples: dict[str, Finalized]) -> None:
    item = sealed_examples[SPANISH]
    assert check_archival(item.archive) == []
    assert pdffonts_all_embedded(item.archive) == []
    text = _audit_text(item)
    for accented in ("auditoría", "Página", "electrónicamente", "María Hernández", "versión", "Método"):
        assert accented in text, accented
    assert not re.search(r"[A-Za-z]\?[a-z]", text), "a character was replaced by '?'"


@pytest.mark.libreoffice
def test_audit_json_stays_in_english(sealed_examples: dict[str, Finalized]) -> None:
    item = sealed_examples[SPANISH]
    with pikepdf.open(item.archive) as pdf:
        record = json.loads(pdf.attachments["audit.json"].get_file().read_bytes())
    assert record["locale"] == "es-US"
    assert record["note"] == "consentkit is not legal advice."
    client = next(s for s in record["signers"] if s["key"] == "client")
    assert client["signed_at_local"] == "November 27, 2026, 1:03 PM CST"
    actions = [e["action"] for e in record["events"]]
    assert "packet rendered for review" in actions and "finalized and sealed" in actions
    assert "Certificado" not in json.dumps(record, ensure_ascii=False)


@pytest.mark.libreoffice
def test_the_english_archive_still_reads_english(sealed_examples: dict[str, Finalized]) -> None:
    item = sealed_examples[ENGLISH]
    first, last = item.audit["audit_pages"]
    text = _audit_text(item)
    for expected in [
        "Audit certificate",
        "Times are shown in UTC and in the practice's time zone, Central Time (America/Chicago).",
        "Language English (en-US)",
        "Document date November 27, 2026",
        "Template version SHA-256",
        "Event history",
        "packet rendered for review",
        "finalized and sealed",
        "consentkit is not legal advice.",
        f"Packet PKT-C-1001 · Page {first} of {last} · Electronically signed · {SIGNED_ON['en-US']}",
    ]:
        assert expected in text, expected
    left = [label for label in SPANISH_LABELS if _has(text, label)]
    assert left == []


# --- a Spanish packet with the English copy for reference --------------------------------------


@pytest.fixture(scope="module")
def bilingual_archive(
    tmp_path_factory: pytest.TempPathFactory,
    practice: Practice,
    example_clients: dict[str, Client],
    converter: object,
) -> tuple[Path, dict[str, Any]]:
    from consentkit import render_packet

    out = tmp_path_factory.mktemp("bilingual")
    result = render_packet(
        practice,
        example_clients["spanish"],
        out / SPANISH,
        on=DOC_DATE,
        now=NOW,
        packet_id=f"PKT-{SPANISH}",
        converter=converter,  # type: ignore[arg-type]
        include_english=True,
    )
    archive = finalize_packet(
        result.out_dir,
        example_signatures(SPANISH, result.out_dir),
        out / f"{SPANISH}.pdf",
        now=FINALIZED_AT,
    )
    return archive.path, json.loads(archive.audit.to_json())


@pytest.mark.libreoffice
def test_reference_copies_are_marked_on_the_certificate(
    bilingual_archive: tuple[Path, dict[str, Any]],
) -> None:
    archive, audit = bilingual_archive
    references = [d for d in audit["documents"] if d["reference_only"]]
    assert references and all(d["locale"] == "en-US" and not d["signature_places"] for d in references)
    first, last = audit["audit_pages"]
    text = _page_text(archive, first, last)
    assert text.count("Uso Copia en inglés como referencia, no firmada") == len(references)
    for document in references:
        assert (
            f"{document['title']} Uso Copia en inglés como referencia, no firmada Idioma inglés (en-US)"
            in text
        )
    assert "finalizado (sin sello)" in text and "El archivo no está sellado." in text
    # The English copy's pages carry the packet's (Spanish) footer.
    page = references[0]["archive_pages"][0]
    assert f"Paquete PKT-C-1004 · Página {page} de {last}" in _page_text(archive, page, page)
    assert check_archival(archive) == []
    assert manifest_of(archive.parent / SPANISH)["locale"] == "es-US"


@pytest.mark.libreoffice
def test_the_revocation_page_of_a_spanish_packet_is_spanish(
    sealed_examples: dict[str, Finalized], tmp_path: Path
) -> None:
    """The revocation page takes its words from the word catalogue in the revoked packet's
    language, like the audit certificate (issue 17); revocation.json stays in English."""
    from consentkit.lifecycle import revoke_packet

    item = sealed_examples[SPANISH]
    revoked_at = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    result = revoke_packet(
        item.archive,
        reason="retiró el consentimiento",
        by="Jordan Reyes",
        out=tmp_path / "r.pdf",
        now=revoked_at,
    )
    first_page = pdf_text(result.path).split("\f")[0]
    text = re.sub(r"\s+", " ", first_page)
    for expected in [
        "Revocación del consentimiento",
        "Se retiró el consentimiento dado en el paquete PKT-C-1004",
        "El paquete revocado",
        "Motivo retiró el consentimiento",
        "1 de diciembre de 2026",
        "Sellado por",
        "Este archivo no está sellado",
        "consentkit no constituye asesoría legal.",
    ]:
        assert expected in text, expected
    for english in ("Revocation of consent", "The revoked packet", "Recorded by", "not sealed", "December"):
        assert not _has(text, english), english
    assert result.record["revoked_at_local"].startswith("Dec")
