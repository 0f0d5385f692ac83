"""Template sets: the DOCX templates of one locale, their index and their vocabulary."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import attrs

from .._catalogue import (
    CATALOGUE_NAME,
    Catalogue,
    available_locales,
    file_stamp,
    read_toml,
    templates_root,
)
from ..errors import TemplateError

__all__ = ["TemplateInfo", "TemplateSet", "available_locales", "load_template_set", "templates_root"]


@attrs.frozen(kw_only=True)
class TemplateInfo:
    """One template of a set."""

    id: str
    title: str
    path: Path
    order: int
    covers: tuple[str, ...] = ()
    signers: tuple[str, ...] = ()
    #: The DOCX file's bytes, read once when the set is loaded.
    data: bytes = attrs.field(repr=False, eq=False)
    #: SHA-256 of the DOCX file: the template's version.
    sha256: str = attrs.field(init=False)

    @sha256.default
    def _hash(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@attrs.frozen(kw_only=True)
class TemplateSet(Catalogue):
    """The templates of one locale with the words and default clauses they are filled with (the
    set's ``clauses.toml``: a :class:`~consentkit._catalogue.Catalogue`)."""

    root: Path
    templates: tuple[TemplateInfo, ...]
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


def _load(root: Path) -> TemplateSet:
    index = read_toml(root / "templates.toml", template=root.name)
    clauses = read_toml(root / CATALOGUE_NAME, template=root.name)
    entries = index.get("templates", [])
    if not isinstance(entries, list) or not entries:
        raise TemplateError("templates.toml lists no templates", template=root.name)
    infos = []
    for entry in entries:
        try:
            path = root / str(entry["file"])
            template_id, title = str(entry["id"]), str(entry["title"])
            order = int(entry.get("order", 0))
            covers, signers = tuple(entry.get("covers", ())), tuple(entry.get("signers", ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise TemplateError(f"bad entry in templates.toml: {exc}", template=root.name) from exc
        if not path.is_file():
            raise TemplateError(f"missing template file {path.name}", template=root.name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TemplateError(f"cannot read {path.name} ({exc.strerror})", template=root.name) from exc
        infos.append(
            TemplateInfo(
                id=template_id, title=title, path=path, order=order, covers=covers, signers=signers, data=data
            )
        )
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
    return _load_cached(root, _stamps(root))


def _stamps(root: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a file of the set (index, clauses, a DOCX template) is edited."""
    files = [root / "templates.toml", root / CATALOGUE_NAME, *sorted(root.glob("*.docx"))]
    return tuple((str(path), *file_stamp(path)) for path in files)


@lru_cache(maxsize=32)
def _load_cached(root: Path, _stamps: tuple[tuple[str, int, int], ...]) -> TemplateSet:
    """:func:`_load`, once per version of the set's files (a batch loads a set for every client;
    the stamps make an edited set load afresh, its templates read once)."""
    return _load(root)
