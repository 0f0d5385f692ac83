"""Calling synchronous code that runs its own event loop from anywhere.

pyHanko's synchronous API (signing, validation) calls :func:`asyncio.run`, which refuses to run in
a thread whose event loop is already running: every ``async def`` handler of a FastAPI or
Starlette backend. :func:`outside_event_loop` runs such a call in a short-lived worker thread when
the calling thread runs a loop, and directly otherwise, so the library's functions work the same
from a script, from threads and from inside a running loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["outside_event_loop"]

P = ParamSpec("P")
T = TypeVar("T")


def outside_event_loop(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)``, in a worker thread when this thread runs an event loop.

    The calling thread waits for the result (the caller asked for a synchronous call); exceptions
    propagate unchanged.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="consentkit-sync") as worker:
        return worker.submit(function, *args, **kwargs).result()
