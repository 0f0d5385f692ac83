"""Folder names for client ids: safe on every filesystem, always inside the output folder."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable

__all__ = ["FolderNames", "hashed_folder_name", "safe_folder_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_LENGTH = 64
_HASH_LENGTH = 10
#: Names Windows reserves whatever the extension (``CON``, ``nul.txt``, ``COM1``).
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
#: Names the batch itself writes into the output folder.
RESERVED = frozenset({"report.csv", "report.json"})


def _short_hash(client_id: str) -> str:
    return hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LENGTH]


def safe_folder_name(client_id: str) -> str:
    """The folder name for a client id: the id itself when it is plainly safe, else a cleaned
    version followed by a short hash of the id.

    A plainly safe id is at most 64 characters of ``A-Z a-z 0-9 . _ -``, does not start or end
    with a dot, and is not a name Windows reserves (``CON``, ``nul.txt``) or one the batch writes
    (``report.csv``). Anything else (slashes, ``..``, NUL, spaces, accents, very long ids) is
    replaced by ``_``, cut to length, and given ``-`` and the first 10 hex digits of the id's
    SHA-256, so two different ids never share a name by accident and the same id always gets the
    same name.

    >>> safe_folder_name("C-1001")
    'C-1001'
    >>> safe_folder_name("../../etc")
    '_.._etc-74ccf3c5b4'
    >>> safe_folder_name("")
    'client-e3b0c44298'
    """
    normal = unicodedata.normalize("NFC", client_id)
    cleaned = _UNSAFE.sub("_", normal).strip(".")[:_MAX_LENGTH].rstrip(".")
    plain = (
        cleaned == client_id
        and bool(cleaned)
        and not _WINDOWS_RESERVED.match(cleaned)
        and cleaned.casefold() not in RESERVED
    )
    if plain:
        return cleaned
    return f"{cleaned or 'client'}-{_short_hash(client_id)}"


def hashed_folder_name(client_id: str) -> str:
    """The always-hashed form of a client's folder name (used when the plain name is taken)."""
    name = safe_folder_name(client_id)
    suffix = f"-{_short_hash(client_id)}"
    return name if name.endswith(suffix) else f"{name}{suffix}"


class FolderNames:
    """Hands out one folder name per client id in a batch, unique even where case is ignored.

    The first id to claim a name (compared case-insensitively, as macOS and Windows compare
    file names) keeps it; a later, different id that would collide gets the hashed form, as does
    an id whose plain name already holds another client's packet on disk. The same input
    therefore always gives the same names.
    """

    def __init__(self) -> None:
        self._taken: dict[str, str] = {}

    def claim(self, client_id: str, disk_owner: Callable[[str], str | None]) -> str | None:
        """The folder name for ``client_id``, or ``None`` when neither form is free.

        Args:
            client_id: the client's id.
            disk_owner: gives the client id whose packet a folder of the output folder holds
                (``None`` when there is none).
        """
        for name in dict.fromkeys((safe_folder_name(client_id), hashed_folder_name(client_id))):
            owner = self._taken.get(name.casefold())
            if owner is not None and owner != client_id:
                continue
            on_disk = disk_owner(name)
            if on_disk is not None and on_disk != client_id:
                continue
            self._taken[name.casefold()] = client_id
            return name
        return None
