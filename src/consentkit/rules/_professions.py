"""Which profession a clinician practises under in a state: from the license's own ``profession``
field, else from its license type (``data/professions.toml``), else from a compact privilege.

The profession chooses the licensing board a packet names (California's notices differ for LMFTs,
LCSWs, LPCCs and psychologists) and the rules that reach only some professions.
"""

from __future__ import annotations

import functools
import re
import tomllib
from datetime import date
from importlib import resources

from ..errors import RulesError
from ..models import Clinician, Compact, Profession

__all__ = ["clinician_profession", "profession_of"]

_COMPACTS: dict[Compact, Profession] = {
    Compact.COUNSELING: Profession.COUNSELOR,
    Compact.PSYPACT: Profession.PSYCHOLOGIST,
    Compact.SOCIAL_WORK: Profession.SOCIAL_WORKER,
}


@functools.cache
def _patterns() -> tuple[tuple[Profession, tuple[re.Pattern[str], ...]], ...]:
    raw = resources.files(__package__).joinpath("data", "professions.toml").read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
        return tuple(
            (
                Profession(entry["profession"]),
                tuple(re.compile(p, re.IGNORECASE) for p in entry["patterns"]),
            )
            for entry in data["professions"]
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, re.error) as exc:
        raise RulesError(f"professions.toml: {exc}") from exc


def profession_of(license_type: str) -> Profession | None:
    """The profession a license type names (``None`` when no pattern matches).

    >>> profession_of("Licensed Professional Counselor (LPC)").value
    'counselor'
    >>> profession_of("LICSW").value
    'social_worker'
    >>> profession_of("Licensed Marriage and Family Therapist").value
    'mft'
    >>> profession_of("Psychologist").value
    'psychologist'
    >>> profession_of("Board Certified Behavior Analyst") is None
    True
    """
    for profession, patterns in _patterns():
        if any(p.search(license_type) for p in patterns):
            return profession
    return None


def clinician_profession(clinician: Clinician, state: str, on: date) -> Profession | None:
    """The profession under which ``clinician`` may practise in ``state`` on ``on``: the license
    held there (its ``profession``, or the one its type names), else a compact privilege's."""
    for lic in clinician.licenses:
        if lic.state == state and (lic.expires is None or lic.expires >= on):
            return lic.profession or profession_of(lic.license_type)
    for privilege in clinician.compact_privileges:
        if privilege.state == state and (privilege.expires is None or privilege.expires >= on):
            return _COMPACTS[privilege.compact]
    return None
