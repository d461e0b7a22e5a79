"""In Debian's Chromium: the console drives what an open site screen shows."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser
EVENT = "ariege-2020"


def screen_and_console(server: LiveServer, browser: Any) -> tuple[Any, Any]:
    """The Foix site screen, then the facilitator console, open in two tabs."""
    screen = browser.new_page()
    screen.goto(f"{server.url}/e/{EVENT}/screen?k={server.link(EVENT, 'screen', site='foix')}")
    console = browser.new_page()
    console.goto(f"{server.url}/e/{EVENT}/console?k={server.link(EVENT, 'facilitator')}")
    for page in (screen, console):
        expect(page.locator("body[data-seq]")).to_have_count(1)  # the live state is shown
    return screen, console


def test_next_in_the_console_changes_the_step_on_an_open_site_screen(
    live_server: LiveServer, browser: Any
) -> None:
    screen, console = screen_and_console(live_server, browser)
    expect(screen.locator("#step-kind")).to_have_text("L'événement n'a pas commencé")
    expect(console.locator("#conn")).to_have_text("Connecté")
    console.get_by_role("button", name="Étape suivante →").click()
    expect(screen.locator("#step-title")).to_contain_text("Plénière de lancement")
    expect(screen.locator("#countdown")).to_have_text("45:00", timeout=3000)
    console.keyboard.press("ArrowRight")
    console.keyboard.press("Enter")  # the plenary is running: the console asks first
    expect(screen.locator("#step-title")).to_have_text("Ateliers par thématiques")
    expect(console.locator("#workshop-timers li")).to_have_count(5)
    screen.close()
    console.close()


def test_a_message_from_the_console_shows_on_the_screen_banner(
    live_server: LiveServer, browser: Any
) -> None:
    screen, console = screen_and_console(live_server, browser)
    console.get_by_label("Texte du message").fill("Reprise à 16 h 30")
    console.get_by_role("button", name="Afficher").click()
    expect(screen.locator("#banner")).to_have_text("Reprise à 16 h 30")
    screen.close()
    console.close()


def test_the_console_page_is_refused_without_a_link(live_server: LiveServer, browser: Any) -> None:
    page = browser.new_page()
    response = page.goto(f"{live_server.url}/e/{EVENT}/console")
    assert response is not None and response.status == 401
    expect(page.get_by_role("alert")).to_contain_text("lien personnel")
    page.close()


def test_an_open_screen_reconnects_after_a_server_restart_and_follows_again(
    live_server: LiveServer, browser: Any
) -> None:
    screen, console = screen_and_console(live_server, browser)
    console.get_by_role("button", name="Étape suivante →").click()
    expect(screen.locator("#step-title")).to_contain_text("Plénière de lancement")
    live_server.restart(hard=True)
    expect(screen.locator("#conn")).to_have_text("", timeout=15000)  # reconnected
    expect(console.locator("#conn")).to_have_text("Connecté", timeout=15000)
    console.get_by_role("button", name="Étape suivante →").click()
    console.get_by_role("button", name="Confirmer").click()
    expect(screen.locator("#step-title")).to_have_text("Ateliers par thématiques", timeout=15000)
    screen.close()
    console.close()
