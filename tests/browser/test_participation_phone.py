"""Participation on two phones (360x740, Debian's Chromium) on a site's shared link: each
chooses the workshop (remembered on the device), one proposes, the other sees it at once
and supports it, and both read one support; a refusal shows next to the form; a ranking
poll is answered with the keyboard and its results follow; the page passes axe-core's
WCAG 2 A/AA rules with its cards drawn; a proposal hidden by the moderators reads its
reason on its author's phone and is gone from the others'."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from websockets.sync.client import connect

from tests.browser.test_accessibility import AXE
from tests.support.servers import LiveServer, unavailable

pytestmark = pytest.mark.browser
EVENT, WORKSHOP = "ariege-2020", "atelier-acces"
PHONE = {"width": 360, "height": 740}


def phone(browser: Any, server: LiveServer, token: str, **options: Any) -> Page:
    """A phone of its own (its own device cookie and storage) in the workshop."""
    page: Page = browser.new_page(viewport=PHONE, **options)
    page.goto(f"{server.url}/e/{EVENT}/me?k={token}")
    page.select_option("#part-workshop", WORKSHOP)
    expect(page.locator("#part-status")).to_have_text("Connecté")
    return page


def facilitator(server: LiveServer, name: str, **args: Any) -> None:
    """A command from the facilitator's link over the participation socket."""
    token = server.link(EVENT, "facilitator")

    url = f"{server.ws_url}/ws/participation/{EVENT}?k={token}&w={WORKSHOP}"
    with connect(url) as ws:  # the page's event loop runs in this thread: the sync client
        ws.send(json.dumps({"type": "hello", "since": None, "epoch": None}))
        ws.send(json.dumps({"type": "command", "id": "c1", "name": name, "args": args}))
        while (msg := json.loads(ws.recv(timeout=10)))["type"] != "ack":
            assert msg["type"] != "error", msg


def test_two_phones_propose_support_and_read_one_support(
    live_server: LiveServer, browser: Any
) -> None:
    if not AXE.exists():
        unavailable("axe-core is not installed: npm ci --prefix js")
    token = live_server.link(EVENT, "participant", site="foix")
    first = phone(browser, live_server, token, bypass_csp=True)  # axe goes in inline
    second = phone(browser, live_server, token)

    first.fill("#part-p-title", "Un référent numérique par collège")
    first.fill("#part-p-body", "Une personne formée, des heures dédiées.")
    subject = first.locator("#part-p-subject option").nth(1).get_attribute("value")
    assert subject, "the workshop's theme's subjects are offered"
    first.select_option("#part-p-subject", subject)
    first.get_by_role("button", name="Proposer").click()
    expect(first.locator("#part-propose-ok")).to_have_text("Proposition envoyée.")
    expect(first.locator("#part-p-title")).to_have_value("")

    card = second.locator(".part-card", has_text="Un référent numérique par collège")
    expect(card).to_be_visible()
    expect(card.locator(".part-subject")).not_to_be_empty()
    toggle = card.get_by_role("button", name="Je soutiens")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(card.locator(".part-support")).to_have_attribute("aria-pressed", "true")
    expect(card.locator(".part-support")).to_have_text("Je retire mon soutien")
    expect(card.locator(".part-supports")).to_have_text("1 soutien")
    mine = first.locator(".part-card", has_text="Un référent numérique par collège")
    expect(mine.locator(".part-supports")).to_have_text("1 soutien")
    expect(mine.locator(".part-support")).to_have_attribute("aria-pressed", "false")

    # An argument, and its count in the summary on the other phone.
    card.locator("summary").click()
    card.get_by_label("Contre").check()
    card.get_by_label("Votre argument").fill("Les heures manquent déjà.")
    card.get_by_role("button", name="Envoyer l’argument").click()
    expect(mine.locator("summary")).to_contain_text("1 contre")

    # The server's refusal next to the form: a second proposal too soon after the first.
    first.fill("#part-p-title", "Une deuxième idée tout de suite")
    first.get_by_role("button", name="Proposer").click()
    expect(first.locator("#part-propose-error")).to_have_text(
        "Attendez quelques secondes avant une nouvelle proposition."
    )

    # A ranking poll to the workshop, answered with the keyboard; the results follow.
    facilitator(
        live_server,
        "poll_open",
        scope="workshop",
        target=WORKSHOP,
        kind="ranking",
        question="Quel sujet d’abord ?",
        options=["Équipement", "Formation", "Accès"],
    )
    poll = second.locator(".part-poll", has_text="Quel sujet d’abord ?")
    expect(poll).to_be_visible()
    poll.get_by_role("button", name="Descendre « Équipement »").focus()
    second.keyboard.press("Enter")
    expect(poll.locator(".part-rank li").first).to_have_text("Formation↑↓")
    poll.get_by_role("button", name="Voter").click()
    expect(poll).to_contain_text("Merci, votre vote est compté.")
    expect(poll.locator(".part-results li").first).to_contain_text("Formation")

    # The workshop is remembered on the device.
    second.reload()
    expect(second.locator("#part-workshop")).to_have_value(WORKSHOP)
    expect(second.locator(".part-card .part-supports")).to_have_text("1 soutien")
    expect(second.locator(".part-card .part-support")).to_have_attribute("aria-pressed", "true")

    # Hidden by the moderators: its author reads why, the other phone no longer sees it.
    pid = mine.get_attribute("data-id")
    facilitator(live_server, "hide", proposal=pid, reason="Hors sujet pour cet atelier")
    expect(mine.locator(".part-note")).to_have_text(
        "Masquée par la modération : Hors sujet pour cet atelier"
    )
    expect(second.locator(f'.part-card[data-id="{pid}"]')).to_have_count(0)
    expect(second.locator("#part-empty")).to_be_visible()

    first.add_script_tag(path=str(AXE))
    result = first.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    assert result["passes"]
    problems = [f"{v['id']}: {v['nodes'][0]['target']}" for v in result["violations"]]
    assert problems == []
    first.close()
    second.close()


def test_the_page_reads_in_english(live_server: LiveServer, browser: Any) -> None:
    token = live_server.link(EVENT, "participant", site="foix")
    page: Page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_server.url}/e/{EVENT}/me?k={token}&lang=en")
    page.select_option("#part-workshop", WORKSHOP)
    expect(page.locator("#part-status")).to_have_text("Connected")
    page.fill("#part-p-title", "One digital referent per school")
    page.get_by_role("button", name="Propose").click()
    card = page.locator(".part-card", has_text="One digital referent per school")
    expect(card.get_by_role("button", name="I support this")).to_be_visible()
    expect(card.locator(".part-supports")).to_have_text("0 supports")
    # A one-choice question to the whole site: radios, then the results.
    facilitator(
        live_server,
        "poll_open",
        scope="site",
        target="foix",
        kind="one",
        question="Which subject first?",
        options=["Equipment", "Training"],
    )
    poll = page.locator(".part-poll", has_text="Which subject first?")
    poll.get_by_label("Training").check()
    poll.get_by_role("button", name="Vote").click()
    expect(poll).to_contain_text("Thank you, your vote is counted.")
    expect(poll.locator(".part-results li").nth(1)).to_have_text("Training 1 vote")
    page.close()
