"""In Debian's Chromium, the console as a control surface: on a 1920×1080 régie screen, what
the current step needs is in view without scrolling, for the seven-site Grand Est day and
its fifteen workshops too; the plenary's panel folds away when the step is not a plenary
moment; the keyboard drives it; and on a phone every control can be reached and pressed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from live.event_file import parse_event
from tests.browser.test_accessibility import AXE
from tests.browser.test_show_day import command, state
from tests.support.servers import ROOT, LiveServer, unavailable

pytestmark = pytest.mark.browser
GRAND_EST = "grand-est-2020"
WORKSHOPS = len(parse_event((ROOT / "live" / "demo" / f"{GRAND_EST}.yaml").read_text()).workshops)
FULL_HD = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
DANGER = "rgb(165, 15, 15)"  # --danger: for what went wrong, never for a normal state


def open_console(server: LiveServer, browser: Any, size: dict[str, int], lang: str = "") -> Page:
    page: Page = browser.new_page(viewport=size, bypass_csp=True)  # axe goes in inline
    query = f"&lang={lang}" if lang else ""
    page.goto(
        f"{server.url}/e/{GRAND_EST}/console?k={server.link(GRAND_EST, 'facilitator')}{query}"
    )
    expect(page.locator("#conn")).not_to_be_empty()
    expect(page.locator("body[data-seq]")).to_have_count(1)
    return page


def show_messages(console: Page) -> None:
    """One message to every site and one to Reims, both on screens now."""
    console.get_by_label("Texte du message").fill("Reprise des travaux à 14 h")
    console.get_by_role("button", name="Afficher").click()
    console.get_by_label("Texte du message").fill("Salle B102 : entrée par la cour")
    console.get_by_label("Destinataires").select_option("reims")
    console.get_by_role("button", name="Afficher").click()
    expect(console.locator("#messages-shown li")).to_have_count(2)


def out_of_view(page: Page, locator: Locator) -> list[str]:
    """Every element of `locator` that is not shown whole inside the viewport."""
    found: list[str] = locator.evaluate_all(
        """(els) => els.flatMap((e) => {
          const r = e.getBoundingClientRect();
          const shown = r.width > 0 && r.height > 0;
          const inside = r.left >= 0 && r.top >= 0
            && r.right <= innerWidth && r.bottom <= innerHeight;
          const text = e.textContent.trim().slice(0, 40);
          const name = `${e.tagName.toLowerCase()}#${e.id}.${e.className} «${text}»`;
          return shown && inside ? [] : [`${name} ${JSON.stringify(r)}`];
        })"""
    )
    assert page.evaluate("scrollX + scrollY") == 0
    return found


def current_step_controls(console: Page) -> Locator:
    ids = ["step-title", "countdown", "drift", "btn-prev", "btn-next", "btn-undo", "btn-minus"]
    ids += ["btn-plus", "btn-plus5", "btn-reset", "btn-end"]
    return console.locator(", ".join(f"#{i}" for i in ids) + ", #btn-pause:visible")


def messages_panel(console: Page) -> Locator:
    return console.locator(
        "#msg-text, #msg-site, #message-form button[type=submit], #messages-shown li"
    )


def plenary_folded(console: Page) -> None:
    fold = console.get_by_role("button", name="Plénière en visio")
    expect(fold).to_have_attribute("aria-expanded", "false")
    expect(console.locator("#plenary-body")).to_be_hidden()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still not: {what}"
        time.sleep(0.05)


def next_speaker(server: LiveServer) -> int:
    """Where the speaking order goes at "Orateur suivant": the turn after the one speaking."""
    queue = state(server, GRAND_EST)["queue"]
    speaking = [i for i, s in enumerate(queue) if s["status"] == "speaking"]
    return speaking[0] + 1 if speaking else 0


def axe_violations(page: Page) -> list[str]:
    if not AXE.exists():
        unavailable("axe-core is not installed: npm ci --prefix js")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    assert result["passes"]
    return [f"{v['id']}: {v['nodes'][0]['target']}" for v in result["violations"]]


def test_during_the_regional_days_workshops_a_1920x1080_console_shows_all_the_step_needs(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, GRAND_EST, "step.goto", step="ateliers")
    console = open_console(live_server, browser, FULL_HD)
    show_messages(console)
    rows = console.locator("#workshop-timers li")
    expect(rows).to_have_count(WORKSHOPS)
    expect(rows.first.locator(".ws-countdown")).to_have_text(re.compile(r"^1:[23]\d:\d\d$"))
    assert out_of_view(console, current_step_controls(console)) == []
    assert out_of_view(console, rows.locator(".ws-name, .ws-countdown, button:visible")) == []
    assert out_of_view(console, messages_panel(console)) == []
    plenary_folded(console)
    assert axe_violations(console) == []
    console.close()


def test_during_the_regional_days_restitution_a_1920x1080_console_shows_all_the_step_needs(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, GRAND_EST, "step.goto", step="restitution")
    console = open_console(live_server, browser, FULL_HD)
    show_messages(console)
    rows = console.locator("#queue li")
    expect(rows).to_have_count(WORKSHOPS)
    speaking_order = console.locator("#btn-queue-next, #speaker-countdown").or_(
        rows.locator(".title, .status, button:visible")
    )
    assert out_of_view(console, current_step_controls(console)) == []
    assert out_of_view(console, speaking_order) == []
    assert out_of_view(console, messages_panel(console)) == []
    plenary_folded(console)  # the restitution has video, but it is not a plenary moment
    assert axe_violations(console) == []
    console.close()


def test_the_keyboard_drives_the_regional_days_console(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, GRAND_EST, "step.goto", step="restitution")
    console = open_console(live_server, browser, FULL_HD)
    body = console.locator("body")
    before = state(live_server, GRAND_EST)
    after = next_speaker(live_server)
    body.press("n")
    expect(console.locator("#queue li").nth(after)).to_have_attribute("data-status", "speaking")
    body.press("+")
    deadline = before["timer"]["deadline"]
    wait_for(lambda: state(live_server, GRAND_EST)["timer"]["deadline"] == deadline + 60_000, "+1")
    body.press(" ")
    expect(console.locator("#paused-note")).to_be_visible()
    body.press(" ")
    expect(console.locator("#paused-note")).to_be_hidden()
    body.press("ArrowRight")  # a running step: it asks first
    expect(console.locator("#confirm")).to_be_visible()
    console.keyboard.press("Enter")
    expect(console.locator("#step-title")).to_have_text(
        "15:00 · Clôture par M. le Recteur de la région académique"
    )
    console.keyboard.press("Control+z")
    expect(console.locator("#step-title")).to_have_text(
        "14:00 · Restitution des ateliers et propositions"
    )
    console.close()


def test_the_plenary_panel_opens_on_a_plenary_and_folds_by_hand_until_the_step_changes(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, GRAND_EST, "step.goto", step="ouverture")
    console = open_console(live_server, browser, FULL_HD)
    fold = console.get_by_role("button", name="Plénière en visio")
    expect(fold).to_have_attribute("aria-expanded", "true")
    expect(console.locator("#console-mosaic li")).to_have_count(7)
    expect(console.locator("#console-mosaic")).to_be_visible()
    fold.focus()
    console.keyboard.press("Enter")  # folded by hand, from the keyboard
    plenary_folded(console)
    command(live_server, GRAND_EST, "timer.adjust", minutes=1)  # the same step goes on
    expect(console.locator("#countdown")).to_have_text(re.compile(r"^4[56]:\d\d$"))
    plenary_folded(console)
    command(live_server, GRAND_EST, "step.goto", step="ateliers")
    plenary_folded(console)
    command(live_server, GRAND_EST, "step.goto", step="remarquables")  # a round table
    expect(fold).to_have_attribute("aria-expanded", "true")
    expect(console.locator("#console-mosaic")).to_be_visible()
    console.close()


def test_the_drift_reads_in_hours_and_minutes(live_server: LiveServer, browser: Any) -> None:
    command(live_server, GRAND_EST, "step.goto", step="ateliers")  # the day starts at 10:30
    command(live_server, GRAND_EST, "step.goto", step="restitution")  # planned at 14:00
    console = open_console(live_server, browser, FULL_HD)
    expect(console.locator("#drift")).to_have_text(re.compile(r"^3 h 3\d min d'avance$"))
    console.close()
    console = open_console(live_server, browser, FULL_HD, lang="en")
    expect(console.locator("#drift")).to_have_text(re.compile(r"^3 h 3\d min ahead$"))
    console.close()


def test_normal_states_are_not_in_the_error_red(live_server: LiveServer, browser: Any) -> None:
    command(live_server, GRAND_EST, "step.goto", step="ateliers")
    console = open_console(live_server, browser, FULL_HD)
    running = console.locator("#workshop-timers li .status").first
    expect(running).to_have_text("en cours")
    assert running.evaluate("(e) => getComputedStyle(e).color") != DANGER
    command(live_server, GRAND_EST, "step.goto", step="restitution")
    waiting = console.locator("#queue li[data-status=pending] .status").first
    expect(waiting).to_have_text("en attente")
    assert waiting.evaluate("(e) => getComputedStyle(e).color") != DANGER
    console.close()


TOO_SMALL = """() => [...document.querySelectorAll("main :is(button, summary, select, input)")]
  .filter((e) => e.getClientRects().length && !e.closest("[hidden], dialog"))
  .map((e) => [e, e.getBoundingClientRect()])
  .filter(([, r]) => r.width < 44 || r.height < 44)
  .map(([e, r]) => [e, e.getAttribute("aria-label") || e.textContent.trim(), r])
  .map(([e, name, r]) => `${e.tagName}#${e.id} ${name} ${r.width}x${r.height}`)"""


@pytest.mark.parametrize("step", ["ateliers", "restitution"])
def test_on_a_phone_the_console_is_usable_without_sideways_scrolling(
    live_server: LiveServer, browser: Any, step: str
) -> None:
    command(live_server, GRAND_EST, "step.goto", step=step)
    console = open_console(live_server, browser, PHONE)
    expect(console.locator("#workshop-timers li, #queue li")).to_have_count(WORKSHOPS)
    assert console.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    too_small = console.evaluate(TOO_SMALL)
    assert too_small == [], "\n".join(too_small)
    if step == "ateliers":
        plus5 = console.locator("#workshop-timers li").last.get_by_role("button", name="+5 min")
        plus5.click()  # scrolled to, pressed
        expect(console.locator("#workshop-timers li").last.locator(".ws-countdown")).to_have_text(
            re.compile(r"^1:3[45]:\d\d$")
        )
    else:
        after = next_speaker(live_server)
        console.get_by_role("button", name="Orateur suivant").click()
        expect(console.locator("#queue li").nth(after)).to_have_attribute("data-status", "speaking")
    assert axe_violations(console) == []
    console.close()
