"""consentkit: informed-consent and telehealth paperwork for counseling practices.

consentkit is not legal advice. Its stock templates and state rule data are a starting point that a
practice must review with its own counsel; rules marked unverified say so.

Typical use::

    from consentkit import load_practice, load_client, render_packet

    practice = load_practice("practice.toml")
    client = load_client("client.toml")
    result = render_packet(practice, client, "out/C-1001")
    print(result.packet_pdf)

A long-lived process (a web backend, a signing application) keeps LibreOffice running with a
:class:`WarmConverter` and passes it as ``render_packet(..., converter=converter)``.
"""

from ._version import __version__
from .convert import Converter
from .errors import (
    ConsentKitError,
    ConversionError,
    ConversionTimeout,
    InputError,
    JurisdictionError,
    OutputExistsError,
    PacketError,
    RulesError,
    SigningError,
    TemplateError,
    VerificationError,
)
from .loaders import (
    client_from_dict,
    iter_clients_csv,
    load_client,
    load_clients_csv,
    load_practice,
    practice_from_dict,
)
from .models import Client, Clinician, Practice
from .packet import Packet, RenderResult, render_packet, render_packet_bytes
from .rendering import TemplateReport, check_template, load_template_set
from .warm import WarmConverter, WarmStats

__all__ = [
    "Client",
    "Clinician",
    "ConsentKitError",
    "ConversionError",
    "ConversionTimeout",
    "Converter",
    "InputError",
    "JurisdictionError",
    "OutputExistsError",
    "Packet",
    "PacketError",
    "Practice",
    "RenderResult",
    "RulesError",
    "SigningError",
    "TemplateError",
    "TemplateReport",
    "VerificationError",
    "WarmConverter",
    "WarmStats",
    "__version__",
    "check_template",
    "client_from_dict",
    "iter_clients_csv",
    "load_client",
    "load_clients_csv",
    "load_practice",
    "load_template_set",
    "practice_from_dict",
    "render_packet",
    "render_packet_bytes",
]
