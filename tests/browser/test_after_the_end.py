"""In Debian's Chromium at a phone's width, after "Terminer l'événement": the live card
says the event has ended once, as its heading (no "En cours" above it), and the public
page no longer invites people to register."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_show_day import command, open_phone
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser
POITIERS = "poitiers-2020"


def test_after_the_end_a_phone_says_it_once_and_offers_no_registration(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, POITIERS, "step.goto", step="cloture")
    public = browser.new_page(viewport={"width": 390, "height": 844})
    public.goto(f"{live_server.url}/e/{POITIERS}")
    expect(public.get_by_role("link", name="S'inscrire")).to_be_visible()
    expect(public.locator("#now-title")).to_have_text("En cours")
    phone = open_phone(live_server, browser, POITIERS, "niort")
    command(live_server, POITIERS, "event.end")
    for page in (public, phone):
        card = page.locator("section.now")
        expect(card.get_by_role("heading")).to_have_text("Événement terminé")
        shown = card.inner_text()  # what a person reads: hidden lines left out
        assert "En cours" not in shown and shown.count("Événement terminé") == 1, shown
    expect(public.get_by_role("link", name="S'inscrire")).to_be_hidden()
    for page in (public, phone):
        page.close()
