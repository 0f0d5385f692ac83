"""Asynchronous variants for asyncio backends (FastAPI, Starlette, aiohttp).

Every function of consentkit is safe to call from a running event loop (pyHanko's calls that run
their own loop are moved to a worker thread), but a synchronous call blocks the loop while
LibreOffice converts or pyHanko seals. These variants run their synchronous twin in a worker
thread (:func:`asyncio.to_thread`), so the loop keeps serving other requests meanwhile::

    from consentkit import aio

    packet = await aio.render_packet_bytes(practice, client, converter=warm)
    archive = await aio.finalize_archive(packet, signatures, seal=seal)
    report = await aio.verify_packet(archive.data, trust=ca_pem_bytes)

Arguments, results and errors are those of the synchronous functions.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .packet import Packet
from .packet import render_packet_bytes as _render_packet_bytes
from .signing import FinalizedArchive, VerificationReport
from .signing import finalize_archive as _finalize_archive
from .signing import verify_packet as _verify_packet

__all__ = ["finalize_archive", "render_packet_bytes", "verify_packet"]


async def render_packet_bytes(*args: Any, **kwargs: Any) -> Packet:
    """:func:`consentkit.render_packet_bytes` in a worker thread."""
    return await asyncio.to_thread(_render_packet_bytes, *args, **kwargs)


async def finalize_archive(*args: Any, **kwargs: Any) -> FinalizedArchive:
    """:func:`consentkit.signing.finalize_archive` in a worker thread."""
    return await asyncio.to_thread(_finalize_archive, *args, **kwargs)


async def verify_packet(*args: Any, **kwargs: Any) -> VerificationReport:
    """:func:`consentkit.signing.verify_packet` in a worker thread."""
    return await asyncio.to_thread(_verify_packet, *args, **kwargs)
