"""The errors consentkit raises.

Every error raised through the public API derives from :class:`ConsentKitError`. Errors from
docxtpl, Jinja, LibreOffice, pypdf, pikepdf and pyHanko are translated where those libraries are
called (``raise ... from exc``), so a caller needs to catch only this hierarchy.

Messages name the file, row, field or template tag needed to find a problem, and never carry more
client data than that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

__all__ = [
    "ConsentKitError",
    "ConversionCrash",
    "ConversionError",
    "ConversionTimeout",
    "FieldValueError",
    "InputError",
    "JurisdictionError",
    "LayoutError",
    "OutputExistsError",
    "PacketError",
    "Problem",
    "RecordError",
    "RulesError",
    "SigningError",
    "TemplateError",
    "VerificationError",
]


class ConsentKitError(Exception):
    """Root of every error consentkit raises on purpose."""


class Problem(NamedTuple):
    """One thing wrong with an input: where it is and what is wrong (never the value)."""

    reason: str
    source: str | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.source is not None:
            where.append(self.source if self.row is None else f"{self.source} row {self.row}")
        elif self.row is not None:
            where.append(f"row {self.row}")
        head = " ".join(where)
        if self.field:
            head = f"{head}, {self.field}" if head else self.field
        return f"{head}: {self.reason}" if head else self.reason


class InputError(ConsentKitError, ValueError):
    """A value in a practice, client or signature file is missing or invalid.

    When several fields are wrong (a web form, a dict with four bad fields), :attr:`problems`
    lists every one; the other attributes describe the first.

    Attributes:
        source: the file name (or ``"<input>"``), without directories.
        row: the 1-based data row for CSV input (the header is row 0), else ``None``.
        field: the dotted path of the field, e.g. ``emergency_contact.phone``.
        reason: what is wrong, without echoing the value.
        problems: every problem found, in the order of the input (at least one).
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str | None = None,
        row: int | None = None,
        field: str | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        self.source = source
        self.row = row
        self.field = field
        self.reason = reason
        self.problems: tuple[Problem, ...] = tuple(problems) or (Problem(reason, source, row, field),)
        more = len(self.problems) - 1
        message = str(Problem(reason, source, row, field))
        super().__init__(message + (f" (and {more} more problem(s))" if more else ""))

    @classmethod
    def from_problems(cls, problems: Sequence[Problem]) -> InputError:
        """One error for several problems (its own attributes describe the first).

        Raises:
            ValueError: ``problems`` is empty.
        """
        if not problems:
            raise ValueError("an InputError needs at least one problem")
        first = problems[0]
        return cls(first.reason, source=first.source, row=first.row, field=first.field, problems=problems)


class FieldValueError(ConsentKitError, ValueError):
    """A value given to a model is invalid, raised while the model is built.

    The loaders turn it into an :class:`InputError` (or a :class:`RulesError` for rule data) that
    names the file, the row and the full dotted path; built directly in Python, a model raises it
    as it is.

    Attributes:
        field: the field's dotted path relative to the model being built (``postal_code``).
        reason: what is wrong, without echoing the value.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class TemplateError(ConsentKitError):
    """A template cannot be used: syntax error, unknown variable, leftover tag, blocked expression.

    Attributes:
        template: the template file name or id.
        tag: the offending tag or variable name, when known.
    """

    def __init__(self, message: str, *, template: str, tag: str | None = None) -> None:
        self.template = template
        self.tag = tag
        super().__init__(f"template {template}: {message}")


class ConversionError(ConsentKitError):
    """LibreOffice (or another converter) failed or produced an unusable PDF.

    Attributes:
        document: the input document name, when one document is to blame.
    """

    def __init__(self, message: str, *, document: str | None = None) -> None:
        self.document = document
        super().__init__(f"{document}: {message}" if document else message)


class ConversionTimeout(ConversionError):
    """A conversion ran past its time limit; its process group was killed."""


class ConversionCrash(ConversionError):
    """LibreOffice failed (exited with an error, wrote no usable PDF) for every document of a
    call of several documents, twice: a crash that names no culprit. Batch generation converts
    such documents again in smaller groups before it blames any of them."""


class PacketError(ConsentKitError):
    """A rendered packet folder or its manifest is missing, incomplete or inconsistent."""


class RecordError(ConsentKitError, ValueError):
    """A record consentkit wrote (``manifest.json``, ``audit.json``) does not have the shape of its
    schema: it was damaged or changed, or is not such a record.

    Attributes:
        where: the dotted path of the field to blame (empty for the record as a whole).
        reason: what is wrong.
    """

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}" if where else reason)


class OutputExistsError(ConsentKitError):
    """Refused to overwrite an existing output file."""


class SigningError(ConsentKitError):
    """Signatures are missing, unexpected or invalid, or sealing failed."""


class VerificationError(ConsentKitError):
    """A packet cannot be read well enough to verify it."""


class LayoutError(ConsentKitError, ValueError):
    """A page of a finalized archive does not have the content layout finalize writes (its
    reviewed content streams between the overlay's opening ``q`` and the overlay itself);
    :func:`~consentkit.signing.verify_packet` reports it as a changed page."""


class RulesError(ConsentKitError):
    """State rule data is invalid, missing or (by the practice's choice) too old or unverified."""


class JurisdictionError(ConsentKitError):
    """The clinician may not see the client where the client will be during sessions."""
