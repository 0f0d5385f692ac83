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

from typing import TYPE_CHECKING

from ._version import __version__
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

if TYPE_CHECKING:
    from .convert import Converter
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

#: Where each name of the package's API lives. They are imported on first use (PEP 562), so
#: ``import consentkit`` (and ``consentkit --version``) does not load LibreOffice's bridge, pyHanko,
#: docxtpl or FHIR until a function needs them.
_LAZY = {
    "Converter": "convert",
    "client_from_dict": "loaders",
    "iter_clients_csv": "loaders",
    "load_client": "loaders",
    "load_clients_csv": "loaders",
    "load_practice": "loaders",
    "practice_from_dict": "loaders",
    "Client": "models",
    "Clinician": "models",
    "Practice": "models",
    "Packet": "packet",
    "RenderResult": "packet",
    "render_packet": "packet",
    "render_packet_bytes": "packet",
    "TemplateReport": "rendering",
    "check_template": "rendering",
    "load_template_set": "rendering",
    "WarmConverter": "warm",
    "WarmStats": "warm",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'consentkit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
