"""A reference signing page for consentkit packets (see docs/integration.md).

Run it from the repository's ``examples`` folder::

    ../.venv/bin/python -m signing_app --data ../out/signing-app

or with ``make signing-app``. It is an example to copy and adapt, not a product: the parts a
practice must replace (login, storage, key management, delivery of links, rate limiting) are
marked REPLACE in the code.
"""

from .app import Config, SigningApp, create_app

__all__ = ["Config", "SigningApp", "create_app"]
