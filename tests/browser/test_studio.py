"""In Debian's Chromium: an organizer builds an event in the studio, from the admin link to
a site's screen showing the first step, without a terminal."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser


def field(page: Page, name: str) -> Any:
    return page.locator(f'[name="{name}"]')


def test_an_event_is_built_in_the_studio_and_run_from_its_links(
    live_server: LiveServer, browser: Any
) -> None:
    page: Page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/admin?k={live_server.signer.sign_admin()}")
    page.get_by_role("link", name="Créer un événement").click()

    # A new event from the departmental half-day.
    page.get_by_label("Demi-journée départementale").check()
    page.get_by_label("Titre").fill("Rencontres du numérique de Pamiers")
    page.get_by_label("Identifiant").fill("pamiers-2026")
    page.get_by_label("Date").fill("2026-10-07")
    page.get_by_role("button", name="Créer l'événement").click()
    expect(page.locator("#studio-done")).to_contain_text("Événement créé")

    # The first step renamed; a site added, by keyboard.
    field(page, "agenda.0.title").fill("Ouverture par le maire de Pamiers")
    page.get_by_role("button", name="Ajouter un site").focus()
    page.keyboard.press("Enter")
    name = field(page, "sites.1.name")
    expect(name).to_be_focused()  # the new row's first field
    name.fill("Lycée de Pamiers")
    name.press("Tab")  # its id is made from its name
    expect(field(page, "sites.1.id")).to_have_value("lycee-pamiers")
    field(page, "sites.1.capacity").fill("40")

    # A workshop at the new site, with a capacity the model refuses.
    page.get_by_role("button", name="Ajouter un atelier").click()
    field(page, "workshops.5.theme").select_option("enseigner")
    field(page, "workshops.5.site").select_option("lycee-pamiers")  # offered at once
    field(page, "workshops.5.room").fill("CDI")
    field(page, "workshops.5.capacity").fill("0")
    # Moved up by keyboard: its fields follow its new place.
    page.get_by_role("button", name="Monter — Atelier 6").press("Enter")
    expect(field(page, "workshops.4.room")).to_have_value("CDI")
    expect(page.locator("#studio-live")).to_contain_text("Atelier 5")
    page.locator("#save").click()

    # Refused: the problem next to its field, what was typed kept.
    problem = page.locator('[id="n-workshops.4.capacity"]')
    expect(problem).to_have_text("La valeur doit être supérieure ou égale à 1.")
    capacity = field(page, "workshops.4.capacity")
    expect(capacity).to_have_attribute("aria-invalid", "true")
    expect(field(page, "sites.1.name")).to_have_value("Lycée de Pamiers")
    page.locator("#studio-problems a").click()  # the list atop leads to the field
    expect(capacity).to_be_focused()
    capacity.fill("25")
    page.locator("#save-top").click()
    saved = "Enregistré : l'événement est à jour partout."
    expect(page.locator("#studio-done")).to_have_text(saved)
    expect(field(page, "workshops.4.site")).to_have_value("lycee-pamiers")
    assert errors == []

    # The links sheet gives the console and the new site's screen.
    page.get_by_role("link", name="Feuille des liens (console, écrans, rapporteurs)").click()
    console_link = page.locator('[data-slot="facilitator"] input.url').input_value()
    screen_link = page.locator('[data-slot="screen:lycee-pamiers"] input.url').input_value()
    screen: Page = browser.new_page()
    screen.goto(screen_link)
    expect(screen.locator("body[data-seq]")).to_have_count(1)
    expect(screen.locator(".site-name")).to_contain_text("Lycée de Pamiers")
    console: Page = browser.new_page()
    console.goto(console_link)
    expect(console.locator("#conn")).to_have_text("Connecté")
    # The console acts once it shows the live state (a click before it means nothing).
    expect(console.locator("body[data-seq]")).to_have_count(1)
    console.get_by_role("button", name="Démarrer").click()
    expect(screen.locator("#step-title")).to_have_text("Ouverture par le maire de Pamiers")
    for p in (page, screen, console):
        p.close()
