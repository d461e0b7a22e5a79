"""A new organizer finds the way in: `relais serve` (so `scripts/demo.sh`) prints the
administrator link last and framed, the home page says how to get one and leads to
`/admin`, which asks for the link and takes it pasted whole."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.servers import LiveServer, free_port, unavailable

AXE = Path(__file__).resolve().parents[2] / "js" / "node_modules" / "axe-core" / "axe.min.js"
DEMO_SH = Path(__file__).resolve().parents[2] / "scripts" / "demo.sh"


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        yield client


def admin_link(server: LiveServer) -> str:
    return f"{server.url}/admin?k={server.signer.sign_admin()}"


def test_the_home_page_says_how_an_organizer_gets_in_and_leads_to_admin(
    http: httpx.Client,
) -> None:
    page = unescape(http.get("/").text)
    assert "Vous organisez un événement ?" in page
    assert "relais admin-link" in page and "premier démarrage" in page
    assert 'href="/admin"' in page
    english = unescape(http.get("/", params={"lang": "en"}).text)
    assert "Organizing an event?" in english and 'href="/admin?lang=en"' in english


def test_admin_without_its_link_asks_for_it(http: httpx.Client) -> None:
    response = http.get("/admin")
    assert response.status_code == 401  # as without any link, but the page asks for it
    assert '<label for="admin-link">Votre lien d\'administration</label>' in unescape(response.text)
    english = http.get("/admin", params={"lang": "en"}).text
    assert "Your administrator link" in english and 'name="lang" value="en"' in english


def test_a_pasted_administrator_link_opens_the_administration(
    live_server: LiveServer, http: httpx.Client
) -> None:
    response = http.get("/admin", params={"link": f"  {admin_link(live_server)}  "})
    assert response.status_code == 303
    opened = http.get(response.headers["location"])
    assert opened.status_code == 200 and 'id="new-event"' in opened.text


def test_something_else_pasted_is_said_not_to_be_an_administrator_link(
    live_server: LiveServer, http: httpx.Client
) -> None:
    organizer = (
        f"{live_server.url}/e/ariege-2020/organize?k={live_server.link('ariege-2020', 'organizer')}"
    )
    for pasted, lang, sentence in (
        (organizer, "fr", "Ce n'est pas un lien d'administration"),
        ("mon mot de passe", "en", "This is not an administrator link"),
    ):
        response = http.get("/admin", params={"link": pasted, "lang": lang})
        assert response.status_code == 422 and sentence in unescape(response.text)


def test_a_forged_key_pasted_is_refused_as_any_forged_link(http: httpx.Client) -> None:
    response = http.get("/admin", params={"link": "http://x/admin?k=forged"})
    assert response.status_code == 303
    assert http.get(response.headers["location"]).status_code in (401, 403)


def read_until(stream: Any, marker: str, out: list[str], done: threading.Event) -> None:
    for raw in iter(stream.readline, ""):
        out.append(raw)
        if marker in raw:
            break
    done.set()


def test_serve_prints_the_administrator_link_last_and_framed(tmp_path: Path) -> None:
    """What demo.sh runs (after the installation's output): the demo links, then the
    administrator link between two rules, then only the server's own log."""
    assert "serve --demo --admin-link" in DEMO_SH.read_text()
    port = free_port()
    env = {**os.environ, "LANG": "fr_FR.UTF-8", "PYTHONUNBUFFERED": "1"}
    env.pop("RELAIS_BASE_URL", None)
    cmd = [sys.executable, "-m", "live.cli", "--data", str(tmp_path / "data"), "serve"]
    server = subprocess.Popen(
        [*cmd, "--demo", "--admin-link", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    lines: list[str] = []
    done = threading.Event()
    try:
        assert server.stdout is not None
        reader = threading.Thread(
            target=read_until, args=(server.stdout, "/admin?k=", lines, done), daemon=True
        )
        reader.start()
        assert done.wait(60), "the administrator link was never printed"
        # The closing rule follows the link.
        closing = server.stdout.readline()
    finally:
        server.terminate()
        server.wait()
    text = "".join(lines)
    assert "tous les liens : relais links ÉVÉNEMENT" in text  # the demo links came first
    block = text.rstrip("\n").splitlines()
    assert block[-2].startswith("Lien d'administration")
    assert block[-1].strip().startswith(f"http://localhost:{port}/admin?k=")
    assert set(block[-3]) == {"═"} and set(closing.strip()) == {"═"}


@pytest.mark.browser
def test_from_the_home_page_an_organizer_pastes_the_link_and_is_in(
    live_server: LiveServer, browser: Any
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 720}, bypass_csp=True)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Entrer avec mon lien d'administration").click()
    check_axe(page, "the page asking for the link")
    page.get_by_label("Votre lien d'administration").fill(admin_link(live_server))
    page.keyboard.press("Enter")
    expect(page.locator("#new-event")).to_be_visible()
    page.goto(live_server.url + "/")
    check_axe(page, "home")
    page.close()


def check_axe(page: Any, name: str) -> None:
    if not AXE.exists():
        unavailable("axe-core is not installed: npm ci --prefix js")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    assert result["passes"], f"axe checked nothing on {name}"
    assert [v["id"] for v in result["violations"]] == [], name
