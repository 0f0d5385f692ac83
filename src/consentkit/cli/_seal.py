"""The sealing options ``finalize`` and ``revoke`` share: the arguments and the seal they make."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError
from ..signing import SealConfig


def add_seal_arguments(parser: argparse.ArgumentParser) -> None:
    """``--seal``, ``--seal-password-file`` and ``--timestamp-url``."""
    parser.add_argument(
        "--seal", type=Path, metavar="CERT.p12", help="the practice's PKCS#12 sealing certificate"
    )
    parser.add_argument(
        "--seal-password-file",
        type=Path,
        metavar="FILE",
        help="a file holding the PKCS#12 password (one trailing newline is ignored)",
    )
    parser.add_argument(
        "--timestamp-url", metavar="URL", help="an RFC 3161 timestamp server for the seal (PAdES B-T)"
    )


def seal_from_args(args: argparse.Namespace) -> SealConfig | None:
    """The seal the arguments ask for, or ``None``.

    Raises:
        InputError: a password file without ``--seal``, or an unreadable password file.
    """
    if args.seal_password_file is not None and args.seal is None:
        raise InputError("--seal-password-file needs --seal")
    if args.seal is None:
        return None
    return SealConfig(pkcs12=args.seal, password=_password(args.seal_password_file))


def _password(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the password file ({exc.strerror})", source=path.name) from exc
    if data.endswith(b"\r\n"):
        return data[:-2]
    return data.removesuffix(b"\n")
