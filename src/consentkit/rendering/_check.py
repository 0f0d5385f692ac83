"""``templates check``: find problems in a DOCX template before it is used."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from pathlib import Path

import attrs
import jinja2
from docxtpl import DocxTemplate

from ..errors import TemplateError
from ..models import (
    Address,
    Client,
    Clinician,
    EmergencyContact,
    FailurePlan,
    Fees,
    Guardian,
    License,
    Participant,
    Phone,
    Platform,
    Population,
    Practice,
    ServiceType,
    Supervisor,
)
from ._context import build_context
from ._docx import make_environment, render_docx, translate_render_error
from ._sandbox import check_package, render_limits
from ._templates import TemplateSet, load_template_set

__all__ = ["KNOWN_VARIABLES", "TemplateReport", "check_template", "sample_cases"]

#: The top-level names a template may use.
KNOWN_VARIABLES = frozenset({"practice", "clinician", "client", "rules", "doc", "signers", "signature_place"})


@attrs.frozen
class TemplateReport:
    """What ``templates check`` found; ``ok`` when there are no problems."""

    template: str
    problems: tuple[str, ...]
    variables: tuple[str, ...]
    signature_places: tuple[str, ...]
    #: What makes the packet harder to use without making it wrong (no heading styles: a screen
    #: reader cannot move from section to section).
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def _phone(text: str) -> Phone:
    return Phone.parse(text)


def sample_cases() -> list[tuple[str, Practice, Client]]:
    """Made-up clients that exercise every branch of a template: an adult seen alone on public
    Wi-Fi, a couple, a family and a minor with a guardian, with and without a supervisor."""
    address = Address(line1="1 Sample Way", city="Jackson", state="MS", postal_code="39201")
    supervisor = Supervisor(name="Sam Supervisor", credentials="LPC-S", phone=_phone("601-555-0110"))
    licenses = (License(state="MS", license_type="LPC", number="1", expires=date(2030, 1, 1)),)
    base_clinician = Clinician(id="c1", name="Casey Clinician", credentials="LPC", licenses=licenses)
    practice = Practice(
        name="Sample Practice & Partners <LLC>",
        address=address,
        phone=_phone("601-555-0100"),
        email="office@example.com",
        clinicians=(base_clinician, attrs.evolve(base_clinician, id="c2", supervisor=supervisor)),
        platform=Platform(name="Sample Video", hipaa_compliant=True, baa_in_place=True),
        malpractice_covers_telehealth=True,
        fees=Fees(session="150", late_cancellation="75", no_show="150", cancellation_notice_hours=24),
        populations=tuple(Population),
        failure_plan=FailurePlan(phone_fallback=_phone("601-555-0101")),
    )
    adult = Client(
        id="S-1",
        legal_name="Alex O'Sample",
        date_of_birth=date(1990, 1, 1),
        phone=_phone("601-555-0120"),
        session_address=address,
        emergency_contact=EmergencyContact(
            name="Em Contact", relationship="friend", phone=_phone("601-555-0121")
        ),
        device="computer",
        connection="public_wifi",
    )
    couple = attrs.evolve(
        adult,
        id="S-2",
        connection="home_wifi",
        service_type=ServiceType.COUPLE,
        participants=(Participant(name="Pat Partner", relationship="spouse"),),
        clinician_id="c2",
    )
    family = attrs.evolve(
        adult,
        id="S-3",
        service_type=ServiceType.FAMILY,
        participants=(
            Participant(name="Pat Partner", relationship="spouse"),
            Participant(name="Gran Sample", relationship="grandmother"),
        ),
    )
    minor = attrs.evolve(
        adult,
        id="S-4",
        date_of_birth=date(2011, 5, 20),
        guardians=(Guardian(name="Gil Guardian", relationship="father", phone=_phone("601-555-0122")),),
    )
    return [
        ("adult", practice, adult),
        ("couple", practice, couple),
        ("family", practice, family),
        ("minor", practice, minor),
    ]


def check_template(
    path: str | Path, *, templates: TemplateSet | None = None, on: date | None = None
) -> TemplateReport:
    """Check a DOCX template: syntax, unknown variables, leftover tags and signature places.

    The template is dry-rendered for each of :func:`sample_cases`; a variable that does not exist
    fails the render and is reported by name.

    Raises:
        TemplateError: the file is not a readable DOCX at all.
    """
    path = Path(path)
    name = path.name
    templates = templates or load_template_set("en-US")
    on = on or date(2026, 1, 15)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"cannot read ({exc.strerror})", template=name) from exc
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise TemplateError("not a DOCX file (not a zip archive)", template=name)
    check_package(data, template=name)
    problems: list[str] = []
    variables: set[str] = set()
    try:
        with render_limits():
            variables = set(
                DocxTemplate(io.BytesIO(data)).get_undeclared_template_variables(jinja_env=make_environment())
            )
    except jinja2.TemplateSyntaxError as exc:
        problems.append(f"syntax error: {exc.message}")
    except (KeyError, zipfile.BadZipFile) as exc:
        raise TemplateError(f"not a DOCX file ({exc})", template=name) from exc
    except Exception as exc:
        raise translate_render_error(exc, name) from exc
    for unknown in sorted(variables - KNOWN_VARIABLES):
        problems.append(f"unknown variable {unknown!r}")
    places: list[str] = []
    if not problems:
        for label, practice, client in sample_cases():
            context = build_context(practice, client, templates=templates, on=on, packet_id="SAMPLE")
            context["doc"] = {
                "title": name,
                "template_id": path.stem,
                "packet_id": "SAMPLE",
                "date": context["_packet"]["date"],
                "locale": templates.locale,
                "reference_only": False,
            }
            try:
                rendered = render_docx(
                    data, context, name=name, signer_keys={s["key"] for s in context["signers"]}
                )
            except TemplateError as exc:
                message = str(exc).split(": ", 1)[-1]
                if message not in problems:
                    problems.append(f"{message} (with the {label} sample)")
                continue
            places.extend(p for p in rendered.signature_places if p not in places)
        if not places and not problems:
            problems.append('no signature place: add {{r signature_place("client") }} where the client signs')
    return TemplateReport(
        template=name,
        problems=tuple(problems),
        variables=tuple(sorted(variables)),
        signature_places=tuple(places),
        warnings=tuple(_accessibility_warnings(data)),
    )


_STYLE = re.compile(rb'<w:style\b[^>]*w:styleId="([^"]+)"[^>]*>.*?<w:name w:val="([^"]+)"', re.S)
_USED = re.compile(rb'<w:pStyle w:val="([^"]+)"')


def _accessibility_warnings(data: bytes) -> list[str]:
    """What the converted PDF's tags will lack: headings come only from heading styles (LibreOffice
    tags a paragraph styled "Heading 1" as ``H1``, bold text as a plain paragraph)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            styles = package.read("word/styles.xml") if "word/styles.xml" in package.namelist() else b""
            body = package.read("word/document.xml")
    except (KeyError, zipfile.BadZipFile, OSError):
        return []
    headings = {
        style_id
        for style_id, style_name in _STYLE.findall(styles)
        if style_name.lower().startswith((b"heading", b"title"))
    }
    if not headings & set(_USED.findall(body)):
        return [
            "uses no heading styles (Heading 1, Heading 2, ...): the PDF will have no headings for a "
            "screen reader to move between; style the section titles as headings"
        ]
    return []
