"""The reference signing page (examples/signing_app) in a real browser.

One app (uvicorn on 127.0.0.1, in a thread) and one headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium) serve the whole module. Each scenario prepares a packet
through the practice pages (real LibreOffice), signs it in the browser as a client would (scrolling
the documents, typing a name or drawing with pointer moves), and checks the sealed archive with
consentkit's verify and the drawn strokes in the stamped pages.

Screenshots of the signing and signed pages are saved under ``out/test-artifacts/signing-app/``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pikepdf
import pytest
import uvicorn
from PIL import Image, ImageChops
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from consentkit.signing import verify_packet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

from signing_app import Config, create_app  # noqa: E402
from signing_app.messages import MESSAGES  # noqa: E402

pytestmark = pytest.mark.libreoffice

ARTIFACTS = ROOT / "out" / "test-artifacts" / "signing-app"
STAFF_PASSWORD = "test-" + secrets.token_urlsafe(8)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
#: The zigzag drawn on the pad, in fractions of the pad's width and height from its top left corner.
ZIGZAG = ((0.1, 0.72), (0.27, 0.22), (0.43, 0.78), (0.6, 0.22), (0.77, 0.72), (0.9, 0.39))
PHONE = (390, 844)
DESKTOP = (900, 1000)


# --- the app and the browser ---------------------------------------------------------------------


class Clock:
    """The app's clock: real time, shifted by ``offset`` (to let a link expire)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Server:
    base: str
    data: Path
    clock: Clock
    ca: Path
    timings: dict[str, float] = field(default_factory=dict)

    def state(self, packet_id: str) -> dict[str, Any]:
        return json.loads((self.data / "packets" / packet_id / "state.json").read_text())

    def archive(self, packet_id: str) -> Path:
        return self.data / "packets" / packet_id / "archive.pdf"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("signing-app")
    clock = Clock()
    app = create_app(Config(data=data, staff_password=STAFF_PASSWORD, clock=clock))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "the signing app did not start"
        time.sleep(0.05)
    running = Server(
        base=f"http://127.0.0.1:{port}",
        data=data,
        clock=clock,
        ca=app.state.signing.seal.ca_certificate,
    )
    server_timings = running.timings
    yield running
    uv.should_exit = True
    thread.join(30)
    sock.close()
    if timings := {**server_timings}:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "timings.json").write_text(json.dumps(timings, indent=1))
        print("\n" + "\n".join(f"signing app, {name}: {seconds:.1f} s" for name, seconds in timings.items()))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
    driver.set_page_load_timeout(120)
    driver.set_window_size(*DESKTOP)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nsigning app screenshots: {ARTIFACTS}")
    try:
        yield driver
    finally:
        driver.quit()


# --- HTTP helpers (the practice's side, and forms a browser would not send) ----------------------


@dataclass
class Reply:
    status: int
    url: str
    text: str


def _multipart(fields: list[tuple[str, str]]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http(
    url: str,
    fields: list[tuple[str, str]] | None = None,
    *,
    staff: bool = False,
    headers: dict[str, str] | None = None,
    follow: bool = True,
) -> Reply:
    body, content_type = _multipart(fields) if fields is not None else (None, "")
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}))
    request.add_header("User-Agent", "consentkit-test (urllib)")
    if content_type:
        request.add_header("Content-Type", content_type)
    if staff:
        token = base64.b64encode(f"practice:{STAFF_PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=300) as response:
            return Reply(response.status, response.url, response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.headers.get("location") or url, exc.read().decode("utf-8", "replace"))


def hidden_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S)
    assert form, f"no form {form_id}"
    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0))


@dataclass
class Prepared:
    packet_id: str
    links: dict[str, str]


def prepare(server: Server, client_id: str) -> Prepared:
    started = time.perf_counter()
    home = http(f"{server.base}/practice", staff=True)
    assert home.status == 200
    form = re.search(r"<form[^>]*>(?:(?!</form>).)*value=\"" + client_id + r"\".*?</form>", home.text, re.S)
    assert form
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0))
    reply = http(
        f"{server.base}/practice/packets", fields, staff=True, headers={"Accept": "application/json"}
    )
    assert reply.status == 200, reply.text
    data = json.loads(reply.text)
    server.timings[f"prepare {client_id}"] = time.perf_counter() - started
    return Prepared(packet_id=data["packet_id"], links=data["links"])


def sign_over_http(link: str, *, name: str, state: str, address: str) -> Reply:
    """Sign as a signer whose browser sends the forms plainly (here: the clinician)."""
    page = http(link)
    fields = [*hidden_fields(page.text, "esign-form"), ("esign_agree", "yes")]
    page = http(f"{link}/consent", fields)
    assert page.status == 200 and 'id="sign-form"' in page.text, page.text[:500]
    base = link.split("/sign/")[0]
    for src in re.findall(r'<img class="page" src="([^"]+)"', page.text):
        assert http(base + src).status == 200
    documents = re.findall(r'name="documents" value="([^"]+)"', page.text)
    fields = [
        *hidden_fields(page.text, "sign-form"),
        ("address", address),
        ("state", state),
        ("location_confirm", "yes"),
        ("name", name),
        ("method", "typed"),
        ("signature_image", ""),
    ]
    fields += [("documents", d) for d in documents]
    return http(link, fields)


# --- browser helpers ------------------------------------------------------------------------------


def wait_for(driver: WebDriver, css: str, timeout: float = 120) -> None:
    WebDriverWait(driver, timeout).until(lambda d: d.find_elements(By.CSS_SELECTOR, css))


def agree_to_esign(driver: WebDriver, *, keyboard: bool = False) -> None:
    wait_for(driver, "#esign-agree, #sign-form")
    if not driver.find_elements(By.ID, "esign-agree"):
        return
    if keyboard:
        tab_to(driver, "esign-agree")
        ActionChains(driver).send_keys(Keys.SPACE).perform()
        tab_to(driver, "esign-continue")
        ActionChains(driver).send_keys(Keys.ENTER).perform()
    else:
        driver.find_element(By.ID, "esign-agree").click()
        driver.find_element(By.ID, "esign-continue").click()
    wait_for(driver, "#sign-form")


def tab_to(driver: WebDriver, element_id: str, limit: int = 80) -> None:
    """Press Tab until ``element_id`` has the focus (keyboard-only navigation)."""
    for _ in range(limit):
        if driver.execute_script("return document.activeElement && document.activeElement.id") == element_id:
            return
        ActionChains(driver).send_keys(Keys.TAB).perform()
    raise AssertionError(f"#{element_id} cannot be reached with the Tab key")


#: The page images in the viewport that have not loaded yet.
UNSHOWN_IN_VIEW = """
return [...document.querySelectorAll('img.page')].filter(i => {
  const r = i.getBoundingClientRect();
  return r.bottom > 0 && r.top < window.innerHeight && !(i.complete && i.naturalWidth > 0);
}).length;
"""


def read_documents(driver: WebDriver, *, keyboard: bool = False) -> None:
    """Scroll through every page as a reader would, each screenful shown before the next."""
    images = driver.find_elements(By.CSS_SELECTOR, "img.page")
    assert images
    at_end = "return window.innerHeight + window.scrollY >= document.body.scrollHeight - 2"
    wait = WebDriverWait(driver, 60)
    if keyboard:
        for _ in range(300):
            wait.until(lambda d: not d.execute_script(UNSHOWN_IN_VIEW))
            if driver.execute_script(at_end):
                break
            ActionChains(driver).send_keys(Keys.PAGE_DOWN).perform()
    else:
        for image in images:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", image)
            wait.until(lambda d: not d.execute_script(UNSHOWN_IN_VIEW))
    missing = (
        "return [...document.querySelectorAll('img.page')].filter(i => !(i.complete && i.naturalWidth > 0))"
    )
    pages = driver.execute_script(missing + ".map(i => i.dataset.page)")
    assert not pages, f"pages not shown: {pages}"


def fill_location(driver: WebDriver, *, address: str, state_name: str) -> None:
    driver.find_element(By.ID, "address").send_keys(address)
    Select(driver.find_element(By.ID, "state")).select_by_visible_text(state_name)
    driver.find_element(By.ID, "location-confirm").click()
    for box in driver.find_elements(By.CSS_SELECTOR, "input[name=documents]"):
        if not box.is_selected():
            box.click()


def draw_zigzag(driver: WebDriver, *, touch: bool) -> bytes:
    """Draw ZIGZAG on the pad with pointer moves (mouse or touch); the pad's PNG as the form sends it."""
    driver.find_element(By.ID, "method-drawn").click()
    pad = driver.find_element(By.ID, "signature-pad")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", pad)
    box = driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height]", pad
    )
    left, top, width, height = box
    kind = interaction.POINTER_TOUCH if touch else interaction.POINTER_MOUSE
    builder = ActionBuilder(driver, mouse=PointerInput(kind, "finger" if touch else "mouse"), duration=20)
    pointer = builder.pointer_action
    first, *rest = ZIGZAG
    pointer.move_to_location(int(left + first[0] * width), int(top + first[1] * height))
    pointer.pointer_down()
    for start, end in zip(ZIGZAG, rest, strict=False):
        for step in range(1, 9):  # several moves per segment, as a hand makes
            x = start[0] + (end[0] - start[0]) * step / 8
            y = start[1] + (end[1] - start[1]) * step / 8
            pointer.move_to_location(int(left + x * width), int(top + y * height))
    pointer.pointer_up()
    builder.perform()
    data_url = driver.execute_script("return arguments[0].toDataURL('image/png')", pad)
    return base64.b64decode(data_url.split(",", 1)[1])


def submit_and_wait(driver: WebDriver, *, keyboard: bool = False) -> None:
    if keyboard:
        tab_to(driver, "sign-button")
        ActionChains(driver).send_keys(Keys.ENTER).perform()
    else:
        driver.find_element(By.ID, "sign-button").click()
    wait_for(driver, "#done, #problem, #errors", timeout=180)


def screenshot(driver: WebDriver, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def accessibility_problems(driver: WebDriver) -> list[str]:
    """Basic checks: a lang attribute, a label for every control, alt text, text contrast."""
    return driver.execute_script(ACCESSIBILITY_CHECKS)


#: WCAG's contrast ratio (4.5:1 for body text), labels and alternative text, computed in the page.
ACCESSIBILITY_CHECKS = """
const problems = [];
if (!document.documentElement.lang) problems.push('no lang attribute');
for (const c of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  if (!(c.labels && c.labels.length) && !c.getAttribute('aria-label')) {
    problems.push('no label: ' + c.id);
  }
}
for (const i of document.querySelectorAll('img')) if (!i.alt) problems.push('no alt: ' + i.src);
const pad = document.getElementById('signature-pad');
if (pad && !pad.getAttribute('aria-label')) problems.push('pad has no label');
function rgb(s) { return s.match(/[\\d.]+/g).slice(0, 3).map(Number); }
function channel(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }
function lum(c) {
  const [r, g, b] = c.map(channel);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function ratio(a, b) {
  const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
function background(e) {
  for (; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c;
  }
  return 'rgb(255, 255, 255)';
}
for (const e of document.querySelectorAll('p, label, legend, h1, h2, h3, button, a')) {
  if (!e.offsetParent) continue;
  const r = ratio(getComputedStyle(e).color, background(e));
  if (r < 4.5) problems.push('contrast ' + r.toFixed(2) + ': ' + (e.id || e.tagName));
}
return problems;
"""


# --- checks of the archive -----------------------------------------------------------------------


def check_archive(server: Server, packet_id: str) -> dict[str, Any]:
    """The archive is stored, intact, sealed and trusted by the demo CA; its audit record."""
    archive = server.archive(packet_id)
    assert archive.is_file()
    assert archive.stat().st_mode & 0o777 == 0o600
    report = verify_packet(archive, trust=server.ca)
    assert report.intact, report.problems
    assert report.sealed and report.trusted
    with pikepdf.open(archive) as pdf:
        audit: dict[str, Any] = json.loads(pdf.attachments["audit.json"].get_file().read_bytes())
    return audit


def _images(
    resources: pikepdf.Dictionary, found: dict[tuple[str, ...], pikepdf.Object], path: tuple[str, ...] = ()
) -> None:
    """Every image XObject of a page, by its path of XObject names (through form XObjects)."""
    for name, xobject in (resources.get("/XObject") or {}).items():
        if xobject.get("/Subtype") == "/Image":
            found[(*path, name)] = xobject
        elif xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
            _images(xobject.Resources, found, (*path, name))


def _render(pdf: Path, page: int, out: Path) -> Image.Image:
    subprocess.run(
        ["pdftoppm", "-gray", "-r", "100", "-f", str(page), "-l", str(page), "-png", "-singlefile", pdf, out],
        check=True,
    )
    return Image.open(f"{out}.png").convert("L")


def save_signed_page(archive: Path, audit: dict[str, Any], key: str, name: str) -> Path:
    """Save the archive's first page signed by ``key`` (the stamped signature) as a test artefact."""
    document = next(d for d in audit["documents"] if key in d["signature_places"])
    page = document["archive_pages"][1]
    out = ARTIFACTS / f"{name}-archive-page-{page}"
    subprocess.run(
        ["pdftoppm", "-r", "80", "-f", str(page), "-l", str(page), "-png", "-singlefile", archive, out],
        check=True,
    )
    return out.with_suffix(".png")


def check_stroke(archive: Path, audit: dict[str, Any], key: str, drawn_png: bytes, tmp: Path) -> None:
    """The drawing the browser made is the one stamped on ``key``'s signature pages, and it shows.

    The audit record holds the SHA-256 of the very PNG the pad exported; the image drawn on the page
    has the same pixels (its soft mask is the pad's alpha channel); and rendering the page with and
    without that image (poppler) differs by dark pixels, in a wide, zigzag-shaped area.
    """
    signer = next(s for s in audit["signers"] if s["key"] == key)
    assert signer["method"] == "drawn"
    assert signer["image"]["sha256"] == hashlib.sha256(drawn_png).hexdigest()
    drawn = Image.open(io.BytesIO(drawn_png))
    alpha = drawn.getchannel("A")
    pages = sorted(
        {
            page
            for document in audit["documents"]
            if key in document["signature_places"]
            for page in range(document["archive_pages"][0], document["archive_pages"][1] + 1)
        }
    )
    stamped = 0
    for number in pages:
        with pikepdf.open(archive) as pdf:
            page = pdf.pages[number - 1]
            found: dict[tuple[str, ...], pikepdf.Object] = {}
            _images(page.Resources, found)
            ours = [
                name
                for name, xobject in found.items()
                if (int(xobject.Width), int(xobject.Height)) == drawn.size and "/SMask" in xobject
            ]
            if not ours:
                continue
            for name in ours:
                mask = pikepdf.PdfImage(found[name].SMask).as_pil_image().convert("L")
                assert ImageChops.difference(mask, alpha).getbbox() is None, "the stamped image differs"
            # The same page without the drawing: each of our images replaced by an empty form.
            for name in ours:
                holder = page.Resources
                *forms, last = name
                for form in forms:
                    holder = holder.XObject[form].Resources
                holder.XObject[last] = pdf.make_stream(
                    b"", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form, BBox=[0, 0, 1, 1]
                )
            blank = tmp / f"blank-{number}.pdf"
            pdf.save(blank)
        with_stroke = _render(archive, number, tmp / f"with-{number}")
        without = _render(blank, number, tmp / f"without-{number}")
        ink = Image.eval(ImageChops.subtract(without, with_stroke), lambda v: 255 if v > 80 else 0)
        box = ink.getbbox()
        assert box is not None, f"page {number}: the drawn signature does not show"
        dark = ink.histogram()[255]
        width, height = box[2] - box[0], box[3] - box[1]
        assert dark > 40 and width > 1.5 * height, (number, dark, box)
        stamped += 1
    assert stamped, f"no page shows the drawn signature of {key}"


def check_record(audit: dict[str, Any], key: str, *, browser_agent: str, started: datetime) -> dict[str, Any]:
    """Evidence from the request and the server's clock, never from the form."""
    signer = next(s for s in audit["signers"] if s["key"] == key)
    assert signer["ip_address"] == "127.0.0.1"
    assert signer["user_agent"] == browser_agent
    signed_at = datetime.fromisoformat(signer["signed_at"])
    assert started - timedelta(seconds=2) <= signed_at <= datetime.now(UTC)
    assert datetime.fromisoformat(signer["esign_consent_at"]) <= signed_at
    return signer


# --- the scenarios --------------------------------------------------------------------------------


@dataclass
class Signed:
    prepared: Prepared
    audit: dict[str, Any]
    form: list[tuple[str, str]]
    copy_url: str


@pytest.fixture(scope="module")
def signed_adult(server: Server, browser: WebDriver) -> Signed:
    """C-1001 (an adult in Mississippi): the clinician signs, then the client, with the keyboard only."""
    prepared = prepare(server, "C-1001")
    clinician = sign_over_http(
        prepared.links["clinician"],
        name="Dana Whitfield, PhD, LPC",
        state="MS",
        address="200 East Capitol Street, Suite 410, Jackson, MS 39201",
    )
    assert clinician.status == 200 and 'id="waiting"' in clinician.text
    started = datetime.now(UTC).replace(microsecond=0)
    timer = time.perf_counter()
    browser.get(prepared.links["client"])
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en-US"
    agree_to_esign(browser, keyboard=True)
    read_documents(browser, keyboard=True)
    assert accessibility_problems(browser) == []
    # Keyboard only: Tab to each control, type, Space to tick, Enter to sign.
    tab_to(browser, "address")
    ActionChains(browser).send_keys("418 Magnolia Street, Apt 2B, Hattiesburg, MS 39401").perform()
    tab_to(browser, "state")
    ActionChains(browser).send_keys("Mississippi").perform()
    assert Select(browser.find_element(By.ID, "state")).first_selected_option.get_attribute("value") == "MS"
    tab_to(browser, "location-confirm")
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    for box in browser.find_elements(By.CSS_SELECTOR, "input[name=documents]"):
        tab_to(browser, box.get_attribute("id"))
        ActionChains(browser).send_keys(Keys.SPACE).perform()
    tab_to(browser, "name")
    ActionChains(browser).send_keys("Maria Elena O'Brien-Núñez").perform()
    assert browser.find_element(By.ID, "method-typed").is_selected()
    assert browser.find_element(By.ID, "intent-typed").is_displayed()
    form = [
        (e.get_attribute("name"), e.get_attribute("value"))
        for e in browser.find_elements(By.CSS_SELECTOR, "#sign-form input[type=hidden]")
    ]
    browser.execute_script("document.getElementById('sign-heading').scrollIntoView()")
    screenshot(browser, "adult-signing-page")
    agent = browser.execute_script("return navigator.userAgent")
    submit_and_wait(browser, keyboard=True)
    server.timings["browser: adult signs"] = time.perf_counter() - timer
    assert browser.find_elements(By.ID, "download"), browser.page_source[:1000]
    screenshot(browser, "adult-signed-page")
    copy_url = browser.current_url
    audit = check_archive(server, prepared.packet_id)
    record = check_record(audit, "client", browser_agent=agent, started=started)
    assert record["method"] == "typed"
    assert record["full_name"] == "Maria Elena O'Brien-Núñez"
    assert record["attested_location"] == {
        "address": "418 Magnolia Street, Apt 2B, Hattiesburg, MS 39401",
        "state": "MS",
    }
    assert record["intent_statement"] == MESSAGES["en"]["intent_typed"]
    save_signed_page(server.archive(prepared.packet_id), audit, "client", "adult")
    return Signed(prepared=prepared, audit=audit, form=form, copy_url=copy_url)


def test_adult_signs_with_typed_name_by_keyboard_and_gets_sealed_copy(
    server: Server, browser: WebDriver, signed_adult: Signed
) -> None:
    download = browser.find_element(By.ID, "download").get_attribute("href")
    reply = urllib.request.urlopen(download, timeout=60)
    copy = reply.read()
    assert copy == server.archive(signed_adult.prepared.packet_id).read_bytes()
    assert reply.headers["content-type"] == "application/pdf"
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert {s["key"] for s in signed_adult.audit["signers"]} == {"client", "clinician"}
    actions = [e["action"] for e in signed_adult.audit["events"]]
    assert "opened the signing page" in actions and "viewed every page of the packet" in actions


def test_reused_link_gets_a_clear_page_and_changes_nothing(
    server: Server, browser: WebDriver, signed_adult: Signed
) -> None:
    packet_id = signed_adult.prepared.packet_id
    link = signed_adult.prepared.links["client"]
    before = (server.state(packet_id), server.archive(packet_id).read_bytes())
    browser.get(link)
    wait_for(browser, "#problem")
    assert browser.find_element(By.ID, "problem").text == MESSAGES["en"]["link_used_title"]
    screenshot(browser, "reused-link-page")
    assert http(link).status == 410
    # The form the browser sent, sent again (a browser retry): the same answer, nothing new.
    fields = [*signed_adult.form, ("name", "Someone Else"), ("method", "typed")]
    again = http(link, fields, follow=False)
    assert again.status == 303 and again.url.endswith(signed_adult.copy_url.split("/copy/")[1])
    # A form from another window of the same link: refused.
    other = [(k, v) for k, v in signed_adult.form if k != "form_nonce"] + [("form_nonce", "x" * 22)]
    assert http(link, other).status == 410
    assert (server.state(packet_id), server.archive(packet_id).read_bytes()) == before
    # The page images and the PDF are gone with the link.
    assert http(f"{link}/pages/1.jpg").status == 404
    assert http(f"{link}/documents.pdf").status == 404


def test_couple_signs_one_drawn_by_touch_one_typed(
    server: Server, browser: WebDriver, tmp_path: Path
) -> None:
    prepared = prepare(server, "C-1002")
    assert set(prepared.links) == {"client", "co_client-1", "clinician"}
    assert (
        sign_over_http(prepared.links["clinician"], name="J. Reyes", state="MS", address="Jackson, MS").status
        == 200
    )
    started = datetime.now(UTC).replace(microsecond=0)
    timer = time.perf_counter()
    agent = browser.execute_script("return navigator.userAgent")
    # The client draws with a finger, on a phone-sized screen.
    browser.set_window_size(*PHONE)
    try:
        browser.get(prepared.links["client"])
        agree_to_esign(browser)
        read_documents(browser)
        server.timings["browser: couple, client reads on a phone"] = time.perf_counter() - timer
        browser.execute_script("window.scrollTo(0, document.getElementById('pages').offsetTop)")
        screenshot(browser, "couple-client-phone-documents")
        fill_location(browser, address="77 Beach Boulevard, Biloxi, MS 39530", state_name="Mississippi")
        browser.find_element(By.ID, "name").send_keys("Andre Williams")
        drawn = draw_zigzag(browser, touch=True)
        assert browser.find_element(By.ID, "intent-drawn").is_displayed()
        screenshot(browser, "couple-client-phone-drawn-signing-page")
        submit_and_wait(browser)
        assert browser.find_elements(By.ID, "waiting"), browser.page_source[:1000]
    finally:
        browser.set_window_size(*DESKTOP)
    # The partner types a name; the last signature finalizes.
    browser.get(prepared.links["co_client-1"])
    agree_to_esign(browser)
    read_documents(browser)
    fill_location(browser, address="77 Beach Boulevard, Biloxi, MS 39530", state_name="Mississippi")
    browser.find_element(By.ID, "name").send_keys("Keisha Williams")
    last = time.perf_counter()
    submit_and_wait(browser)
    server.timings["browser: couple, last signature (finalize and seal)"] = time.perf_counter() - last
    server.timings["browser: couple, both sign"] = time.perf_counter() - timer
    assert browser.find_elements(By.ID, "download")
    screenshot(browser, "couple-signed-page")
    audit = check_archive(server, prepared.packet_id)
    client = check_record(audit, "client", browser_agent=agent, started=started)
    partner = check_record(audit, "co_client-1", browser_agent=agent, started=started)
    assert client["intent_statement"] == MESSAGES["en"]["intent_drawn"]
    assert partner["method"] == "typed" and partner["relationship"] == "spouse"
    check_stroke(server.archive(prepared.packet_id), audit, "client", drawn, tmp_path)
    save_signed_page(server.archive(prepared.packet_id), audit, "client", "couple")


def test_minor_in_mississippi_guardian_draws_and_minor_assents(
    server: Server, browser: WebDriver, tmp_path: Path
) -> None:
    prepared = prepare(server, "C-1003")
    assert set(prepared.links) == {"client", "guardian-1", "clinician"}
    assert (
        sign_over_http(
            prepared.links["clinician"], name="Dana Whitfield", state="MS", address="Jackson"
        ).status
        == 200
    )
    started = datetime.now(UTC).replace(microsecond=0)
    timer = time.perf_counter()
    agent = browser.execute_script("return navigator.userAgent")
    browser.get(prepared.links["guardian-1"])
    agree_to_esign(browser)
    read_documents(browser)
    fill_location(browser, address="1204 University Avenue, Oxford, MS 38655", state_name="Mississippi")
    browser.find_element(By.ID, "name").send_keys("Rebecca Carter")
    drawn = draw_zigzag(browser, touch=False)
    screenshot(browser, "minor-guardian-drawn-signing-page")
    submit_and_wait(browser)
    assert browser.find_elements(By.ID, "waiting")
    browser.get(prepared.links["client"])
    agree_to_esign(browser)
    read_documents(browser)
    assert "(assent)" in browser.find_element(By.ID, "signing-as").text
    fill_location(browser, address="1204 University Avenue, Oxford, MS 38655", state_name="Mississippi")
    browser.find_element(By.ID, "name").send_keys("Ethan James Carter")
    submit_and_wait(browser)
    server.timings["browser: minor and guardian sign"] = time.perf_counter() - timer
    assert browser.find_elements(By.ID, "download")
    screenshot(browser, "minor-signed-page")
    audit = check_archive(server, prepared.packet_id)
    guardian = check_record(audit, "guardian-1", browser_agent=agent, started=started)
    minor = check_record(audit, "client", browser_agent=agent, started=started)
    assert guardian["relationship"] == "mother"
    assert guardian["intent_statement"] == MESSAGES["en"]["intent_drawn_guardian"]
    assert minor["intent_statement"] == MESSAGES["en"]["intent_typed_assent"]
    check_stroke(server.archive(prepared.packet_id), audit, "guardian-1", drawn, tmp_path)
    save_signed_page(server.archive(prepared.packet_id), audit, "guardian-1", "minor")


@pytest.fixture(scope="module")
def spanish(server: Server) -> Prepared:
    """C-1004, a Spanish-speaking client: her packet and pages are in Spanish."""
    return prepare(server, "C-1004")


def _unchanged(server: Server, packet_id: str) -> tuple[Any, ...]:
    """What a refused request must leave as it was: records, links' use and consent, the archive."""
    state = server.state(packet_id)
    links = {h: (v["used_at"], v["esign_consent_at"]) for h, v in state["links"].items()}
    return (state["records"], links, state["archive"], server.archive(packet_id).exists())


def test_bad_input_gets_a_clear_page_and_changes_nothing(server: Server, spanish: Prepared) -> None:
    es = MESSAGES["es"]
    link = spanish.links["client"]
    base = server.base
    # An unknown or malformed link.
    for token in ("A" * 43, "short", "A" * 42 + "."):
        reply = http(f"{base}/sign/{token}", headers={"Accept-Language": "es-US,es;q=0.9"})
        assert reply.status == 404 and es["link_unknown_title"] in reply.text
    assert http(f"{base}/sign/..%2F..%2Fsecret").status == 404
    page = http(link)
    assert page.status == 200 and '<html lang="es-US">' in page.text and es["esign_heading"] in page.text
    consent_form = hidden_fields(page.text, "esign-form")
    # Not agreeing, or a changed consent form.
    start = _unchanged(server, spanish.packet_id)
    assert http(f"{link}/consent", consent_form).status == 400
    # A changed MAC (one that already ended in "00" would not be changed by writing "00").
    tampered = [
        (k, v[:-2] + ("11" if v.endswith("00") else "00") if k == "form_mac" else v) for k, v in consent_form
    ]
    tampered.append(("esign_agree", "yes"))
    reply = http(f"{link}/consent", tampered)
    assert reply.status == 400 and es["form_changed_title"] in reply.text
    assert _unchanged(server, spanish.packet_id) == start
    # The pages are not shown before the ESIGN consent.
    assert http(f"{link}/pages/1.jpg").status == 404
    sign_page = http(f"{link}/consent", [*consent_form, ("esign_agree", "yes")])
    assert sign_page.status == 200 and 'id="sign-form"' in sign_page.text
    documents = re.findall(r'name="documents" value="([^"]+)"', sign_page.text)
    good = [
        *hidden_fields(sign_page.text, "sign-form"),
        ("address", "2315 25th Avenue, Apt 4, Gulfport, MS 39501"),
        ("state", "MS"),
        ("location_confirm", "yes"),
        ("name", "Rosa María Hernández Castillo"),
        ("method", "typed"),
        ("signature_image", ""),
    ]
    good += [("documents", d) for d in documents]
    start = _unchanged(server, spanish.packet_id)

    def refused(fields: list[tuple[str, str]], status: int, text: str) -> None:
        reply = http(link, fields)
        assert reply.status == status, (reply.status, text)
        assert text in reply.text, text
        assert _unchanged(server, spanish.packet_id) == start

    def without(*names: str) -> list[tuple[str, str]]:
        return [(k, v) for k, v in good if k not in names]

    # Signing before reading every page.
    refused(good, 400, es["error_not_read"])
    for src in re.findall(r'<img class="page" src="([^"]+)"', sign_page.text):
        assert http(base + src).status == 200
    # A changed form: its MAC, its nonce, its time.
    for name in ("form_mac", "form_nonce", "form_issued"):
        changed = [(k, (v[:-1] + ("0" if v[-1] != "0" else "1")) if k == name else v) for k, v in good]
        refused(changed, 400, es["form_changed_title"])
    # Missing or broken signatures and fields.
    refused([*without("name"), ("name", "  ")], 400, es["error_name"])
    refused([*without("method"), ("method", "drawn")], 400, es["error_drawing"])
    bad_png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40).decode()
    refused(
        [*without("method", "signature_image"), ("method", "drawn"), ("signature_image", bad_png)],
        400,
        es["error_drawing_invalid"],
    )
    refused([*without("method"), ("method", "stamp")], 400, es["error_method"])
    refused([*without("state"), ("state", "ZZ")], 400, es["error_state"])
    refused([*without("state"), ("state", "TX")], 400, "Texas")
    refused(without("location_confirm"), 400, es["error_location_confirm"])
    refused([*without("documents"), ("documents", documents[0])], 400, es["error_documents"])
    refused([*without("address"), ("address", "x" * 600)], 400, es["error_address_long"])
    refused([*without("name"), ("name", "Rosa\x07")], 400, es["error_name_characters"])
    # A form over the size limit.
    refused(
        [*without("signature_image"), ("signature_image", "A" * (1024 * 1024 + 10))],
        413,
        es["too_large_title"],
    )
    # The link expires: pages, PDF and form are refused.
    server.clock.offset = timedelta(hours=73)
    try:
        assert http(link).status == 410 and es["link_expired_title"] in http(link).text
        assert http(f"{link}/pages/1.jpg").status == 404
        refused(good, 410, es["link_expired_title"])
    finally:
        server.clock.offset = timedelta(0)
    # The practice pages need the login.
    assert http(f"{base}/practice").status == 401
    assert http(f"{base}/practice/packets/{spanish.packet_id}").status == 401
    assert http(f"{base}/practice/packets/{spanish.packet_id}", staff=True).status == 200


def test_simultaneous_submissions_store_one_signature(server: Server, spanish: Prepared) -> None:
    """Six windows of one link submit at the same instant: one signature is stored, five are refused."""
    link = spanish.links["clinician"]
    page = http(link)
    page = http(f"{link}/consent", [*hidden_fields(page.text, "esign-form"), ("esign_agree", "yes")])
    for src in re.findall(r'<img class="page" src="([^"]+)"', page.text):
        assert http(server.base + src).status == 200
    documents = re.findall(r'name="documents" value="([^"]+)"', page.text)
    forms = []
    for number in range(6):
        fields = hidden_fields(http(link).text, "sign-form")
        fields += [("address", "200 East Capitol Street, Jackson, MS 39201"), ("state", "MS")]
        fields += [("location_confirm", "yes"), ("name", f"Jordan Reyes {number}"), ("method", "typed")]
        forms.append(fields + [("documents", d) for d in documents])
    barrier = threading.Barrier(len(forms))
    statuses: list[int] = [0] * len(forms)

    def submit(number: int) -> None:
        barrier.wait()
        statuses[number] = http(link, forms[number], follow=False).status

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(statuses) == [303, 409, 409, 409, 409, 409], statuses
    state = server.state(spanish.packet_id)
    assert state["records"]["clinician"]["full_name"] == f"Jordan Reyes {statuses.index(303)}"


def test_double_submit_from_two_tabs_signs_once(
    server: Server, browser: WebDriver, spanish: Prepared
) -> None:
    packet_id = spanish.packet_id
    status = http(f"{server.base}/practice/packets/{packet_id}", staff=True)
    forms = re.findall(r"<form.*?</form>", status.text, re.S)
    renew = next(f for f in forms if '/links"' in f and 'name="key" value="client"' in f)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', renew)
    reply = http(f"{server.base}/practice/packets/{packet_id}/links", fields, staff=True)
    link = re.search(r'href="([^"]+)" data-key="client"', reply.text)
    assert link
    link_url = link.group(1)
    # The first link was replaced by the new one.
    assert http(spanish.links["client"]).status == 410
    if not server.state(packet_id)["records"].get("clinician"):
        assert (
            sign_over_http(spanish.links["clinician"], name="J. Reyes", state="MS", address="Jackson").status
            == 200
        )
    timer = time.perf_counter()
    first = browser.current_window_handle
    tabs = []
    for _ in range(2):
        if tabs:
            browser.switch_to.new_window("tab")
        tabs.append(browser.current_window_handle)
        browser.get(link_url)
        agree_to_esign(browser)
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es-US"
        read_documents(browser)
        fill_location(
            browser, address="2315 25th Avenue, Apt 4, Gulfport, MS 39501", state_name="Mississippi"
        )
        browser.find_element(By.ID, "name").send_keys("Rosa María Hernández Castillo")
    screenshot(browser, "spanish-signing-page")
    # Both tabs submit at (nearly) the same moment.
    for handle in tabs:
        browser.switch_to.window(handle)
        browser.execute_script("setTimeout(() => document.getElementById('sign-form').requestSubmit(), 0)")
    outcomes = []
    for handle in tabs:
        browser.switch_to.window(handle)
        wait_for(browser, "#done, #problem", timeout=180)
        outcomes.append(
            "done" if browser.find_elements(By.ID, "done") else browser.find_element(By.ID, "problem").text
        )
        screenshot(browser, f"spanish-tab-{len(outcomes)}")
    server.timings["browser: two tabs sign"] = time.perf_counter() - timer
    assert sorted(outcomes) == sorted(["done", MESSAGES["es"]["signed_elsewhere_title"]]), outcomes
    for handle in tabs[1:]:
        browser.switch_to.window(handle)
        browser.close()
    browser.switch_to.window(first)
    audit = check_archive(server, packet_id)
    assert [s["key"] for s in audit["signers"]].count("client") == 1
    state = server.state(packet_id)
    assert sum(1 for link in state["links"].values() if link["used_at"]) == 2  # client and clinician


def test_page_words_exist_in_both_languages() -> None:
    assert set(MESSAGES["en"]) == set(MESSAGES["es"])
