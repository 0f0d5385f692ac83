"""Draw a form XObject over every page without touching the page's own content.

An overlaid page's content is ``[q, <original streams...>, Q q <move> /ConsentKitOverlay Do Q]``:
the original streams stay byte for byte, wrapped in a save/restore so nothing they leave set
changes the overlay, and the overlay is one more stream drawing one form. :func:`original_contents`
reads the original streams back from such a page, which is how
:mod:`consentkit.pdf.fingerprint` tells that an archive page still shows the reviewed content.
"""

from __future__ import annotations

from typing import Literal

import pikepdf

from ..errors import LayoutError

__all__ = ["OVERLAY_NAME", "OVERLAY_PREFIX", "original_contents", "stack_overlay"]

#: The resource name under which the overlay form is drawn on every overlaid page.
OVERLAY_NAME = pikepdf.Name("/ConsentKitOverlay")
#: The first content stream of an overlaid page.
OVERLAY_PREFIX = b"q\n"


def _own_resources(page: pikepdf.Page) -> pikepdf.Dictionary:
    """A resource dictionary of this page alone (shallow copies; the objects inside stay shared).

    Raises:
        LayoutError: the page already uses :data:`OVERLAY_NAME`.
    """
    node: object = page.obj
    resources: object = None
    for _ in range(64):
        if not isinstance(node, pikepdf.Dictionary):
            break
        if "/Resources" in node:
            resources = node["/Resources"]
            break
        node = node.get("/Parent")
    own = pikepdf.Dictionary()
    if isinstance(resources, pikepdf.Dictionary):
        for key in resources.keys():  # noqa: SIM118 (pikepdf API)
            own[key] = resources[key]
    xobjects = pikepdf.Dictionary()
    existing = own.get("/XObject")
    if isinstance(existing, pikepdf.Dictionary):
        for key in existing.keys():  # noqa: SIM118
            xobjects[key] = existing[key]
    if OVERLAY_NAME in xobjects:
        raise LayoutError(f"the page already uses the resource name {OVERLAY_NAME}")
    own["/XObject"] = xobjects
    return own


def stack_overlay(pdf: pikepdf.Pdf, page: pikepdf.Page, form: pikepdf.Object) -> None:
    """Draw ``form`` (a form XObject of ``pdf``) over ``page``, at the media box's origin.

    Raises:
        LayoutError: the page already uses :data:`OVERLAY_NAME`.
    """
    resources = _own_resources(page)
    resources["/XObject"][OVERLAY_NAME] = form
    page.obj["/Resources"] = pdf.make_indirect(resources)
    contents = page.obj.get("/Contents")
    originals = (
        list(contents) if isinstance(contents, pikepdf.Array) else ([] if contents is None else [contents])
    )
    box = page.mediabox
    origin = f"{float(box[0]):g} {float(box[1]):g}"
    draw = f"Q\nq 1 0 0 1 {origin} cm {OVERLAY_NAME} Do Q\n".encode()
    page.obj["/Contents"] = pikepdf.Array(
        [pdf.make_stream(OVERLAY_PREFIX), *originals, pdf.make_stream(draw)]
    )


def original_contents(
    page: pikepdf.Dictionary, layout: Literal["reviewed", "archive"]
) -> list[pikepdf.Object]:
    """The page's content streams as they were before the overlay (``layout="archive"``: the page
    was overlaid by :func:`stack_overlay`; ``"reviewed"``: it was not).

    Raises:
        LayoutError: an archive page lacks the ``[q, originals..., overlay]`` layout.
    """
    contents = page.get("/Contents")
    streams: list[pikepdf.Object]
    if contents is None:
        streams = []
    elif isinstance(contents, pikepdf.Array):
        streams = list(contents)
    else:
        streams = [contents]
    if layout == "reviewed":
        return streams
    if len(streams) < 2 or not all(isinstance(s, pikepdf.Stream) for s in streams):
        raise LayoutError("the page has no signature overlay")
    if streams[0].read_bytes() != OVERLAY_PREFIX:
        raise LayoutError("the page's content does not start as finalize wrote it")
    if str(OVERLAY_NAME).encode() not in streams[-1].read_bytes():
        raise LayoutError("the page's last content stream is not the signature overlay")
    return streams[1:-1]
