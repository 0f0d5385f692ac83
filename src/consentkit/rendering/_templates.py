"""Template sets: the DOCX templates of one locale, their index and their vocabulary."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from ..errors import TemplateError

__all__ = ["TemplateInfo", "TemplateSet", "available_locales", "load_template_set", "templates_root"]


@cache
def templates_root() -> Path:
    """The folder holding the stock template sets.

    An installed wheel carries them as ``consentkit/templates``; a source checkout (or an editable
    install) uses the repository's top-level ``templates/`` folder.
    """
    packaged = Path(str(resources.files("consentkit"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "templates"


@attrs.frozen(kw_only=True)
class TemplateInfo:
    """One template of a set."""

    id: str
    title: str
    path: Path
    order: int
    covers: tuple[str, ...] = ()
    signers: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        """SHA-256 of the DOCX file: the template's version."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@attrs.frozen(kw_only=True)
class TemplateSet:
    """The templates of one locale with the words and default clauses they are filled with."""

    locale: str
    root: Path
    templates: tuple[TemplateInfo, ...]
    clauses: dict[str, Any] = attrs.field(eq=False, repr=False)
    translation_reviewed_by: str = ""
    translation_reviewed_on: str = ""

    def template(self, template_id: str) -> TemplateInfo:
        """The template with this id.

        Raises:
            TemplateError: the set has no such template.
        """
        for info in self.templates:
            if info.id == template_id:
                return info
        raise TemplateError("no such template in this set", template=template_id)

    def word(self, group: str, key: str) -> str:
        """A vocabulary entry, e.g. ``word("device", "phone")`` -> ``smartphone``."""
        try:
            return str(self.clauses["vocabulary"][group][key])
        except KeyError as exc:
            raise TemplateError(f"clauses.toml lacks vocabulary.{group}.{key}", template=self.locale) from exc

    def phrase(self, group: str, key: str, **values: object) -> str:
        """A vocabulary sentence with its ``{placeholders}`` filled from ``values``.

        Raises:
            TemplateError: the entry is missing or uses a placeholder not given.
        """
        return fill_placeholders(
            self.word(group, key), values, where=f"vocabulary.{group}.{key}", template=self.locale
        )

    def text(self, section: str, key: str, **values: object) -> str:
        """An entry of any other table of ``clauses.toml``, its ``{placeholders}`` filled from ``values``.

        ``section`` is the table's dotted path: ``text("audit.label", "signed")`` reads
        ``[audit.label] signed``, ``text("stamp", "footer", page=1, ...)`` reads ``[stamp] footer``.
        The vocabulary has :meth:`word` and :meth:`phrase`; this serves the other tables, such as the
        audit certificate's and the signature stamps' words.

        Raises:
            TemplateError: the entry is missing, is not text, or uses a placeholder not given.
        """
        where = f"{section}.{key}"
        entry: Any = self.clauses
        for part in where.split("."):
            if not isinstance(entry, dict) or part not in entry:
                raise TemplateError(f"clauses.toml lacks {where}", template=self.locale)
            entry = entry[part]
        if not isinstance(entry, str):
            raise TemplateError(f"clauses.toml: {where} is not text", template=self.locale)
        return fill_placeholders(entry, values, where=where, template=self.locale)

    def state_name(self, code: str) -> str:
        """A state's name in this set's language (``[vocabulary.state_name]``), else its English name."""
        from ..models import US_STATES

        names = self.clauses.get("vocabulary", {}).get("state_name", {})
        return str(names.get(code) or US_STATES.get(code, code))

    def default(self, key: str) -> str:
        """A default clause for a state-rule slot."""
        try:
            return str(self.clauses["defaults"][key])
        except KeyError as exc:
            raise TemplateError(f"clauses.toml lacks defaults.{key}", template=self.locale) from exc


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill_placeholders(text: str, values: Mapping[str, object], *, where: str, template: str) -> str:
    """Replace ``{name}`` placeholders (and nothing else: no attribute access, no formatting)."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise TemplateError(f"{where} uses an unknown placeholder {{{name}}}", template=template)
        return str(values[name])

    return _PLACEHOLDER.sub(fill, text)


def _read_toml(path: Path, *, template: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TemplateError(f"cannot read {path.name}: {exc}", template=template) from exc


def _load(root: Path) -> TemplateSet:
    index = _read_toml(root / "templates.toml", template=root.name)
    clauses = _read_toml(root / "clauses.toml", template=root.name)
    entries = index.get("templates", [])
    if not isinstance(entries, list) or not entries:
        raise TemplateError("templates.toml lists no templates", template=root.name)
    infos = []
    for entry in entries:
        try:
            info = TemplateInfo(
                id=str(entry["id"]),
                title=str(entry["title"]),
                path=root / str(entry["file"]),
                order=int(entry.get("order", 0)),
                covers=tuple(entry.get("covers", ())),
                signers=tuple(entry.get("signers", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TemplateError(f"bad entry in templates.toml: {exc}", template=root.name) from exc
        if not info.path.is_file():
            raise TemplateError(f"missing template file {info.path.name}", template=root.name)
        infos.append(info)
    infos.sort(key=lambda i: (i.order, i.id))
    return TemplateSet(
        locale=str(index.get("locale", root.name)),
        root=root,
        templates=tuple(infos),
        clauses=clauses,
        translation_reviewed_by=str(index.get("translation_reviewed_by", "")),
        translation_reviewed_on=str(index.get("translation_reviewed_on", "")),
    )


def load_template_set(locale_or_path: str | Path = "en-US") -> TemplateSet:
    """Load a stock template set by locale (``en-US``) or a custom set from a folder.

    A custom folder holds ``templates.toml`` (the index), ``clauses.toml`` (vocabulary and default
    clauses) and the DOCX files, laid out like ``templates/en-US``.

    Raises:
        TemplateError: the set is missing or malformed.
    """
    candidate = Path(locale_or_path)
    root = candidate if candidate.is_dir() else templates_root() / str(locale_or_path)
    if not (root / "templates.toml").is_file():
        raise TemplateError("no template set here (templates.toml not found)", template=str(locale_or_path))
    root = root.resolve()
    return _load_cached(root, _stamp(root / "templates.toml"), _stamp(root / "clauses.toml"))


def _stamp(path: Path) -> tuple[int, int]:
    """What changes when a file is edited (modification time and size); (0, -1) if missing."""
    try:
        status = path.stat()
    except OSError:
        return (0, -1)
    return (status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=32)
def _load_cached(root: Path, _index: tuple[int, int], _clauses: tuple[int, int]) -> TemplateSet:
    """:func:`_load`, once per version of the set's index and clauses (a batch loads a set for
    every client; the stamps make an edited set load afresh)."""
    return _load(root)


def available_locales() -> list[str]:
    """Locales with a stock template set."""
    root = templates_root()
    return list(_locales(root, _stamp(root)))


@lru_cache(maxsize=8)
def _locales(root: Path, _stamp: tuple[int, int]) -> tuple[str, ...]:
    # The folder's modification time changes when a set is added or removed.
    return tuple(sorted(p.name for p in root.iterdir() if (p / "templates.toml").is_file()))
