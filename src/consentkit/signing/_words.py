"""The words of the audit certificate and of the stamps, in the packet's language.

They are data, not code: the tables ``[audit]``, ``[audit.label]``, ``[audit.role]``,
``[audit.method]``, ``[audit.event]``, ``[stamp]`` and ``[revocation]`` of each stock template
set's ``clauses.toml``, read through the word catalogue (:mod:`consentkit._catalogue`), the layer
below both rendering and signing. Dates and times
are formatted by :mod:`consentkit.formatting` (babel) with the same locale; UTC times stay ISO.
``audit.json`` is not affected: it stays in English.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

import attrs

from .._catalogue import DEFAULT_LOCALE, Catalogue, catalogue
from ..formatting import format_date, format_datetime, format_language, format_time_zone

__all__ = ["DEFAULT_LOCALE", "Words", "words_for"]


def _plain(text: str) -> str:
    # CLDR puts a narrow no-break space before AM/PM; not every font has it.
    return text.replace("\u202f", " ")


@attrs.frozen
class Words:
    """The certificate's and the stamps' words and formats for one locale."""

    locale: str
    templates: Catalogue = attrs.field(eq=False, repr=False)

    def audit(self, key: str, **values: object) -> str:
        """An ``[audit]`` entry, placeholders filled."""
        return self.templates.text("audit", key, **values)

    def label(self, key: str) -> str:
        """A row label or column header of the certificate (``[audit.label]``)."""
        return self.templates.text("audit.label", key)

    def role(self, role: str) -> str:
        """A signer's role as a heading; an unknown role is shown as it is."""
        roles = self.templates.clauses.get("audit", {}).get("role", {})
        return str(roles[role]) if role in roles else role

    def method(self, method: str) -> str:
        """``typed`` or ``drawn`` in words."""
        return self.templates.text("audit.method", method)

    def event(self, key: str) -> str:
        """An event consentkit records itself (``[audit.event]``)."""
        return self.templates.text("audit.event", key)

    def revocation(self, key: str, **values: object) -> str:
        """A ``[revocation]`` entry (the revocation page), placeholders filled."""
        return self.templates.text("revocation", key, **values)

    def revocation_label(self, key: str) -> str:
        """A row label of the revocation page (``[revocation.label]``)."""
        return self.templates.text("revocation.label", key)

    def stamp(self, key: str, **values: object) -> str:
        """A ``[stamp]`` entry, placeholders filled."""
        return self.templates.text("stamp", key, **values)

    def date(self, value: date) -> str:
        """A date in long form (``27 de noviembre de 2026``)."""
        return _plain(format_date(value, self.locale))

    def moment(self, value: datetime, time_zone: str) -> str:
        """A moment in the practice's time zone (``27 de noviembre de 2026, 1:03 p.m. CST``)."""
        return _plain(format_datetime(value, time_zone, self.locale))

    def time_zone(self, time_zone: str) -> str:
        """The practice's time zone: its name in this language and its IANA name."""
        return self.templates.phrase(
            "packet", "time_zone", name=format_time_zone(time_zone, self.locale), zone=time_zone
        )

    def language(self, tag: str) -> str:
        """A language version: its name in this language and its tag (``español (es-US)``)."""
        return self.audit("language_value", language=format_language(tag, self.locale), tag=tag)

    def language_name(self, tag: str) -> str:
        """Only the name of a tag's language (``inglés``)."""
        return format_language(tag, self.locale)


@cache
def words_for(locale: str | None) -> Words:
    """The words for a packet's ``locale`` (the manifest's ``locale``).

    A locale with a stock template set (``en-US``, ``es-US``) gets its words; another locale of
    the same language gets that set's (``es-MX`` -> ``es-US``); anything else, or none, English.

    Raises:
        TemplateError: the stock set lacks an entry (tests/test_locale.py keeps the sets' keys equal).
    """
    words = catalogue(locale)
    return Words(locale=words.locale, templates=words)
