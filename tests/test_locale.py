"""Every document in the client's language.

- The es-US set mirrors en-US element for element: the same checklist elements per section, the same
  Jinja variables and tags, the same signature places, the same index and clause keys.
- Formatting follows the locale passed in, never the machine's locale settings.
- The client's preferred language picks the set (es-MX and es fall back to es-US, anything else to
  en-US with a warning), and a practice can force a language.
- A Spanish packet converted by the real LibreOffice reads as Spanish, with no English template text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import babel.dates
import jinja2
import pytest
from docx import Document
from jinja2 import nodes

from consentkit import InputError, formatting, render_packet
from consentkit.formatting import (
    babel_locale,
    format_date,
    format_datetime,
    format_language,
    format_list,
    format_money,
    format_percent,
    format_phone,
    format_time_zone,
)
from consentkit.models import Client, Practice
from consentkit.packet import choose_template_set, stage_packet
from consentkit.rendering import TemplateSet, load_template_set

from .conftest import DOC_DATE, NOW, ROOT
from .pdf_support import pdf_text

TEMPLATES = ROOT / "templates"
SOURCE = "en-US"
TRANSLATIONS = ["es-US"]
UNREVIEWED = "the es-US translation has not been reviewed by a qualified translator"


def _index(locale: str) -> dict[str, Any]:
    return tomllib.loads((TEMPLATES / locale / "templates.toml").read_text(encoding="utf-8"))


def _clauses(locale: str) -> dict[str, Any]:
    return tomllib.loads((TEMPLATES / locale / "clauses.toml").read_text(encoding="utf-8"))


TEMPLATE_IDS = [entry["id"] for entry in _index(SOURCE)["templates"]]
PAIRS = [(locale, tid) for locale in TRANSLATIONS for tid in TEMPLATE_IDS]


# --- (a) coverage: a translated source holds what its English counterpart holds ------------------

#: A Jinja tag as docxtpl sees it, including the paragraph/row (``{%p``, ``{%tr``) and raw (``{{r``) forms.
JINJA_TAG = re.compile(r"\{\{r?\s.*?\}\}|\{%(?:p|tr)?\s.*?%\}")


def _source(locale: str, template_id: str) -> str:
    return (TEMPLATES / "src" / locale / f"{template_id}.txt").read_text(encoding="utf-8")


def _tags(text: str) -> set[str]:
    return {re.sub(r"\s+", " ", tag) for tag in JINJA_TAG.findall(text)}


def _skeleton(text: str) -> list[str]:
    """The structure of a source without its words: heading levels, paragraph and row tags, the
    checklist elements each section covers, tables, large paragraphs and signature blocks, in order."""
    shape: list[str] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("## "):
            shape.append("heading 2")
        elif line.startswith("# "):
            shape.append("heading 1")
        elif line.startswith(("{%p", "{%tr")):
            shape.append(re.sub(r"\s+", " ", line.strip()))
        elif line.startswith("@covers"):
            shape.append("covers " + " ".join(sorted(line.split()[1:])))
        elif line.startswith(("@signature", "@large")):
            shape.append(re.sub(r"\s+", " ", line.strip()))
        elif line.startswith("@title") or line.startswith("@small"):
            shape.append(line.split()[0])
        elif line.startswith("|") and not previous.startswith(("|", "{%tr")):
            shape.append("table")
        previous = line
    return shape


def _covers(text: str) -> set[str]:
    return {cid for line in text.splitlines() if line.startswith("@covers") for cid in line.split()[1:]}


def _signature_places(text: str) -> list[str]:
    return [re.sub(r"\s+", " ", line.strip()) for line in text.splitlines() if line.startswith("@signature")]


def _chain(node: nodes.Node) -> str | None:
    """``client.emergency_contact.name`` for a chain of names, attributes and constant subscripts."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        base = _chain(node.node)
        return None if base is None else f"{base}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        base = _chain(node.node)
        if base is None:
            return None
        key = repr(node.arg.value) if isinstance(node.arg, nodes.Const) else "[]"
        return f"{base}[{key}]"
    return None


def _paths(node: nodes.Node) -> Iterator[str]:
    chain = _chain(node)
    if chain is not None:
        yield chain
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            yield from _paths(node.arg)
        return
    for child in node.iter_child_nodes():
        yield from _paths(child)


def _variables(text: str) -> set[str]:
    """Every variable root and attribute path the source's Jinja uses: ``client``,
    ``client.guardians[0].name``, loop variables such as ``g.relationship`` and ``loop.index``."""
    jinja = "\n".join(JINJA_TAG.findall(text))
    jinja = re.sub(r"^\{%(?:p|tr)\s", "{% ", jinja, flags=re.M)
    jinja = re.sub(r"^\{\{r\s", "{{ ", jinja, flags=re.M)
    return set(_paths(jinja2.Environment().parse(jinja)))


def _flat_keys(table: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in table.items():
        path = f"{prefix}{key}"
        keys |= _flat_keys(value, path + ".") if isinstance(value, dict) else {path}
    return keys


@pytest.mark.parametrize(("locale", "template_id"), PAIRS)
def test_translation_covers_the_same_elements_section_by_section(locale: str, template_id: str) -> None:
    english, translated = _source(SOURCE, template_id), _source(locale, template_id)
    assert _covers(translated) == _covers(english)
    assert _skeleton(translated) == _skeleton(english)


@pytest.mark.parametrize(("locale", "template_id"), PAIRS)
def test_translation_uses_the_same_variables_tags_and_signature_places(locale: str, template_id: str) -> None:
    english, translated = _source(SOURCE, template_id), _source(locale, template_id)
    assert _variables(translated) == _variables(english)
    assert _tags(translated) == _tags(english)
    assert _signature_places(translated) == _signature_places(english)


def test_variable_extraction_sees_attribute_paths_and_loop_variables() -> None:
    text = _source(SOURCE, "emergency_plan")
    found = _variables(text)
    assert {"client.emergency_contact.phone", "g.relationship", "client.guardians", "practice.phone"} <= found
    assert "client.guardians[0].relationship" in _variables(_source(SOURCE, "fees_policy"))


@pytest.mark.parametrize("locale", TRANSLATIONS)
def test_translated_index_matches_the_english_index(locale: str) -> None:
    english, translated = _index(SOURCE), _index(locale)
    assert translated["locale"] == locale
    assert set(translated) == set(english)
    assert set(translated["strings"]) == set(english["strings"])
    assert all(p in translated["strings"]["footer"] for p in ("{title}", "{PAGE}", "{NUMPAGES}"))
    for ours, theirs in zip(translated["templates"], english["templates"], strict=True):
        for key in ("id", "file", "order", "covers", "signers"):
            assert ours[key] == theirs[key], (ours["id"], key)
        assert ours["title"] != theirs["title"], f"{ours['id']}: title not translated"
        assert _source(locale, ours["id"]).splitlines()[0] == f"@title {ours['title']}"


@pytest.mark.parametrize("locale", TRANSLATIONS)
def test_stock_translation_awaits_a_qualified_human_reviewer(locale: str) -> None:
    templates = load_template_set(locale)
    assert templates.translation_reviewed_by == ""
    assert templates.translation_reviewed_on == ""
    assert "92.201(c)(3)" in (TEMPLATES / locale / "templates.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("locale", TRANSLATIONS)
def test_translated_clauses_hold_every_english_key(locale: str) -> None:
    english, translated = _clauses(SOURCE), _clauses(locale)
    assert _flat_keys(translated) == _flat_keys(english)
    placeholder = re.compile(r"\{([a-z_]+)\}")
    for key, text in english.get("rules", {}).items():
        assert set(placeholder.findall(translated["rules"][key])) == set(placeholder.findall(text)), key


@pytest.mark.parametrize("locale", TRANSLATIONS)
def test_translated_vocabulary_is_translated(locale: str) -> None:
    english, translated = _clauses(SOURCE)["vocabulary"], _clauses(locale)["vocabulary"]
    same_in_both = {"911", "988", "individual", "{name} ({zone})", "Medicaid", "Medicare", "TRICARE"}
    untranslated = [
        f"{group}.{key}"
        for group, words in english.items()
        for key, word in words.items()
        if translated[group][key] == word and word not in same_in_both
    ]
    assert untranslated == []


@pytest.mark.parametrize("locale", TRANSLATIONS)
def test_rendered_documents_have_the_same_signature_places(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client], locale: str
) -> None:
    """Rendered for every example client, each document has the same signature places in both sets."""
    for name, client in example_clients.items():
        places = {}
        for set_locale in (SOURCE, locale):
            staged = stage_packet(
                practice,
                client,
                tmp_path / f"{name}-{set_locale}",
                language=set_locale,
                on=DOC_DATE,
                now=NOW,
                packet_id="PKT-X",
            )
            staged.discard()
            places[set_locale] = [(d.id, d.signature_places) for d in staged.manifest.documents]
        assert places[locale] == places[SOURCE], name


# --- (b) formatting: explicit locale in, the same text out, whatever the process locale ---------

#: Every public helper of consentkit.formatting and the samples that run it; a new helper needs samples.
SAMPLED_BY = {
    "babel_locale": ["babel_locale"],
    "format_date": ["date"],
    "format_datetime": ["datetime_summer_chicago", "datetime_winter_new_york"],
    "format_money": ["money", "money_grouped", "money_negative"],
    "format_percent": ["percent", "percent_rounded"],
    "format_list": ["list_three", "list_two", "list_one", "list_empty"],
    "format_phone": ["phone_us", "phone_mexico"],
    "format_time_zone": ["time_zone_chicago"],
    "format_language": ["language_spanish", "language_english", "language_unknown"],
}
SUMMER = datetime(2026, 3, 15, 18, 5, tzinfo=UTC)  # daylight saving time has begun in Chicago
WINTER = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)


def formatted_samples() -> dict[str, dict[str, str]]:
    """Every formatting helper on fixed inputs, for en-US and es-US.

    Run in this process and, by the process-locale test, in a child process under a foreign locale.
    """
    samples = {}
    for loc in ("en-US", "es-US"):
        samples[loc] = {
            "babel_locale": str(babel_locale(loc)),
            "date": format_date(date(2026, 3, 15), loc),
            "datetime_summer_chicago": format_datetime(SUMMER, "America/Chicago", loc),
            "datetime_winter_new_york": format_datetime(WINTER, "America/New_York", loc),
            "money": format_money(Decimal("75"), "USD", loc),
            "money_grouped": format_money(Decimal("1234.5"), "USD", loc),
            "money_negative": format_money(Decimal("-20"), "USD", loc),
            "percent": format_percent(Decimal("0.15"), loc),
            "percent_rounded": format_percent(0.125, loc),
            "list_three": format_list(["Ana", "Luis", "Marta"], loc),
            "list_two": format_list(["Ana", "Luis"], loc),
            "list_one": format_list(["Ana"], loc),
            "list_empty": format_list([], loc),
            "phone_us": format_phone("+16015550100", loc),
            "phone_mexico": format_phone("+525512345678", loc),
            "time_zone_chicago": format_time_zone("America/Chicago", loc),
            "language_spanish": format_language("es-US", loc),
            "language_english": format_language("en-US", loc),
            "language_unknown": format_language("xx-YY", loc),
        }
    return samples


# What babel 2.19 gives. U+202F (narrow no-break space) separates the time from AM/PM.
EXPECTED = {
    "en-US": {
        "babel_locale": "en_US",
        "date": "March 15, 2026",
        "datetime_summer_chicago": "March 15, 2026, 1:05\u202fPM CDT",
        "datetime_winter_new_york": "November 27, 2026, 10:30\u202fAM EST",
        "money": "$75.00",
        "money_grouped": "$1,234.50",
        "money_negative": "-$20.00",
        "percent": "15%",
        "percent_rounded": "12%",  # half to even
        "list_three": "Ana, Luis, and Marta",
        "time_zone_chicago": "Central Time",
        "list_two": "Ana and Luis",
        "list_one": "Ana",
        "list_empty": "",
        "phone_us": "(601) 555-0100",
        "phone_mexico": "+52 55 1234 5678",
        "language_spanish": "Spanish",
        "language_english": "English",
        "language_unknown": "xx-YY",
    },
    "es-US": {
        "babel_locale": "es_US",
        "date": "15 de marzo de 2026",
        "datetime_summer_chicago": "15 de marzo de 2026, 1:05\u202fp.m. CDT",
        "datetime_winter_new_york": "27 de noviembre de 2026, 10:30\u202fa.m. EST",
        "money": "$75.00",
        "money_grouped": "$1,234.50",
        "money_negative": "-$20.00",
        "percent": "15%",
        "percent_rounded": "12%",
        "list_three": "Ana, Luis y Marta",
        "time_zone_chicago": "hora central",
        "list_two": "Ana y Luis",
        "list_one": "Ana",
        "list_empty": "",
        "phone_us": "(601) 555-0100",
        "phone_mexico": "+52 55 1234 5678",
        "language_spanish": "español",
        "language_english": "inglés",
        "language_unknown": "xx-YY",
    },
}


def test_every_formatting_helper_is_sampled() -> None:
    assert set(formatting.__all__) == set(SAMPLED_BY)
    for locale in EXPECTED:
        assert set(EXPECTED[locale]) == {key for keys in SAMPLED_BY.values() for key in keys}


@pytest.mark.parametrize("locale", ["en-US", "es-US"])
def test_formatting_helpers_give_the_locale_s_text(locale: str) -> None:
    assert formatted_samples()[locale] == EXPECTED[locale]


def test_the_locale_argument_decides_the_format() -> None:
    amount = Decimal("1234.5")
    assert format_money(amount, "USD", "de-DE") == "1.234,50\u00a0$"
    assert format_money(amount, "USD", "es") == "1.234,50\u00a0US$"
    assert format_date(date(2026, 3, 15), "fr-FR") == "15 mars 2026"
    assert format_phone("+16015550100", "es-MX") == "+1 601-555-0100"  # not domestic outside the US


def test_formatting_refuses_bad_input() -> None:
    with pytest.raises(InputError, match="unknown locale"):
        format_date(date(2026, 3, 15), "xx-QQ")
    with pytest.raises(ValueError, match="timezone-aware"):
        format_datetime(datetime(2026, 3, 15, 12, 0), "America/Chicago", "es-US")


CHILD = (
    "import json, datetime, babel.dates\n"
    "from tests.test_locale import formatted_samples\n"
    "print(json.dumps({'babel_default': babel.dates.format_date(datetime.date(2026, 3, 15), format='long'),\n"
    "                  'samples': formatted_samples()}))\n"
)


@pytest.mark.parametrize(
    ("process_locale", "babel_default"), [("de_DE.UTF-8", "15. März 2026"), ("fr_FR.UTF-8", "15 mars 2026")]
)
def test_formatting_ignores_the_process_locale(process_locale: str, babel_default: str) -> None:
    """Babel's default locale comes from LANGUAGE/LC_ALL/LC_CTYPE/LANG. The machine may have only the
    C locales installed, so the child process sets the variables rather than calling setlocale; babel
    reads them anyway. A helper that let babel fall back to its default would print German or French."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_") and k not in ("LANG", "LANGUAGE")}
    env.update(LANG=process_locale, LC_ALL=process_locale, LANGUAGE=process_locale.split(".")[0])
    child = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(child.stdout)
    assert result["babel_default"] == babel_default  # the foreign locale really reaches babel
    assert result["samples"] == EXPECTED
    assert babel.dates.format_date(date(2026, 3, 15), format="long", locale="en_US") == "March 15, 2026"


# --- (c) which set a client gets ------------------------------------------------------------------


@pytest.mark.parametrize("preferred", ["es-US", "es-MX", "es", "es_US", "ES-mx"])
def test_spanish_languages_get_the_es_us_set(preferred: str) -> None:
    templates, warnings = choose_template_set(preferred)
    assert (templates.locale, warnings) == ("es-US", [])


@pytest.mark.parametrize("preferred", ["en-US", "en-GB", "en"])
def test_english_languages_get_the_en_us_set(preferred: str) -> None:
    templates, warnings = choose_template_set(preferred)
    assert (templates.locale, warnings) == ("en-US", [])


def test_an_unsupported_language_falls_back_to_english_with_a_warning() -> None:
    templates, warnings = choose_template_set("fr-FR")
    assert templates.locale == "en-US"
    assert warnings == ["no template set for preferred language 'fr-FR'; used en-US"]


def test_a_forced_language_overrides_the_preference() -> None:
    assert choose_template_set("en-US", force="es-US")[0].locale == "es-US"
    assert choose_template_set("es-MX", force="en-US") == (load_template_set("en-US"), [])
    assert choose_template_set("fr-FR", force="es-US") == (load_template_set("es-US"), [])


def _staged_manifest(practice: Practice, client: Client, out: Path, **kwargs: Any) -> dict[str, Any]:
    staged = stage_packet(practice, client, out, on=DOC_DATE, now=NOW, packet_id="PKT-X", **kwargs)
    staged.discard()
    return json.loads(staged.manifest.to_json())  # type: ignore[no-any-return]


def test_manifest_records_the_language_and_the_fallback(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    adult = example_clients["adult"]
    french = _staged_manifest(practice, attrs.evolve(adult, preferred_language="fr-FR"), tmp_path / "fr")
    assert french["locale"] == "en-US"
    assert "no template set for preferred language 'fr-FR'; used en-US" in french["warnings"]
    assert not any("translation" in w for w in french["warnings"])

    spanish = _staged_manifest(practice, attrs.evolve(adult, preferred_language="es-MX"), tmp_path / "es")
    assert spanish["locale"] == "es-US"
    assert spanish["template_set"] == {
        "locale": "es-US",
        "translation_reviewed_by": "",
        "translation_reviewed_on": "",
    }
    assert UNREVIEWED in spanish["warnings"]
    assert [d["title"] for d in spanish["documents"]] == [t["title"] for t in _index("es-US")["templates"]]


def test_manifest_follows_a_forced_language(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    spanish_client = example_clients["spanish"]
    assert spanish_client.preferred_language == "es-US"
    forced_english = _staged_manifest(practice, spanish_client, tmp_path / "en", language="en-US")
    assert forced_english["locale"] == "en-US" and UNREVIEWED not in forced_english["warnings"]
    forced_spanish = _staged_manifest(practice, example_clients["adult"], tmp_path / "es", language="es-US")
    assert forced_spanish["locale"] == "es-US" and UNREVIEWED in forced_spanish["warnings"]


def test_a_reviewed_translation_carries_no_warning(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client]
) -> None:
    reviewed = tmp_path / "es-US-reviewed"
    shutil.copytree(TEMPLATES / "es-US", reviewed)
    index = reviewed / "templates.toml"
    index.write_text(
        index.read_text(encoding="utf-8")
        .replace('translation_reviewed_by = ""', 'translation_reviewed_by = "A. Reviewer, CHI-Spanish"')
        .replace('translation_reviewed_on = ""', 'translation_reviewed_on = "2026-11-20"'),
        encoding="utf-8",
    )
    templates: TemplateSet = load_template_set(reviewed)
    manifest = _staged_manifest(
        practice, example_clients["spanish"], tmp_path / "out", template_set=templates
    )
    assert manifest["template_set"]["translation_reviewed_by"] == "A. Reviewer, CHI-Spanish"
    assert UNREVIEWED not in manifest["warnings"]


# --- (d) end to end: Spanish packets through the real LibreOffice ---------------------------------


@pytest.fixture(scope="module")
def spanish_packets(
    tmp_path_factory: pytest.TempPathFactory,
    practice: Practice,
    example_clients: dict[str, Client],
    converter: object,
) -> dict[str, Path]:
    """Spanish packets: chosen by preference (adult, and the Spanish example on public Wi-Fi) or forced
    (couple, minor), so every branch of the sources renders in Spanish."""
    out = tmp_path_factory.mktemp("es-US")
    clients: dict[str, tuple[Client, str | None]] = {
        "adult": (attrs.evolve(example_clients["adult"], preferred_language="es-US"), None),
        "couple": (example_clients["couple"], "es-US"),
        "minor": (example_clients["minor"], "es-US"),
        "public_wifi": (attrs.evolve(example_clients["spanish"], connection="public_wifi"), None),
    }
    folders = {}
    for name, (client, language) in clients.items():
        result = render_packet(
            practice,
            client,
            out / name,
            language=language,
            on=DOC_DATE,
            now=NOW,
            packet_id=f"PKT-{client.id}",
            converter=converter,
        )  # type: ignore[arg-type]
        folders[name] = result.out_dir
    return folders


_FRAGMENT_SPLIT = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{[a-z_]+\}")


def _fragments(text: str) -> Iterator[str]:
    """Runs of three or more words between Jinja tags or placeholders, split into sentences."""
    for piece in _FRAGMENT_SPLIT.split(text):
        for sentence in re.split(r"(?<=[.;:!?])\s+", re.sub(r"\s+", " ", piece)):
            sentence = sentence.strip(" ()·,")
            if len(re.findall(r"[A-Za-z]+", sentence)) >= 3:
                yield sentence


def english_template_text() -> set[str]:
    """Distinctive English of the en-US set: every sentence of the built templates and of clauses.toml."""
    found: set[str] = set()
    for path in sorted((TEMPLATES / SOURCE).glob("*.docx")):
        doc = Document(str(path))
        paragraphs = list(doc.paragraphs)
        for table in doc.tables:
            paragraphs += [p for row in table.rows for cell in row.cells for p in cell.paragraphs]
        for paragraph in paragraphs:
            found.update(_fragments(paragraph.text))
    clauses = _clauses(SOURCE)
    for group in clauses["vocabulary"].values():
        found.update(w for w in group.values() if re.search(r"[A-Za-z]{3}", w))
    for section in ("defaults", "rules", "practice", "law"):
        for text in clauses.get(section, {}).values():
            if isinstance(text, str):
                found.update(_fragments(text))
            else:  # [law.<group>."<rule id>"] tables of sentences written for one rule
                found.update(f for entry in text.values() for f in _fragments(entry["text"]))
    found -= {"individual", "Medicaid", "Medicare", "TRICARE"}  # the same words in Spanish
    return found


def test_the_english_sample_reaches_every_kind_of_text() -> None:
    english = english_template_text()
    assert len(english) > 300
    for sample in [
        "If the video call drops",  # a bullet, cut at a tag
        "Late cancellation (less than",  # a table cell
        "Parent or legal guardian",  # a signature label and a vocabulary word
        "988 Suicide and Crisis Lifeline (call or text)",  # vocabulary
        "In some states, it is a crime to record a private talk unless everyone in it agrees.",  # a clause
        "Your clinician may tell only that person or the police.",  # a law sentence written for one rule
    ]:
        assert sample in english, sample


@pytest.mark.libreoffice
def test_spanish_packet_shows_spanish_dates_money_and_crisis_text(spanish_packets: dict[str, Path]) -> None:
    text = pdf_text(spanish_packets["adult"] / "packet.pdf", flat=True)
    for expected in [
        "27 de noviembre de 2026",  # the document date
        "15 de marzo de 1988",  # the client's date of birth
        "30 de junio de 2027",  # the license's expiry
        *(format_money(Decimal(a), "USD", "es-US") for a in ("150", "175", "75")),
        "$150.00",
        "$175.00",
        "$75.00",
        "Línea 988 de Prevención del Suicidio y Crisis",
        "oprima 2",
        "AYUDA",
        "Servicios de emergencia (policía, bomberos, ambulancia): 911",
        "Llame al 911 o vaya a la sala de emergencias más cercana",
        "Consentimiento informado para servicios de consejería",
        "Página 1 de",
        "desde su computadora, con wifi de casa",
    ]:
        assert expected in text, expected
    for english_format in ("November 27, 2026", "March 15, 1988", "June 30, 2027", "Page 1 of"):
        assert english_format not in text
    assert "{{" not in text and "{%" not in text


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["adult", "couple", "minor", "public_wifi"])
def test_spanish_packet_has_no_english_template_text(spanish_packets: dict[str, Path], name: str) -> None:
    text = pdf_text(spanish_packets[name] / "packet.pdf", flat=True)
    left = sorted(s for s in english_template_text() if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", text))
    assert left == []
    assert not re.search(r"\bPage \d+ of \d+\b", text)
    assert "ck-sig" not in text  # the anchors are read, then removed


@pytest.mark.libreoffice
def test_spanish_branches_render(spanish_packets: dict[str, Path]) -> None:
    minor = pdf_text(spanish_packets["minor"] / "packet.pdf", flat=True)
    assert "Consejería para un menor de edad" in minor and "Padre, madre o tutor legal (mother)" in minor
    couple = pdf_text(spanish_packets["couple"] / "packet.pdf", flat=True)
    assert "En la consejería de pareja con Keisha Williams" in couple and "Participante (spouse)" in couple
    wifi = pdf_text(spanish_packets["public_wifi"] / "packet.pdf", flat=True)
    assert "Importante: wifi público." in wifi and "desde su celular, con wifi público" in wifi
    assert "Supervisión" in wifi  # the Spanish example's clinician is supervised


@pytest.mark.libreoffice
def test_spanish_manifest_records_the_language_and_the_unreviewed_translation(
    spanish_packets: dict[str, Path],
) -> None:
    for name, folder in spanish_packets.items():
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["locale"] == "es-US", name
        assert manifest["template_set"]["translation_reviewed_by"] == ""
        assert UNREVIEWED in manifest["warnings"]
        places = {p for d in manifest["documents"] for p in d["signature_places"]}
        recorded = {a["key"] for d in manifest["documents"] for a in d["signature_anchors"]}
        assert recorded == places and "ck-sig" not in pdf_text(folder / "packet.pdf", flat=True)
        if name != "public_wifi":  # the public Wi-Fi paragraph makes the plan two pages in English too
            plan = next(d for d in manifest["documents"] if d["id"] == "emergency_plan")
            assert plan["pages"] == 1, name


@pytest.mark.libreoffice
def test_the_spanish_example_client_renders_in_spanish(rendered_examples: dict[str, Path]) -> None:
    manifest = json.loads((rendered_examples["spanish"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["locale"] == "es-US" and UNREVIEWED in manifest["warnings"]
    assert "8 de septiembre de 1984" in pdf_text(rendered_examples["spanish"] / "packet.pdf", flat=True)


@pytest.mark.libreoffice
def test_library_words_in_spanish_packets_are_spanish(spanish_packets: dict[str, Path]) -> None:
    text = pdf_text(spanish_packets["adult"] / "packet.pdf", flat=True)
    assert " expires " not in text
    assert "No. LPC-2841" not in text
    assert "(counseling)" not in text
    assert "vence el 30 de junio de 2027" in text and "Pacto Interestatal de Consejería" in text
    assert "hora central (America/Chicago)" in text


@pytest.mark.libreoffice
def test_practice_text_in_spanish_packets_is_spanish(spanish_packets: dict[str, Path]) -> None:
    text = pdf_text(spanish_packets["adult"] / "packet.pdf", flat=True)
    for english in (
        "within one business day",
        "We do not record sessions",
        "If we cannot reconnect",
        "in an encrypted electronic health record",
        "your clinician intentará",
        "If you are in danger or having a medical emergency",
    ):
        assert english not in text
    assert "dentro de un día hábil" in text  # the practice's own Spanish sentence


@pytest.mark.libreoffice
def test_english_reference_copy_follows_the_spanish_documents(
    tmp_path: Path, practice: Practice, example_clients: dict[str, Client], converter: object
) -> None:
    client = attrs.evolve(example_clients["adult"], preferred_language="es-US")
    result = render_packet(
        practice,
        client,
        tmp_path / "bilingual",
        on=DOC_DATE,
        now=NOW,
        packet_id="PKT-BI",
        converter=converter,
        include_english=True,  # type: ignore[arg-type]
        template_ids=["fees_policy", "esign_consent"],
    )
    documents = result.manifest.documents
    assert [(d.id, d.locale, d.reference_only) for d in documents] == [
        ("fees_policy", "es-US", False),
        ("esign_consent", "es-US", False),
        ("fees_policy.en-US", "en-US", True),
        ("esign_consent.en-US", "en-US", True),
    ]
    assert all(d.signature_places == () for d in documents if d.reference_only)
    assert all(d.signature_places for d in documents if not d.reference_only)
    assert {s.language for s in result.manifest.signers} == {"es-US"}
    text = pdf_text(result.out_dir / "packet.pdf", flat=True)
    assert "Reference copy in English. It is not signed" in text
    assert "Fees, Cancellation and No-Show Policy" in text and "27 de noviembre de 2026" in text
    # The English copy has no signature anchors: only the Spanish documents can be signed.
    english_pages = documents[2].packet_pages
    assert english_pages is not None
    import pypdf

    reader = pypdf.PdfReader(result.out_dir / "packet.pdf")
    english_text = " ".join(
        reader.pages[i - 1].extract_text() for i in range(english_pages[0], english_pages[1] + 1)
    )
    assert "ck-sig-" not in english_text
