"""A client's session log as a document: a DOCX table (python-docx), converted to PDF/A-3b by
LibreOffice like every other document of consentkit.

The words come from the word catalogue (``[session_log]`` tables of ``clauses.toml``), in the
client's language unless another is asked for; times are shown in the practice's time zone,
formatted by babel in that language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .._catalogue import Catalogue, catalogue
from .._files import atomic_write, private_dir
from ..errors import InputError
from ..formatting import format_datetime
from ..models import Client, Practice
from ..pdf.metadata import set_xmp
from ._session_log import read_session_log
from .sessions import LoggedSession

if TYPE_CHECKING:
    from ..convert import Converter

__all__ = ["render_session_log_pdf", "session_log_docx"]

_COLUMNS = ("session", "clinician", "location", "reported_by", "emergency_contact", "flags", "notes")


def _when(moment: datetime, time_zone: str, locale: str) -> str:
    # CLDR puts a narrow no-break space before AM/PM; not every font has it.
    return format_datetime(moment, time_zone, locale).replace("\u202f", " ")


def _flags(entry: LoggedSession, words: Catalogue) -> str:
    if entry.findings is None:
        return words.text("session_log", "not_checked")
    if not entry.findings:
        return words.text("session_log", "no_flags")
    return "; ".join(words.text("session_log.flag", f.code) for f in entry.findings)


def session_log_docx(
    entries: Sequence[LoggedSession],
    *,
    practice: Practice,
    client: Client,
    path: Path,
    language: str | None = None,
) -> None:
    """Write the session log as a DOCX document (landscape, one table row per session).

    Args:
        entries: the log's lines.
        practice: the practice (its name, address, clinicians and time zone).
        client: the client the log is of.
        path: the DOCX file to write.
        language: the document's language (a locale with stock words, or another of the same
            language); default: the client's preferred language; English when there are no words
            for it.

    Raises:
        InputError: an entry is of another client.
    """
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    if any(e.check.client_id != client.id for e in entries):
        raise InputError("the session log is of another client", field="client_id")
    words = catalogue(language or client.preferred_language)

    def text(key: str, **values: object) -> str:
        return words.text("session_log", key, **values)

    names = {c.id: c.display_name for c in practice.clinicians}
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(27.94), Cm(21.59)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.6))
    style = document.styles["Normal"]
    style.font.size = Pt(9)
    document.core_properties.title = text("title")
    document.core_properties.author = practice.name
    document.add_heading(text("title"), level=1)
    contact = client.emergency_contact
    document.add_paragraph(text("practice_line", practice=practice.name, address=practice.address.one_line()))
    document.add_paragraph(
        text(
            "client_line",
            name=client.legal_name,
            client_id=client.id,
            address=client.session_address.one_line(),
            contact=contact.name,
            relationship=contact.relationship,
        )
    )
    document.add_paragraph(text("times", time_zone=practice.time_zone, count=len(entries)))
    table = document.add_table(rows=1, cols=len(_COLUMNS))
    table.style = "Table Grid"
    for cell, column in zip(table.rows[0].cells, _COLUMNS, strict=True):
        cell.text = words.text("session_log.column", column)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for entry in entries:
        check = entry.check
        row = table.add_row().cells
        values = (
            _when(check.session_time, practice.time_zone, words.locale),
            names.get(check.clinician_id, check.clinician_id),
            check.reported_address.one_line(),
            check.reported_by,
            text("confirmed") if check.emergency_contact_confirmed else text("not_confirmed"),
            _flags(entry, words),
            check.notes,
        )
        for cell, value in zip(row, values, strict=True):
            cell.text = value
    if not entries:
        document.add_paragraph(text("empty"))
    document.add_paragraph(text("footer", count=len(entries)))
    document.save(str(path))


def render_session_log_pdf(
    log_path: str | Path,
    out_pdf: str | Path,
    *,
    practice: Practice,
    client: Client,
    converter: Converter | None = None,
    language: str | None = None,
) -> Path:
    """Render a client's session log as a PDF/A-3b document, written atomically (mode 0600).

    The log is read and validated first; a DOCX is made in a private temporary folder and
    converted by LibreOffice like every other document of consentkit.

    Args:
        log_path: the client's session log (JSON Lines).
        out_pdf: the PDF to write (replaced if it exists).
        practice: the practice (its name, clinicians and time zone).
        client: the client the log is of.
        converter: the DOCX to PDF converter; default: a private LibreOffice for this call.
        language: the document's language (see :func:`session_log_docx`); default: the client's.

    Returns:
        ``out_pdf``.

    Raises:
        InputError: the log is damaged or of another client.
        ConversionError: LibreOffice failed.
    """
    out = Path(out_pdf)
    entries = read_session_log(log_path)
    words = catalogue(language or client.preferred_language)
    with private_dir(out.parent, f".{out.name}.") as work:
        docx = work / "session-log.docx"
        session_log_docx(entries, practice=practice, client=client, path=docx, language=words.locale)
        if converter is None:
            from ..convert import LibreOfficeConverter

            with LibreOfficeConverter() as own:
                pdf = own.convert([docx], work)[0]
        else:
            pdf = converter.convert([docx], work)[0]
        title = f"{words.text('session_log', 'title')} {client.id}"
        data = set_xmp(pdf.read_bytes(), title=title, subject=practice.name)
        atomic_write(out, data)
    return out
