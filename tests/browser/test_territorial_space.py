"""The territorial space in Debian's Chromium, on a phone (375×740) and a desktop
(1280×800): search, follow a subject, open a proposal and its origins; no sideways
scrolling on the phone; axe-core's WCAG 2 A/AA rules on the home, search results, subject
and proposal pages, with zero violations."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from live.backends.sqlite import SQLiteBackend
from live.consultation.store import Contributions
from tests.browser.test_accessibility import AXE
from tests.consultation.world import EGN
from tests.support.servers import LiveServer, unavailable
from tests.web.test_territorial import world

pytestmark = pytest.mark.browser
SPACE = f"/territoires/{EGN.id}"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


async def published(data: Path) -> None:
    """The consultation and its contributions in the server's store, before it starts."""
    backend = SQLiteBackend(data / "relais.sqlite3")
    await backend.open()
    try:
        store = Contributions(backend)
        await store.put_consultation(EGN)
        for c in world():
            await store.publish(c)
    finally:
        await backend.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("territorial") / "data"
    data.mkdir()
    asyncio.run(published(data))
    live = LiveServer(data)
    live.start()
    try:
        yield live
    finally:
        live.stop()


def violations(page: Page) -> list[str]:
    """axe-core's WCAG 2 A/AA violations on the page (as test_accessibility runs it)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    assert result["passes"], "axe checked nothing"
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in result["violations"]]


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= innerWidth"))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_search_follow_a_subject_open_a_proposal_and_its_origins(
    server: LiveServer, browser: Any, viewport: dict[str, int]
) -> None:
    page: Page = browser.new_page(viewport=viewport)
    phone = viewport is PHONE
    page.goto(f"{server.url}/")
    page.get_by_role("link", name="Espace territorial : États généraux").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(EGN.title)
    assert not phone or no_sideways_scroll(page)

    page.get_by_label("Rechercher dans les propositions").fill("équipements numérique")
    page.get_by_role("button", name="Rechercher").click()
    hit = page.locator(".terr-hit").first
    expect(hit).to_contain_text("Des équipements numériques pour chaque élève")
    expect(hit.locator("mark").first).to_have_text("équipements")
    assert not phone or no_sideways_scroll(page)

    page.get_by_role("link", name="Espace territorial", exact=True).click()
    page.get_by_role("link", name="Voir les propositions : Égalité d’accès").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Égalité d’accès")
    cards = page.locator(".terr-card")
    expect(cards.first).to_contain_text("Équiper chaque élève et chaque école")
    expect(cards.first).to_contain_text("41 soutiens")
    assert not phone or no_sideways_scroll(page)

    cards.first.get_by_role("link", name="Équiper chaque élève et chaque école").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Équiper chaque élève et chaque école"
    )
    departements = page.locator("#terr-departements")
    for name in ("Ariège", "Haute-Garonne", "Vienne"):
        expect(departements).to_contain_text(name)
    assert not phone or no_sideways_scroll(page)

    page.locator(".terr-origins").get_by_role("link", name="Un ordinateur par eleve").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Un ordinateur par eleve")
    expect(page.locator("#terr-origin")).to_contain_text("Haute-Garonne")
    became = page.locator("#terr-became").locator("xpath=..")
    expect(became.get_by_role("link", name="Un ordinateur pour chaque élève")).to_be_visible()
    assert not phone or no_sideways_scroll(page)
    page.close()


def test_the_pages_have_no_sideways_scrolling_on_a_phone(server: LiveServer, browser: Any) -> None:
    page: Page = browser.new_page(viewport=PHONE)
    for path in (
        SPACE,
        SPACE + "/recherche?q=tablettes",
        SPACE + "/sujets/acces/egalite",
        SPACE + "/t/ac-toulouse",
        SPACE + "/e/ariege-2020",
        SPACE + "/p/national-2020/r1",
    ):
        for lang in ("fr", "en"):
            page.goto(f"{server.url}{path}{'&' if '?' in path else '?'}lang={lang}")
            assert no_sideways_scroll(page), (path, lang)
    page.close()


def test_home_search_subject_and_proposal_pages_pass_the_wcag_rules(
    server: LiveServer, browser: Any
) -> None:
    if not AXE.exists():
        unavailable("axe-core is not installed: npm ci --prefix js")
    found = {}
    for viewport in (DESKTOP, PHONE):
        page: Page = browser.new_page(viewport=viewport, bypass_csp=True)  # axe goes inline
        for path in (
            SPACE,
            SPACE + "/recherche?q=ordinateur+élèves",
            SPACE + "/sujets/acces/egalite",
            SPACE + "/p/national-2020/r1",
            SPACE + "/t/ac-toulouse",
            SPACE + "/e/ariege-2020",
        ):
            for lang in ("fr", "en"):
                page.goto(f"{server.url}{path}{'&' if '?' in path else '?'}lang={lang}")
                expect(page.get_by_role("heading", level=1)).to_be_visible()
                if problems := violations(page):
                    found[f"{path} ({lang}) at {viewport['width']} px"] = problems
        page.close()
    assert found == {}
