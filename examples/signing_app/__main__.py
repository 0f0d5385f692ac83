"""``python -m signing_app``: serve the reference signing page with uvicorn."""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path

import uvicorn

from .app import Config, create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m signing_app", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("out/signing-app"), help="the data folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8014)
    args = parser.parse_args()
    # REPLACE: a placeholder login for the practice pages, new on every start.
    password = secrets.token_urlsafe(12)
    app = create_app(Config(data=args.data, staff_password=password))
    print(f"practice pages: http://{args.host}:{args.port}/practice (user: practice, password: {password})")
    # No access log: the signing links' paths carry their tokens.
    uvicorn.run(app, host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
