"""The reference signing page: a Starlette app over consentkit's public API.

Flow (docs/integration.md, "A reference signing page"):

1. A practice user (``/practice``, behind a placeholder login) prepares a client's packet: consentkit
   renders it, its pages are turned into images, and every signer gets a one-time signing link.
2. The signer opens the link (``/sign/<token>``), reads and accepts the ESIGN disclosure, scrolls
   through every page, confirms where they are, confirms each document they sign, and signs by
   typing their name or drawing on a pad.
3. The server builds the signer's record (``consentkit.signatures/1``) from the form and from the
   request (time, IP address, user agent: never from the form), checks it with consentkit and
   stores it; the link is used up.
4. When every signer of the packet has signed, the server finalizes and seals the archive with
   consentkit and offers each signer a copy (``/copy/<token>``).

Every consentkit call is in :mod:`packets`; storage is in :mod:`store`; the page's words in
:mod:`messages`. What a practice must replace is marked REPLACE.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import logging
import re
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import jinja2
from PIL import Image
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import packets
from .messages import ESIGN_VERSION, language_of, messages
from .store import Store, token_hash

__all__ = ["Config", "SigningApp", "create_app"]

log = logging.getLogger("signing_app")
HERE = Path(__file__).resolve().parent
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DATA_URL = "data:image/png;base64,"
#: The largest form part read (a drawn signature as a data URL is at most about 700 KB).
MAX_PART_BYTES = 1024 * 1024

#: REPLACE: how the practice knows who opened a link. A practice sends links by email or SMS to the
#: contact details on file and usually adds a second factor (a code sent to the phone on file, or a
#: portal login); it records what it did here.
IDENTITY = {
    "clinician": "practice staff signing link (signing_app demo: no staff login)",
    "other": "one-time signing link issued by the practice (signing_app demo: no second factor)",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


@attrs.frozen(kw_only=True)
class Config:
    """The app's settings."""

    #: The data folder (packets, links, archives, the demo keys).
    data: Path
    #: REPLACE: the placeholder staff password (HTTP Basic, user ``practice``) for ``/practice``.
    staff_password: str
    #: How long a signing link works.
    link_lifetime: timedelta = timedelta(hours=72)
    #: How long a signed-copy link works.
    copy_lifetime: timedelta = timedelta(days=30)
    #: How long a loaded signing form can be submitted.
    form_lifetime: timedelta = timedelta(hours=12)
    #: The clock (UTC); tests pass their own.
    clock: Callable[[], datetime] = _utc_now
    #: The practice file and the client files (the app's stand-in for a practice database).
    practice_file: Path | None = None
    clients_folder: Path | None = None
    #: Resolution of the page images.
    page_dpi: int = 100


@attrs.frozen
class _Page:
    """A page to show: template, status and context."""

    template: str
    status: int
    context: dict[str, Any]


@attrs.frozen
class _Redirect:
    url: str


class _SecurityHeaders:
    """Headers for every response: no caching of private pages, no referrer (links carry tokens),
    a content security policy that allows only the app's own scripts and styles."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (
                        b"content-security-policy",
                        b"default-src 'self'; img-src 'self' data:; "
                        b"script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; "
                        b"form-action 'self'; frame-ancestors 'none'",
                    ),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-content-type-options", b"nosniff"),
                ]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SigningApp:
    """The routes and their state."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.store = Store(config.data)
        self.practice = packets.load_example_practice(config.practice_file)
        self.clients = {c.id: c for c in packets.example_clients(config.clients_folder)}
        # REPLACE: the demo seal; a practice's key lives in an HSM or key service (packets.demo_seal).
        self.seal = packets.demo_seal(config.data / "keys", self.practice.name)
        self.renderer = packets.Renderer()
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self._words = {locale: packets.words(locale) for locale in ("en-US", "es-US")}

    # --- plumbing ---------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.config.clock().astimezone(UTC).replace(microsecond=0)

    def words(self, locale: str) -> packets.Words:
        return self._words["es-US" if language_of(locale) == "es" else "en-US"]

    def page(self, page: _Page) -> HTMLResponse:
        html = self.templates.get_template(page.template).render(**page.context)
        return HTMLResponse(html, status_code=page.status)

    def _base(self, locale: str) -> dict[str, Any]:
        return {
            "lang": locale,
            "t": messages(locale),
            "practice": self.practice,
        }

    def error(self, locale: str, kind: str, status: int, **values: Any) -> _Page:
        t = messages(locale)
        values.setdefault("practice", self.practice.name)
        return _Page(
            "error.html",
            status,
            self._base(locale)
            | {
                "title": t[f"{kind}_title"],
                "text": t[f"{kind}_text"].format(**values),
                "back": values.get("back"),
            },
        )

    def mac(self, *parts: str) -> str:
        return hmac.new(self.store.secret, "|".join(parts).encode(), hashlib.sha256).hexdigest()

    def _form_token(self, kind: str, *parts: str) -> dict[str, str]:
        nonce, issued = secrets.token_urlsafe(16), _iso(self.now())
        return {"form_nonce": nonce, "form_issued": issued, "form_mac": self.mac(kind, *parts, nonce, issued)}

    def _form_ok(self, form: Mapping[str, str], kind: str, *parts: str) -> bool:
        nonce, issued, given = (
            form.get("form_nonce", ""),
            form.get("form_issued", ""),
            form.get("form_mac", ""),
        )
        try:
            age = self.now() - _parse(issued)
        except ValueError:
            return False
        if not timedelta(minutes=-5) <= age <= self.config.form_lifetime:
            return False
        return hmac.compare_digest(self.mac(kind, *parts, nonce, issued), given)

    def copy_token(self, link_digest: str) -> str:
        """The signed-copy token of a signing link: derived, so a repeated submission finds it again."""
        digest = hmac.new(self.store.secret, f"copy|{link_digest}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    @staticmethod
    def _request_language(request: Request) -> str:
        return "es-US" if request.headers.get("accept-language", "").lower().startswith("es") else "en-US"

    @staticmethod
    def _requester(request: Request) -> tuple[str, str]:
        """The IP address and user agent, from the request (behind a proxy: uvicorn's
        ``--proxy-headers`` with ``--forwarded-allow-ips`` set to the proxy's address)."""
        ip = request.client.host if request.client else ""
        agent = _CONTROL.sub(" ", request.headers.get("user-agent", "")).strip()[:1000] or "(none sent)"
        return ip, agent

    async def _form(self, request: Request) -> FormData | None:
        """The posted form, or ``None`` when it is malformed or over the limits (too large a part,
        too many fields, a file)."""
        try:
            return await request.form(max_files=0, max_fields=64, max_part_size=MAX_PART_BYTES)
        except (MultiPartException, HTTPException):
            return None

    @staticmethod
    def _fields(form: FormData) -> tuple[dict[str, str], list[str]]:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        return fields, [v for v in form.getlist("documents") if isinstance(v, str)]

    # --- the signer's side --------------------------------------------------------------------

    def _locked(self, packet_id: str, action: Callable[[dict[str, Any]], tuple[Any, bool]]) -> Any:
        """Run ``action(state)`` under the packet's lock; write the state back if it says it changed."""
        with self.store.locked(packet_id):
            state = self.store.read_state(packet_id)
            result, changed = action(state)
            if changed:
                self.store.write_state(packet_id, state)
            return result

    def _link_problem(self, state: dict[str, Any], digest: str, locale: str) -> _Page | None:
        link = state["links"][digest]
        if link["used_at"]:
            return self.error(locale, "link_used", 410, when=link["used_at"].replace("T", " ").rstrip("Z"))
        if link["replaced"]:
            return self.error(locale, "link_replaced", 410)
        if self.now() >= _parse(link["expires_at"]):
            return self.error(locale, "link_expired", 410)
        return None

    def _resolve(self, request: Request) -> tuple[str, str] | _Page:
        found = self.store.find_token("links", request.path_params["token"])
        if found is None:
            return self.error(self._request_language(request), "link_unknown", 404)
        digest, reference = found
        return reference["packet_id"], digest

    def sign_context(
        self,
        state: dict[str, Any],
        digest: str,
        token: str,
        *,
        values: Mapping[str, Any] | None = None,
        errors: Iterable[tuple[str, str]] = (),
    ) -> dict[str, Any]:
        packet = packets.PacketView.from_dict(state["packet"])
        link = state["links"][digest]
        slot = packet.signer(link["key"])
        t, words = messages(slot.language), self.words(slot.language)
        assent = slot.role == "client" and packet.minor and packet.guardian_signs
        role = words.roles["client_assent" if assent else slot.role]
        pages = []
        for document in packet.documents:
            for number in range(document.first_page, document.last_page + 1):
                width, height = state["page_sizes"][number - 1]
                pages.append(
                    {
                        "number": number,
                        "src": f"/sign/{token}/pages/{number}.jpg",
                        "alt": t["page_alt"].format(title=document.title, page=number, pages=packet.pages),
                        "width": width,
                        "height": height,
                        "first": number == document.first_page,
                        "document": document,
                    }
                )
        method = (values or {}).get("method", "typed")
        return self._base(slot.language) | {
            "token": token,
            "role": role,
            "packet": packet,
            "documents": packet.documents_for(slot.key),
            "pages": pages,
            "states": words.states,
            "intents": {m: t[self._intent_key(slot, packet, m)] for m in ("typed", "drawn")},
            "values": {"name": "", "address": "", "state": "", "method": method, "documents": ()}
            | dict(values or {}),
            "errors": list(errors),
            "form": self._form_token("sign", digest, packet.packet_id, packet.review_sha256),
        }

    @staticmethod
    def _intent_key(slot: packets.SignerSlot, packet: packets.PacketView, method: str) -> str:
        if slot.role == "client" and packet.minor and packet.guardian_signs:
            return f"intent_{method}_assent"
        if slot.role in ("guardian", "clinician"):
            return f"intent_{method}_{slot.role}"
        return f"intent_{method}"

    async def sign_page(self, request: Request) -> Response:
        resolved = self._resolve(request)
        if isinstance(resolved, _Page):
            return self.page(resolved)
        packet_id, digest = resolved
        token = request.path_params["token"]
        ip, agent = self._requester(request)

        def show(state: dict[str, Any]) -> tuple[_Page, bool]:
            link = state["links"][digest]
            locale = packets.PacketView.from_dict(state["packet"]).signer(link["key"]).language
            problem = self._link_problem(state, digest, locale)
            if problem is not None:
                return problem, False
            changed = False
            if link["opened_at"] is None:
                link["opened_at"] = _iso(self.now())
                state["events"].append(self._event(link["key"], "opened the signing page", ip, agent))
                changed = True
            if link["esign_consent_at"] is None:
                return self.consent_page(state, digest, token), changed
            return _Page("sign.html", 200, self.sign_context(state, digest, token)), changed

        return self.page(await run_in_threadpool(self._locked, packet_id, show))

    def consent_page(self, state: dict[str, Any], digest: str, token: str, *, error: bool = False) -> _Page:
        packet = packets.PacketView.from_dict(state["packet"])
        slot = packet.signer(state["links"][digest]["key"])
        esign = next((d for d in packet.documents if d.id == "esign_consent"), None)
        return _Page(
            "esign.html",
            400 if error else 200,
            self._base(slot.language)
            | {
                "token": token,
                "esign_title": esign.title if esign else None,
                "error": error,
                "form": self._form_token("consent", digest),
            },
        )

    async def consent(self, request: Request) -> Response:
        resolved = self._resolve(request)
        if isinstance(resolved, _Page):
            return self.page(resolved)
        packet_id, digest = resolved
        token = request.path_params["token"]
        form = await self._form(request)
        fields = self._fields(form)[0] if form is not None else {}

        def agree(state: dict[str, Any]) -> tuple[_Page | _Redirect, bool]:
            link = state["links"][digest]
            locale = packets.PacketView.from_dict(state["packet"]).signer(link["key"]).language
            problem = self._link_problem(state, digest, locale)
            if problem is not None:
                return problem, False
            if form is None or not self._form_ok(fields, "consent", digest):
                return self.error(locale, "form_changed", 400, back=f"/sign/{token}"), False
            if fields.get("esign_agree") != "yes":
                return self.consent_page(state, digest, token, error=True), False
            if link["esign_consent_at"] is None:
                link["esign_consent_at"] = _iso(self.now())
                return _Redirect(f"/sign/{token}"), True
            return _Redirect(f"/sign/{token}"), False

        return self._respond(await run_in_threadpool(self._locked, packet_id, agree))

    def _respond(self, outcome: _Page | _Redirect) -> Response:
        if isinstance(outcome, _Redirect):
            return RedirectResponse(outcome.url, status_code=303)
        return self.page(outcome)

    def _viewable(self, state: dict[str, Any], digest: str, *, consented: bool = True) -> bool:
        """The link may show the documents (page images only once the signer agreed to ESIGN; the
        PDF before, so that the signer can check they can open it)."""
        link = state["links"][digest]
        if link["used_at"] or link["replaced"] or (consented and link["esign_consent_at"] is None):
            return False
        return self.now() < _parse(link["expires_at"])

    def _mark_seen(
        self, state: dict[str, Any], digest: str, pages: Iterable[int], ip: str, agent: str
    ) -> bool:
        link = state["links"][digest]
        seen = set(link["pages_seen"]) | set(pages)
        if seen == set(link["pages_seen"]):
            return False
        link["pages_seen"] = sorted(seen)
        total = state["packet"]["pages"]
        if len(seen) == total and link["viewed_all_at"] is None:
            link["viewed_all_at"] = _iso(self.now())
            state["events"].append(self._event(link["key"], "viewed every page of the packet", ip, agent))
        return True

    async def page_image(self, request: Request) -> Response:
        resolved = self._resolve(request)
        if isinstance(resolved, _Page):
            return Response(status_code=404)
        packet_id, digest = resolved
        number = request.path_params["number"]
        ip, agent = self._requester(request)

        def serve(state: dict[str, Any]) -> tuple[Path | None, bool]:
            if not self._viewable(state, digest) or not 1 <= number <= state["packet"]["pages"]:
                return None, False
            path = self.store.packet_dir(packet_id) / "pages" / f"page-{number:03d}.jpg"
            return path, self._mark_seen(state, digest, [number], ip, agent)

        path = await run_in_threadpool(self._locked, packet_id, serve)
        if path is None:
            return Response(status_code=404)
        return FileResponse(path, media_type="image/jpeg")

    async def packet_pdf(self, request: Request) -> Response:
        resolved = self._resolve(request)
        if isinstance(resolved, _Page):
            return self.page(resolved)
        packet_id, digest = resolved
        ip, agent = self._requester(request)

        def serve(state: dict[str, Any]) -> tuple[bool, bool]:
            if not self._viewable(state, digest, consented=False):
                return False, False
            return True, self._mark_seen(state, digest, range(1, state["packet"]["pages"] + 1), ip, agent)

        if not await run_in_threadpool(self._locked, packet_id, serve):
            return Response(status_code=404)
        return FileResponse(
            self.store.packet_dir(packet_id) / "render" / "packet.pdf",
            media_type="application/pdf",
            content_disposition_type="inline",
            filename="documents.pdf",
        )

    def _event(self, actor: str, action: str, ip: str | None = None, agent: str = "") -> dict[str, Any]:
        event: dict[str, Any] = {"at": _iso(self.now()), "actor": actor, "action": action}
        if ip:
            event |= {"ip_address": ip, "user_agent": agent}
        return event

    def _check_fields(
        self,
        fields: Mapping[str, str],
        documents: list[str],
        packet: packets.PacketView,
        slot: packets.SignerSlot,
    ) -> tuple[list[tuple[str, str]], bytes | None]:
        """The form's problems as ``(field id, message)``, and the drawn image."""
        t, words = messages(slot.language), self.words(slot.language)
        errors: list[tuple[str, str]] = []
        name = fields.get("name", "").strip()
        if not name:
            errors.append(("name", t["error_name"]))
        elif len(name) > 200:
            errors.append(("name", t["error_name_long"]))
        elif _CONTROL.search(name):
            errors.append(("name", t["error_name_characters"]))
        method = fields.get("method", "")
        image = None
        if method not in ("typed", "drawn"):
            errors.append(("method-typed", t["error_method"]))
        elif method == "drawn":
            data = fields.get("signature_image", "").strip()
            if not data:
                errors.append(("signature-pad", t["error_drawing"]))
            else:
                try:
                    image = base64.b64decode(data.removeprefix(_DATA_URL), validate=True)
                except (binascii.Error, ValueError):
                    errors.append(("signature-pad", t["error_drawing_invalid"]))
        address = " ".join(fields.get("address", "").split())
        if not address:
            errors.append(("address", t["error_address"]))
        elif len(address) > 500:
            errors.append(("address", t["error_address_long"]))
        state_code = fields.get("state", "")
        if state_code not in dict(words.states):
            errors.append(("state", t["error_state"]))
        elif slot.role in ("client", "co_client") and state_code != packet.state:
            errors.append(
                (
                    "state",
                    t["error_state_mismatch"].format(
                        expected=words.state_name(packet.state),
                        given=words.state_name(state_code),
                        practice=self.practice.name,
                    ),
                )
            )
        if fields.get("location_confirm") != "yes":
            errors.append(("location-confirm", t["error_location_confirm"]))
        if set(documents) != {d.id for d in packet.documents_for(slot.key)}:
            first = packet.documents_for(slot.key)[0].id
            errors.append((f"document-{first}", t["error_documents"]))
        return errors, image

    async def sign_submit(self, request: Request) -> Response:
        resolved = self._resolve(request)
        if isinstance(resolved, _Page):
            return self.page(resolved)
        packet_id, digest = resolved
        token = request.path_params["token"]
        ip, agent = self._requester(request)
        form = await self._form(request)
        if form is None:
            state = self.store.read_state(packet_id)
            locale = (
                packets.PacketView.from_dict(state["packet"]).signer(state["links"][digest]["key"]).language
            )
            return self.page(self.error(locale, "too_large", 413, back=f"/sign/{token}"))
        fields, documents = self._fields(form)
        await form.close()
        outcome = await run_in_threadpool(
            self._locked,
            packet_id,
            lambda state: self._sign(state, packet_id, digest, token, fields, documents, ip, agent),
        )
        return self._respond(outcome)

    def _sign(
        self,
        state: dict[str, Any],
        packet_id: str,
        digest: str,
        token: str,
        fields: dict[str, str],
        documents: list[str],
        ip: str,
        agent: str,
    ) -> tuple[_Page | _Redirect, bool]:
        """Check and store one signature (under the packet's lock); finalize when it is the last."""
        packet = packets.PacketView.from_dict(state["packet"])
        link = state["links"][digest]
        slot = packet.signer(link["key"])
        locale = slot.language
        form_ok = self._form_ok(fields, "sign", digest, packet.packet_id, packet.review_sha256)
        if link["used_at"] and form_ok:
            if hmac.compare_digest(fields.get("form_nonce", ""), link["nonce"] or ""):
                # The same form again (a double click, a browser retry): the same answer.
                return _Redirect(f"/copy/{self.copy_token(digest)}"), False
            when = link["used_at"].replace("T", " ").rstrip("Z")
            return self.error(locale, "signed_elsewhere", 409, when=when), False
        problem = self._link_problem(state, digest, locale)
        if problem is not None:
            return problem, False
        if not form_ok:
            return self.error(locale, "form_changed", 400, back=f"/sign/{token}"), False
        if link["esign_consent_at"] is None:
            return self.consent_page(state, digest, token, error=True), False
        t = messages(locale)
        errors, image = self._check_fields(fields, documents, packet, slot)
        if link["viewed_all_at"] is None:
            errors.insert(0, ("documents-heading", t["error_not_read"]))
        values = {
            "name": fields.get("name", ""),
            "address": fields.get("address", ""),
            "state": fields.get("state", ""),
            "method": fields.get("method", "typed"),
            "documents": tuple(documents),
        }
        if errors:
            return _Page(
                "sign.html", 400, self.sign_context(state, digest, token, values=values, errors=errors)
            ), False
        now = self.now()
        method = fields["method"]
        record: dict[str, Any] = {
            "role": slot.role,
            "full_name": fields["name"].strip(),
            "method": method,
            "signed_at": _iso(now),
            "ip_address": ip,
            "user_agent": agent,
            "intent_statement": t[self._intent_key(slot, packet, method)],
            "esign_consent_at": link["esign_consent_at"],
            "esign_disclosure_version": ESIGN_VERSION,
            "attested_location": {"address": " ".join(fields["address"].split()), "state": fields["state"]},
            "identity_verification": {"method": IDENTITY.get(slot.role, IDENTITY["other"])},
        }
        if slot.index is not None:
            record["index"] = slot.index
        if image is not None:
            record["image"] = base64.b64encode(image).decode("ascii")
        relationship = state["relationships"].get(slot.key)
        if relationship:
            record["relationship"] = relationship
        try:
            packets.check_record(record, packet)
        except packets.RecordError as exc:
            field_id = "signature-pad" if exc.field == "image" else "name"
            message = (
                t["error_drawing_invalid"] if exc.field == "image" else t["error_record"].format(detail=exc)
            )
            page = self.sign_context(state, digest, token, values=values, errors=[(field_id, message)])
            return _Page("sign.html", 400, page), False
        copy = self.copy_token(digest)
        expires = _iso(now + self.config.copy_lifetime)
        self.store.put_token("copies", copy, {"packet_id": packet_id, "key": slot.key, "expires_at": expires})
        state["records"][slot.key] = record
        link["used_at"], link["nonce"] = _iso(now), fields["form_nonce"]
        self.store.write_state(packet_id, state)  # the signature is kept even if finalizing fails
        if set(state["records"]) == {s.key for s in packet.signers} and state["archive"] is None:
            self._finalize(state, packet_id)
        return _Redirect(f"/copy/{copy}"), True

    def _finalize(self, state: dict[str, Any], packet_id: str) -> None:
        """Finalize and seal (under the packet's lock); a failure is recorded for the practice."""
        packet = packets.PacketView.from_dict(state["packet"])
        folder = self.store.packet_dir(packet_id)
        records = [state["records"][s.key] for s in packet.signers]
        try:
            result = packets.finalize(
                folder / "render",
                packet,
                records,
                state["events"],
                folder / "archive.pdf",
                seal=self.seal,
                now=self.now(),
            )
        except packets.ConsentKitError as exc:
            log.warning("packet %s: finalize failed (%s)", packet_id, type(exc).__name__)
            state["finalize_error"] = str(exc)
            return
        state["archive"] = {"sha256": result.sha256, "pages": result.pages, "finalized_at": _iso(self.now())}
        state["finalize_error"] = None

    async def copy_page(self, request: Request) -> Response:
        found = self.store.find_token("copies", request.path_params["token"])
        locale = self._request_language(request)
        if found is None:
            return self.page(self.error(locale, "copy_unknown", 404))
        _, reference = found
        state = self.store.read_state(reference["packet_id"])
        packet = packets.PacketView.from_dict(state["packet"])
        locale = packet.signer(reference["key"]).language
        if self.now() >= _parse(reference["expires_at"]):
            return self.page(self.error(locale, "copy_unknown", 410))
        waiting = len({s.key for s in packet.signers} - set(state["records"]))
        context = self._base(locale) | {
            "ready": state["archive"] is not None,
            "failed": state["archive"] is None and state["finalize_error"] is not None,
            "waiting": waiting,
            "download": f"/copy/{request.path_params['token']}/archive.pdf",
        }
        return self.page(_Page("done.html", 200, context))

    async def copy_download(self, request: Request) -> Response:
        found = self.store.find_token("copies", request.path_params["token"])
        if found is None or self.now() >= _parse(found[1]["expires_at"]):
            return Response(status_code=404)
        packet_id = found[1]["packet_id"]
        archive = self.store.packet_dir(packet_id) / "archive.pdf"
        if self.store.read_state(packet_id)["archive"] is None or not archive.is_file():
            return Response(status_code=404)
        return FileResponse(archive, media_type="application/pdf", filename=f"signed-{packet_id}.pdf")

    # --- the practice's side (REPLACE the login) ----------------------------------------------

    def _staff(self, request: Request) -> Response | None:
        """REPLACE: a placeholder login (HTTP Basic, user ``practice``, the configured password)."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, password = "", ""
            if hmac.compare_digest(user.encode(), b"practice") & hmac.compare_digest(
                password.encode(), self.config.staff_password.encode()
            ):
                return None
        return Response(
            "login required", status_code=401, headers={"www-authenticate": 'Basic realm="practice"'}
        )

    def _practice_page(self, template: str, code: int = 200, **context: Any) -> HTMLResponse:
        return self.page(
            _Page(template, code, self._base("en-US") | {"form": self._form_token("practice")} | context)
        )

    async def practice_home(self, request: Request) -> Response:
        if (denied := self._staff(request)) is not None:
            return denied
        rows = []
        for packet_id in self.store.packet_ids():
            state = self.store.read_state(packet_id)
            rows.append({"id": packet_id, "client": state["client_id"], "status": self._status(state)})
        return self._practice_page("practice.html", clients=list(self.clients.values()), packets=rows)

    @staticmethod
    def _status(state: dict[str, Any]) -> str:
        if state["archive"] is not None:
            return "signed and sealed"
        if state["finalize_error"]:
            return "finalize failed"
        return f"{len(state['records'])} of {len(state['packet']['signers'])} signed"

    def _new_link(self, state: dict[str, Any], packet_id: str, key: str, ip: str, agent: str) -> str:
        now = self.now()
        for link in state["links"].values():
            if link["key"] == key and not link["used_at"]:
                link["replaced"] = True
        token = self.store.new_token("links", {"packet_id": packet_id})
        digest = token_hash(token)
        state["links"][digest] = {
            "key": key,
            "created_at": _iso(now),
            "expires_at": _iso(now + self.config.link_lifetime),
            "opened_at": None,
            "esign_consent_at": None,
            "pages_seen": [],
            "viewed_all_at": None,
            "used_at": None,
            "nonce": None,
            "replaced": False,
        }
        state["events"].append(self._event("practice", f"signing link created for {key}", ip, agent))
        return token

    def _prepare(self, client: packets.ExampleClient, ip: str, agent: str) -> tuple[str, dict[str, str]]:
        """Render the packet, make its page images and a link for every signer (runs in a thread)."""
        now = self.now()
        packet_id = f"PKT-{client.id}-{secrets.token_hex(4)}"
        folder = self.store.create_packet(packet_id)
        try:
            packet = self.renderer.render(
                self.practice, client, folder / "render", packet_id=packet_id, now=now
            )
            sizes = _page_images(folder / "render" / "packet.pdf", folder / "pages", self.config.page_dpi)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        state: dict[str, Any] = {
            "packet": packet.to_dict(),
            "client_id": client.id,
            "relationships": dict(client.relationships),
            "page_sizes": sizes,
            "created_at": _iso(now),
            "links": {},
            "records": {},
            "events": [],
            "archive": None,
            "finalize_error": None,
        }
        with self.store.locked(packet_id):
            tokens = {s.key: self._new_link(state, packet_id, s.key, ip, agent) for s in packet.signers}
            self.store.write_state(packet_id, state)
        return packet_id, tokens

    async def prepare(self, request: Request) -> Response:
        fields, refused = await self._practice_form(request)
        if refused is not None:
            return refused
        client = self.clients.get(fields.get("client_id", ""))
        if client is None:
            return self._practice_page("practice_error.html", 400, message="No such client.")
        ip, agent = self._requester(request)
        try:
            packet_id, tokens = await run_in_threadpool(self._prepare, client, ip, agent)
        except packets.ConsentKitError as exc:
            return self._practice_page(
                "practice_error.html", 422, message=f"The packet was not prepared: {exc}"
            )
        links = {key: str(request.url_for("sign", token=token)) for key, token in tokens.items()}
        status = str(request.url_for("packet_status", packet_id=packet_id))
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"packet_id": packet_id, "links": links, "status": status})
        return self._practice_page("practice_links.html", packet_id=packet_id, links=links, status_url=status)

    async def packet_status(self, request: Request) -> Response:
        if (denied := self._staff(request)) is not None:
            return denied
        packet_id = request.path_params["packet_id"]
        try:
            state = self.store.read_state(packet_id)
        except (KeyError, FileNotFoundError):
            return self._practice_page("practice_error.html", 404, message="No such packet.")
        packet = packets.PacketView.from_dict(state["packet"])
        signers = [
            {
                "key": s.key,
                "signed_at": state["records"].get(s.key, {}).get("signed_at"),
                "method": state["records"].get(s.key, {}).get("method"),
            }
            for s in packet.signers
        ]
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(
                {
                    "packet_id": packet_id,
                    "status": self._status(state),
                    "signers": signers,
                    "archive": state["archive"],
                    "finalize_error": state["finalize_error"],
                    "links": [
                        {k: v for k, v in link.items() if k != "nonce"} for link in state["links"].values()
                    ],
                }
            )
        return self._practice_page(
            "practice_packet.html",
            packet_id=packet_id,
            state=state,
            signers=signers,
            summary=self._status(state),
        )

    async def _practice_form(self, request: Request) -> tuple[dict[str, str], Response | None]:
        """A practice user's form: its fields, or the page that refuses it (not signed in; the
        form was changed or is too old)."""
        if (denied := self._staff(request)) is not None:
            return {}, denied
        form = await self._form(request)
        fields = self._fields(form)[0] if form is not None else {}
        if not self._form_ok(fields, "practice"):
            return fields, self._practice_page(
                "practice_error.html", 400, message="The form was changed or is too old."
            )
        return fields, None

    async def practice_new_link(self, request: Request) -> Response:
        fields, refused = await self._practice_form(request)
        if refused is not None:
            return refused
        packet_id = request.path_params["packet_id"]
        ip, agent = self._requester(request)
        key = fields.get("key", "")

        def renew(state: dict[str, Any]) -> tuple[str | None, bool]:
            if key not in {s["key"] for s in state["packet"]["signers"]} or key in state["records"]:
                return None, False
            return self._new_link(state, packet_id, key, ip, agent), True

        try:
            token = await run_in_threadpool(self._locked, packet_id, renew)
        except (KeyError, FileNotFoundError):
            token = None
        if token is None:
            return self._practice_page(
                "practice_error.html", 400, message="No unsigned signer with that key."
            )
        links = {key: str(request.url_for("sign", token=token))}
        status = str(request.url_for("packet_status", packet_id=packet_id))
        return self._practice_page("practice_links.html", packet_id=packet_id, links=links, status_url=status)

    async def practice_finalize(self, request: Request) -> Response:
        _fields, refused = await self._practice_form(request)
        if refused is not None:
            return refused
        packet_id = request.path_params["packet_id"]

        def retry(state: dict[str, Any]) -> tuple[None, bool]:
            keys = {s["key"] for s in state["packet"]["signers"]}
            if state["archive"] is None and set(state["records"]) == keys:
                self._finalize(state, packet_id)
                return None, True
            return None, False

        await run_in_threadpool(self._locked, packet_id, retry)
        return RedirectResponse(str(request.url_for("packet_status", packet_id=packet_id)), status_code=303)

    async def practice_archive(self, request: Request) -> Response:
        if (denied := self._staff(request)) is not None:
            return denied
        packet_id = request.path_params["packet_id"]
        try:
            archive = self.store.packet_dir(packet_id) / "archive.pdf"
        except KeyError:
            return Response(status_code=404)
        if not archive.is_file():
            return Response(status_code=404)
        return FileResponse(archive, media_type="application/pdf", filename=f"{packet_id}.pdf")

    # --- the app --------------------------------------------------------------------------------

    def routes(self) -> list[Route | Mount]:
        return [
            Route("/", lambda request: RedirectResponse("/practice", status_code=303)),
            Route("/practice", self.practice_home),
            Route("/practice/packets", self.prepare, methods=["POST"]),
            Route("/practice/packets/{packet_id}", self.packet_status, name="packet_status"),
            Route("/practice/packets/{packet_id}/links", self.practice_new_link, methods=["POST"]),
            Route("/practice/packets/{packet_id}/finalize", self.practice_finalize, methods=["POST"]),
            Route("/practice/packets/{packet_id}/archive.pdf", self.practice_archive),
            Route("/sign/{token}", self.sign_page, name="sign"),
            Route("/sign/{token}", self.sign_submit, methods=["POST"]),
            Route("/sign/{token}/consent", self.consent, methods=["POST"]),
            Route("/sign/{token}/pages/{number:int}.jpg", self.page_image),
            Route("/sign/{token}/documents.pdf", self.packet_pdf),
            Route("/copy/{token}", self.copy_page),
            Route("/copy/{token}/archive.pdf", self.copy_download),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]

    def close(self) -> None:
        self.renderer.close()


def _page_images(pdf: Path, folder: Path, dpi: int) -> list[tuple[int, int]]:
    """Render every page of ``pdf`` to ``folder/page-NNN.jpg`` with poppler's pdftoppm; their sizes.

    JPEG at quality 90: text stays sharp at this size, and it is four times faster to make than
    PNG (1.7 s against 6 to 8 s for a 16-page packet on the 2-core test machine).
    """
    subprocess.run(
        ["pdftoppm", "-jpeg", "-jpegopt", "quality=90", "-r", str(dpi), str(pdf), str(folder / "raw")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    sizes = []
    raw = sorted(folder.glob("raw-*.jpg"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    for number, path in enumerate(raw, start=1):
        target = folder / f"page-{number:03d}.jpg"
        path.rename(target)
        target.chmod(0o600)
        with Image.open(target) as image:
            sizes.append(image.size)
    return sizes


def create_app(config: Config) -> Starlette:
    """The signing app for ``config``."""
    signing = SigningApp(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(signing.renderer.start)
            yield
        finally:
            signing.close()

    app = Starlette(routes=signing.routes(), lifespan=lifespan)
    app.state.signing = signing
    app.add_middleware(_SecurityHeaders)
    return app
