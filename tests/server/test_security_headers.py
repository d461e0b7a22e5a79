"""Every answer tells the browser what it may run, frame, send and keep (live/web/headers.py):
no injected script, no framing, no address with a link leaked in a `Referer`, and nothing
with a link or personal data kept in a cache. On the real server."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.people.test_registration import GOOD as FORM
from tests.support.servers import ROOT, LiveServer

EVENT = "ariege-2020"


def hears_its_socket(page: Any, url: str, within: float = 30.0) -> None:
    """Open `url` and wait for a frame on one of its websockets. The listener is set before
    the page loads: a frame that arrives before `goto` returns (a busy runner) counts, where
    waiting for the next frame after loading would miss it."""
    heard: list[object] = []

    def hear(payload: object) -> None:
        heard.append(payload)

    def listen(ws: Any) -> None:
        ws.on("framereceived", hear)

    page.on("websocket", listen)
    try:
        page.goto(url)
        give_up = time.monotonic() + within
        while not heard and time.monotonic() < give_up:
            page.wait_for_timeout(50)
        assert heard, f"no frame reached {url}"
    finally:
        page.remove_listener("websocket", listen)


def directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    parsed = (d.split() for d in policy.split(";") if d.strip())
    return {name: sources for name, *sources in parsed}


def assert_protected(response: httpx.Response) -> None:
    csp = directives(response)
    assert csp["script-src"] == ["'self'"], "no inline script, no eval"
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and response.headers["x-frame-options"] == "DENY"
    assert "'self'" in csp["connect-src"], "the page's own websockets"
    assert not any("unsafe" in s for d, sources in csp.items() if d != "style-src" for s in sources)
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.fixture
def client() -> httpx.Client:
    return httpx.Client(timeout=30)


def test_every_page_forbids_inline_script_framing_and_referrers(
    live_server: LiveServer, client: httpx.Client
) -> None:
    base = live_server.url
    for path in ("/", f"/e/{EVENT}", f"/e/{EVENT}/register", "/e/no-such-event", "/nowhere"):
        r = client.get(base + path)
        assert_protected(r)
        assert "'unsafe-inline'" not in directives(r)["style-src"]
    assert_protected(client.get(f"{base}/e/{EVENT}/console", params={"k": "forged"}))
    assert_protected(client.get(f"{base}/static/css/relais.css"))


def test_only_the_notes_editor_may_use_inline_styles(
    live_server: LiveServer, client: httpx.Client
) -> None:
    """CodeMirror writes its theme into a `<style>`, y-codemirror colours each writer's
    cursor with a `style` attribute; no other page needs either."""
    link = live_server.link
    base = f"{live_server.url}/e/{EVENT}"
    editor = client.get(f"{base}/notes", params={"k": link(EVENT, "rapporteur", workshop="a")})
    assert "'unsafe-inline'" in directives(editor)["style-src"]
    for page, k in {
        "notes/atelier-acces": link(EVENT, "screen", site="foix"),
        "console": link(EVENT, "facilitator"),
        "organize": link(EVENT, "organizer"),
    }.items():
        r = client.get(f"{base}/{page}", params={"k": k})
        assert r.status_code == 200 and "'unsafe-inline'" not in directives(r)["style-src"]


def test_pages_opened_with_a_link_are_never_stored(
    live_server: LiveServer, client: httpx.Client
) -> None:
    link = live_server.link
    pages = {
        "console": link(EVENT, "facilitator"),
        "screen": link(EVENT, "screen", site="foix"),
        "organize": link(EVENT, "organizer"),
        "notes": link(EVENT, "rapporteur", workshop="atelier-acces"),
    }
    for page, k in pages.items():
        r = client.get(f"{live_server.url}/e/{EVENT}/{page}", params={"k": k})
        assert r.status_code == 200, page
        assert r.headers["cache-control"] == "no-store", page
        assert_protected(r)
    refused = client.get(f"{live_server.url}/e/{EVENT}/console", params={"k": "forged"})
    assert refused.headers["cache-control"] == "no-store"


def test_the_page_showing_a_new_registration_its_link_is_never_stored(
    live_server: LiveServer, client: httpx.Client
) -> None:
    r = client.post(f"{live_server.url}/e/{EVENT}/register", data=FORM)
    assert r.status_code == 200 and "k=" in r.text
    assert r.headers["cache-control"] == "no-store"


def test_exports_are_never_stored(live_server: LiveServer, client: httpx.Client) -> None:
    base = f"{live_server.url}/e/{EVENT}"
    client.post(f"{base}/register", data=FORM)
    k = {"k": live_server.link(EVENT, "organizer")}
    people = client.get(f"{base}/organize/registrations.csv", params=k | {"lang": "en"})
    pid = next(csv.DictReader(io.StringIO(people.text.lstrip("\ufeff")), delimiter=";"))["id"]
    participant = {"k": live_server.link(EVENT, "participant", site="foix", person=pid)}
    client.post(f"{base}/organize/assign", params=k, data={"seed": "1"})
    client.post(f"{base}/organize/publish", params=k)
    downloads = [
        people,
        client.get(f"{base}/organize/report.csv", params=k),
        client.get(f"{base}/organize/confirmations.csv", params=k),
        client.get(f"{base}/organize/person/{pid}.json", params=k),
        client.get(f"{base}/me.ics", params=participant),
        client.get(f"{base}/agenda.ics"),
        *(client.get(f"{base}/synthesis", params=k | {"format": f}) for f in ("md", "html", "pdf")),
    ]
    for r in downloads:
        assert r.status_code == 200, r.url
        assert r.headers["cache-control"] == "no-store", r.url
        assert r.headers["x-content-type-options"] == "nosniff"


def test_static_files_may_be_cached(live_server: LiveServer, client: httpx.Client) -> None:
    r = client.get(f"{live_server.url}/static/js/live.js")
    assert r.status_code == 200 and "no-store" not in r.headers.get("cache-control", "")


def test_the_html_synthesis_keeps_its_style_under_the_policy(
    live_server: LiveServer, client: httpx.Client
) -> None:
    """Its one inline `<style>` is allowed by its hash, and nothing else inline is."""
    k = live_server.link(EVENT, "organizer")
    r = client.get(f"{live_server.url}/e/{EVENT}/synthesis", params={"k": k, "format": "html"})
    styles = re.findall(r"<style>(.*?)</style>", r.text, re.S)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in directives(r)["style-src"]


# -- what the policy needs of the pages ----------------------------------------------------


def test_no_template_has_inline_script_handlers_or_style_attributes() -> None:
    """Inline code would be blocked by the policy: pages load their scripts from /static and
    pass data in `<script type="application/json">` blocks, which never run."""
    for template in sorted((ROOT / "templates").glob("*.html")):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert not re.search(r"\sstyle\s*=", text), template.name
        assert "<style" not in text and "javascript:" not in text, template.name


def test_no_page_script_evaluates_strings_or_writes_style_attributes() -> None:
    """`eval`, `new Function` and string timers need 'unsafe-eval'; a `style` attribute
    (unlike `element.style`) needs 'unsafe-inline'."""
    scripts = [*Path(ROOT / "static" / "js").glob("*.js"), *(ROOT / "js").glob("*.js")]
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        assert not re.search(r"\beval\(|new Function\(|set(Timeout|Interval)\(\s*[\"'`]", text)
        assert not re.search(r"setAttribute\(\s*[\"']style", text), script.name
        assert not re.search(r"\sstyle=", text), script.name


# -- in the browser ----------------------------------------------------------------------


def csp_violations(page: Any) -> list[str]:
    """What Chromium reports against the policy on `page` (it says so on the console)."""
    found: list[str] = []
    page.on(
        "console",
        lambda m: found.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: found.append(str(e)))
    return found


@pytest.mark.browser
def test_every_page_runs_under_the_policy_without_a_violation(
    live_server: LiveServer, browser: Any
) -> None:
    """The live pages open their websockets, the notes editor shows two writers' cursors,
    the screen renders notes, the forms post: and Chromium blocks nothing."""
    from playwright.sync_api import expect

    link = live_server.link
    base = f"{live_server.url}/e/{EVENT}"
    writer = link(EVENT, "rapporteur", workshop="atelier-acces")
    pages = []
    for path in (f"/notes?k={writer}", f"/notes?k={writer}"):  # two writers: remote cursors
        page = browser.new_page()
        found = csp_violations(page)
        page.goto(base + path)
        expect(page.locator("#notes-status")).to_have_text("Enregistré et partagé")
        page.locator(".cm-content").click()
        page.keyboard.type("Des zones blanches persistent")
        pages.append((page, found))
    for other, _ in pages:  # each sees the other's cursor, in the other's colour
        caret = other.locator(".cm-ySelectionCaret")
        expect(caret).to_have_count(1)
        assert caret.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    page = browser.new_page()
    found = csp_violations(page)
    organizer = link(EVENT, "organizer")
    for path in (f"/organize?k={organizer}", f"/organize/report?k={organizer}"):
        page.goto(base + path)
    for path in (
        f"/console?k={link(EVENT, 'facilitator')}",
        f"/screen?k={link(EVENT, 'screen', site='foix')}",
        f"/notes/atelier-acces?k={link(EVENT, 'screen', site='foix')}",
        f"/speak?k={link(EVENT, 'speaker')}",
        f"/host?k={link(EVENT, 'host', site='foix')}",
        "",
    ):
        hears_its_socket(page, base + path)  # connect-src allows the page's own
    page.goto(f"{base}/register")
    page.get_by_label("Nom et prénom").fill("Camille Martin")
    page.get_by_label("Adresse électronique").fill("camille@example.fr")
    page.get_by_label("Vous êtes").select_option("professeur")
    page.get_by_label("J'accepte le traitement").check()
    page.get_by_role("button", name="S'inscrire").click()
    hears_its_socket(page, str(page.locator("#personal-link").get_attribute("href")))
    for other, other_found in pages:
        found += other_found
        other.close()
    page.close()
    assert found == []
