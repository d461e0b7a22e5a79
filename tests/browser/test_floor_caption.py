"""In Debian's Chromium, on the Grand Est day: when the console gives the floor to a site,
every screen's caption and every phone say which site speaks, not the step's speakers;
when the floor goes back to the speaker, the step's speakers show again."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_show_day import OUTSIDE, SIZES, command, open_phone, open_screen
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser
GRAND_EST = "grand-est-2020"  # seven sites, Nancy the hub
STRASBOURG = "Atelier Canopé 67, Strasbourg"
RECTOR = "Jean-Marc Huart, recteur de la région académique Grand Est"


def test_the_caption_on_every_screen_and_phone_names_the_site_given_the_floor(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, GRAND_EST, "step.goto", step="ouverture")
    screens = {
        (site, size): open_screen(live_server, browser, GRAND_EST, site, size)
        for site, size in zip(("nancy", "chalons", "strasbourg"), SIZES, strict=True)
    }
    phones = [open_phone(live_server, browser, GRAND_EST, s) for s in ("reims", "strasbourg")]
    for screen in screens.values():
        expect(screen.locator("#step-speaker")).to_contain_text(RECTOR)
    for phone in phones:
        expect(phone.locator("#now-speakers")).to_contain_text(RECTOR)

    command(live_server, GRAND_EST, "floor.give", feed="site:strasbourg")  # as the console does
    for (site, size), screen in screens.items():
        caption = screen.locator("#step-speaker")
        expect(caption).to_have_text(f"Parole à : {STRASBOURG}")
        expect(caption.locator("strong")).to_have_text(STRASBOURG)
        screen.wait_for_timeout(150)
        assert screen.evaluate(OUTSIDE) == [], f"{site} at {size}"
    for phone in phones:
        expect(phone.locator("#now-speakers")).to_have_text(f"Parole à : {STRASBOURG}")

    command(live_server, GRAND_EST, "floor.back")
    for screen in screens.values():
        expect(screen.locator("#step-speaker")).to_contain_text(RECTOR)
        expect(screen.locator("#step-speaker")).not_to_contain_text("Parole à")
    for phone in phones:
        expect(phone.locator("#now-speakers")).to_contain_text(RECTOR)
    for page in [*screens.values(), *phones]:
        page.close()


def test_a_site_given_the_floor_during_a_restitution_speaks_for_its_turn(
    live_server: LiveServer, browser: Any
) -> None:
    """The Poitiers restitution: Niort's workshop reports, then the floor goes to Angoulême
    (a question from its room) while Niort's turn runs."""
    command(live_server, "poitiers-2020", "step.goto", step="restitutions")
    command(live_server, "poitiers-2020", "queue.next")
    screen = open_screen(live_server, browser, "poitiers-2020", "poitiers", (1024, 768))
    phone = open_phone(live_server, browser, "poitiers-2020", "angouleme")
    turn = "Enseigner et apprendre avec le numérique — Lycée Paul Guérin, Niort"
    expect(screen.locator("#step-speaker strong")).to_have_text(turn)
    command(live_server, "poitiers-2020", "floor.give", feed="site:niort")
    expect(screen.locator("body")).to_have_attribute("data-floor", "site:niort")
    expect(screen.locator("#step-speaker strong")).to_have_text(turn)  # Niort named once
    expect(phone.locator("#now-speakers")).to_contain_text(f"Parole à : {turn}")
    command(live_server, "poitiers-2020", "floor.give", feed="site:angouleme")
    expect(screen.locator("#step-speaker strong")).to_have_text(
        f"Lycée Marguerite de Valois, Angoulême — {turn}"
    )
    expect(screen.locator("#step-speaker")).to_contain_text("Ensuite : ")
    expect(phone.locator("#now-speakers")).to_contain_text(
        "Parole à : Lycée Marguerite de Valois, Angoulême"
    )
    for page in (screen, phone):
        page.close()
