"""In Debian's Chromium: a person registers, the organizer runs the assignment and
confirms it, and the person's own link then shows their workshop and room."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_show_day import command
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser
EVENT = "ariege-2020"


def register(
    page: Page, name: str, email: str, category: str, *wishes: str, site: str | None = None
) -> str:
    """Fill the public form as a person would; the personal link shown afterwards."""
    page.get_by_label("Nom et prénom").fill(name)
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Vous êtes").select_option(category)
    if site:
        page.get_by_label("Site où vous participez").select_option(site)
    for i, wish in enumerate(wishes, start=1):
        page.get_by_label(f"Vœu {i}").select_option(wish)
    page.get_by_label("J'accepte le traitement").check()
    page.get_by_role("button", name="S'inscrire").click()
    expect(page.locator("#personal-link")).to_be_visible()
    return str(page.locator("#personal-link").get_attribute("href"))


def test_register_assign_confirm_then_the_personal_link_shows_the_workshop(
    live_server: LiveServer, browser: Any
) -> None:
    person = browser.new_page()
    person.goto(f"{live_server.url}/e/{EVENT}")
    person.get_by_role("link", name="S'inscrire").click()
    link = register(
        person,
        "Camille Martin",
        "camille@example.fr",
        "professeur",
        "atelier-enseigner",
        "atelier-acces",
    )
    expect(person.get_by_role("heading", name="Inscription enregistrée")).to_be_visible()

    organizer = browser.new_page()
    organizer.goto(f"{live_server.url}/e/{EVENT}/organize?k={live_server.link(EVENT, 'organizer')}")
    expect(organizer.locator("#count-total")).to_have_text("1")
    organizer.get_by_role("button", name="Lancer l'affectation").click()
    expect(organizer.locator("#org-done")).to_contain_text("1 personne placée")
    expect(organizer.locator("#people-table .placement")).to_contain_text("Vœu 1")
    organizer.get_by_role("button", name="Confirmer et envoyer").click()
    expect(organizer.locator("#org-done")).to_contain_text("1 personne nouvellement confirmée")
    organizer.get_by_role("link", name="Bilan de l'affectation").click()
    expect(organizer.locator("#chart")).to_contain_text("Vœu 1 : 1 (100 %)")

    person.goto(link)
    # One site: its name after the title would say nothing.
    expect(person.locator("#workshop-title")).to_have_text(
        "Enseigner et apprendre avec le numérique"
    )
    expect(person.locator("#workshop-room")).to_have_text("Salle 101")
    # During the workshops, the phone counts down that workshop's own time, +5 included.
    command(live_server, EVENT, "step.goto", step="ateliers")
    command(live_server, EVENT, "workshop.adjust", workshop="atelier-enseigner", minutes=5)
    expect(person.locator("#now-timer")).to_contain_text("Votre atelier : 2:04:")
    person.close()
    organizer.close()


def test_the_organizer_page_is_usable_from_the_keyboard(
    live_server: LiveServer, browser: Any
) -> None:
    page = browser.new_page()
    page.goto(f"{live_server.url}/e/{EVENT}/organize?k={live_server.link(EVENT, 'organizer')}")
    capacity = page.get_by_label(
        "Places — Un égal accès au numérique pour tous / Fracture numérique"
    )
    capacity.fill("12")
    capacity.press("Enter")  # submits the workshop form
    expect(page.locator("#org-done")).to_contain_text("Ateliers enregistrés")
    expect(page.locator("#capacity-atelier-acces")).to_have_value("12")
    page.close()


def test_after_an_update_the_personal_page_says_so_without_scrolling(
    live_server: LiveServer, browser: Any
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/e/{EVENT}/register")
    page.goto(register(page, "Sacha Durand", "sacha@example.fr", "parent", "atelier-acces"))
    page.get_by_label("Vœu 2").select_option("atelier-gouvernance")
    page.get_by_role("button", name="Mettre à jour").click()
    saved = page.locator("#saved")
    expect(saved).to_have_text("Vos modifications sont enregistrées.")
    box = saved.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844  # seen where one looks
    page.close()
