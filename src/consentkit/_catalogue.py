"""The words of each language: the tables of the stock template sets' ``clauses.toml``.

Each stock locale (``templates/en-US``, ``templates/es-US``) has one ``clauses.toml``: the
vocabulary and clauses the templates are filled with, and the words of everything consentkit
draws itself (the audit certificate, the signature stamps, the revocation page, the session log).
This module reads them; the layers above use it: rendering (a
:class:`~consentkit.rendering.TemplateSet` is the catalogue of its locale plus its DOCX files),
signing (the certificate, stamps and revocation page) and the lifecycle (the session log), none
of them through another.

Entries hold ``{placeholders}`` filled from named values, and nothing else: no attribute access,
no formatting; dates and times are formatted with :mod:`consentkit.formatting` by the caller.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from .errors import TemplateError
from .models import US_STATES

__all__ = [
    "CATALOGUE_NAME",
    "DEFAULT_LOCALE",
    "Catalogue",
    "available_locales",
    "catalogue",
    "file_stamp",
    "fill_placeholders",
    "match_locale",
    "read_toml",
    "templates_root",
]

#: The language of anything whose locale has no stock template set.
DEFAULT_LOCALE = "en-US"
#: The file of each locale's words.
CATALOGUE_NAME = "clauses.toml"

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@cache
def templates_root() -> Path:
    """The folder holding the stock template sets.

    An installed wheel carries them as ``consentkit/templates``; a source checkout (or an editable
    install) uses the repository's top-level ``templates/`` folder.
    """
    packaged = Path(str(resources.files("consentkit"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def file_stamp(path: Path) -> tuple[int, int]:
    """What changes when a file is edited (modification time and size); ``(0, -1)`` if missing."""
    try:
        status = path.stat()
    except OSError:
        return (0, -1)
    return (status.st_mtime_ns, status.st_size)


def available_locales() -> list[str]:
    """Locales with a stock template set."""
    root = templates_root()
    return list(_locales(root, file_stamp(root)))


@lru_cache(maxsize=8)
def _locales(root: Path, _stamp: tuple[int, int]) -> tuple[str, ...]:
    # The folder's modification time changes when a set is added or removed.
    return tuple(sorted(p.name for p in root.iterdir() if (p / "templates.toml").is_file()))


def match_locale(wanted: str, available: Sequence[str] | None = None) -> str | None:
    """The available locale for ``wanted``: itself (in any case, ``_`` or ``-``), else another
    locale of the same language (``es-MX`` and ``es`` give ``es-US``); ``None`` when there is none.

    >>> match_locale("es_mx", ["en-US", "es-US"])
    'es-US'
    >>> match_locale("fr", ["en-US", "es-US"]) is None
    True
    """
    choices = available_locales() if available is None else list(available)
    wanted = wanted.replace("_", "-")
    for candidate in choices:
        if candidate.lower() == wanted.lower():
            return candidate
    language = wanted.split("-")[0].lower()
    same_language = sorted(c for c in choices if c.split("-")[0].lower() == language)
    return same_language[0] if same_language else None


def fill_placeholders(text: str, values: Mapping[str, object], *, where: str, template: str) -> str:
    """Replace ``{name}`` placeholders (and nothing else: no attribute access, no formatting).

    Raises:
        TemplateError: ``text`` uses a placeholder ``values`` does not give.
    """

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise TemplateError(f"{where} uses an unknown placeholder {{{name}}}", template=template)
        return str(values[name])

    return _PLACEHOLDER.sub(fill, text)


def read_toml(path: Path, *, template: str) -> dict[str, Any]:
    """A template set's TOML file.

    Raises:
        TemplateError: it cannot be read or parsed.
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TemplateError(f"cannot read {path.name}: {exc}", template=template) from exc


@attrs.frozen(kw_only=True)
class Catalogue:
    """The words of one locale (the tables of its ``clauses.toml``)."""

    locale: str
    clauses: dict[str, Any] = attrs.field(eq=False, repr=False)

    def text(self, section: str, key: str, **values: object) -> str:
        """An entry, its ``{placeholders}`` filled from ``values``.

        ``section`` is the table's dotted path: ``text("audit.label", "signed")`` reads
        ``[audit.label] signed``, ``text("stamp", "footer", page=1, ...)`` reads ``[stamp] footer``.

        Raises:
            TemplateError: the entry is missing, is not text, or uses a placeholder not given.
        """
        where = f"{section}.{key}"
        entry: Any = self.clauses
        for part in where.split("."):
            if not isinstance(entry, dict) or part not in entry:
                raise TemplateError(f"{CATALOGUE_NAME} lacks {where}", template=self.locale)
            entry = entry[part]
        if not isinstance(entry, str):
            raise TemplateError(f"{CATALOGUE_NAME}: {where} is not text", template=self.locale)
        return fill_placeholders(entry, values, where=where, template=self.locale)

    def word(self, group: str, key: str) -> str:
        """A vocabulary entry, e.g. ``word("device", "phone")`` -> ``smartphone``.

        Raises:
            TemplateError: the entry is missing.
        """
        try:
            return str(self.clauses["vocabulary"][group][key])
        except KeyError as exc:
            raise TemplateError(
                f"{CATALOGUE_NAME} lacks vocabulary.{group}.{key}", template=self.locale
            ) from exc

    def phrase(self, group: str, key: str, **values: object) -> str:
        """A vocabulary sentence with its ``{placeholders}`` filled from ``values``.

        Raises:
            TemplateError: the entry is missing or uses a placeholder not given.
        """
        return fill_placeholders(
            self.word(group, key), values, where=f"vocabulary.{group}.{key}", template=self.locale
        )

    def state_name(self, code: str) -> str:
        """A state's name in this language (``[vocabulary.state_name]``), else its English name."""
        names = self.clauses.get("vocabulary", {}).get("state_name", {})
        return str(names.get(code) or US_STATES.get(code, code))

    def default(self, key: str) -> str:
        """A default clause for a state-rule slot.

        Raises:
            TemplateError: the entry is missing.
        """
        try:
            return str(self.clauses["defaults"][key])
        except KeyError as exc:
            raise TemplateError(f"{CATALOGUE_NAME} lacks defaults.{key}", template=self.locale) from exc

    def table(self, section: str) -> dict[str, Any]:
        """A whole table (``{}`` when the catalogue has none)."""
        entry: Any = self.clauses
        for part in section.split("."):
            entry = entry.get(part, {}) if isinstance(entry, dict) else {}
        return entry if isinstance(entry, dict) else {}


def catalogue(locale: str | None) -> Catalogue:
    """The words of the stock locale for ``locale``: itself, another locale of the same language
    (``es-MX`` -> ``es-US``), else :data:`DEFAULT_LOCALE` (also for ``None``).

    Raises:
        TemplateError: the stock catalogue cannot be read.
    """
    stock = (match_locale(locale) if locale else None) or DEFAULT_LOCALE
    path = templates_root() / stock / CATALOGUE_NAME
    return _catalogue(stock, path, file_stamp(path))


@lru_cache(maxsize=16)
def _catalogue(locale: str, path: Path, _stamp: tuple[int, int]) -> Catalogue:
    return Catalogue(locale=locale, clauses=read_toml(path, template=locale))
