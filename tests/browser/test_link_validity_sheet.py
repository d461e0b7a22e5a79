"""Link validity on the real server: an event months ahead gets links that work on its
day (the links sheet's, a person's own); the organizer chooses a new link's last day on
the sheet; every sheet, printed or PDF, says until when each link works and warns when
one would stop before the event is over. Dates are taken months away from today, so no
assertion depends on the hour the test runs."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from live.links.signing import LinkError, Signer, day_end
from tests.links.test_sheet import entries, printed, token
from tests.people.test_registration import GOOD, personal_link, post
from tests.support.servers import SECRET, LiveServer, unavailable

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"
AXE = Path(__file__).resolve().parents[2] / "js" / "node_modules" / "axe-core" / "axe.min.js"
PARIS = ZoneInfo("Europe/Paris")
EVENT = "ariege-ahead"
TODAY = datetime.now(PARIS).date()
DAY = TODAY + timedelta(days=200)  # the event, months ahead: 60 days from issue miss it


def fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def moment(day: date, hour: int) -> float:
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS).timestamp()


class Sheet:
    """An organizer with the links sheet of an event 200 days ahead."""

    def __init__(self, server: LiveServer, client: httpx.Client) -> None:
        self.server, self.client = server, client
        self.k = server.link(EVENT, "organizer")
        self.base = f"{server.url}/e/{EVENT}/links"

    def page(self, path: str = "", **params: str) -> str:
        r = self.client.get(self.base + path, params={"k": self.k, **params})
        assert r.status_code == 200, r.text
        return html.unescape(r.text)

    def entry(self, slot: str, path: str = "") -> str:
        text = self.page(path)
        start = text.index(f'data-slot="{slot}"')
        return text[start : text.index("</article>", start)]

    def reissue(self, slot: str, until: str, **params: str) -> httpx.Response:
        return self.client.post(
            f"{self.base}/reissue",
            params={"k": self.k, **params},
            data={"slot": slot, "until": until},
        )


def ahead_server(tmp_path: Path) -> LiveServer:
    server = LiveServer(tmp_path / "data")
    text = (DEMO / "ariege-2020.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^id: .*$", f"id: {EVENT}", text)
    text = re.sub(r"(?m)^date: .*$", f"date: {DAY.isoformat()}", text)
    server.import_event(text, EVENT)
    server.start()
    return server


@pytest.fixture
def sheet(tmp_path: Path) -> Iterator[Sheet]:
    server = ahead_server(tmp_path)
    try:
        with httpx.Client(timeout=60, follow_redirects=True) as client:
            yield Sheet(server, client)
    finally:
        server.stop()


def expires(link: str) -> int:
    return Signer(SECRET).verify(token(link), EVENT, now=0).expires


def test_the_sheets_links_for_an_event_months_ahead_are_valid_on_its_day(sheet: Sheet) -> None:
    links = {k: v for k, v in entries(sheet.page()).items() if k != "public"}
    assert len(links) > 10
    on_the_day = moment(DAY, 18)
    for link in links.values():
        assert Signer(SECRET).verify(token(link), EVENT, now=on_the_day)
    last = DAY + timedelta(days=7)  # the stated margin
    assert {expires(link) for link in links.values()} == {day_end(last, PARIS)}
    page = sheet.page()
    assert f"Valable jusqu'au {fr(last)} 23:59." in page
    assert f"Par défaut, un nouveau lien vaut jusqu'au {fr(last)} inclus" in page
    assert 'id="links-early"' not in page and 'class="warning state"' not in page


def test_a_person_registering_months_ahead_gets_a_personal_link_valid_on_its_day(
    sheet: Sheet,
) -> None:
    status, page = post(f"{sheet.server.url}/e/{EVENT}/register", GOOD)
    assert status == 200, page
    link = personal_link(page)
    claims = Signer(SECRET).verify(token(link), EVENT, now=moment(DAY, 18))
    assert claims.role == "participant"
    assert claims.expires == day_end(DAY + timedelta(days=7), PARIS)


def test_the_organizer_chooses_until_when_a_new_link_works(sheet: Sheet) -> None:
    before = entries(sheet.page())["screen:foix"]
    chosen = DAY + timedelta(days=30)
    assert sheet.reissue("screen:foix", chosen.isoformat()).status_code == 200
    after = entries(sheet.page())["screen:foix"]
    assert after != before and expires(after) == day_end(chosen, PARIS)
    assert f"Valable jusqu'au {fr(chosen)} 23:59." in sheet.entry("screen:foix")
    Signer(SECRET).verify(token(after), EVENT, now=moment(chosen, 23))
    with pytest.raises(LinkError):
        Signer(SECRET).verify(token(after), EVENT, now=moment(chosen + timedelta(days=1), 1))


@pytest.mark.parametrize(
    "until",
    [
        (TODAY - timedelta(days=10)).isoformat(),
        (TODAY + timedelta(days=400)).isoformat(),
        "2027-W24-3",
        "pas une date",
    ],
)
def test_a_validity_out_of_bounds_is_refused_in_french_and_english_and_changes_nothing(
    sheet: Sheet, until: str
) -> None:
    before = entries(sheet.page())
    r = sheet.reissue("screen:foix", until)
    assert r.status_code == 422
    text = html.unescape(r.text)
    assert "La validité d'un lien doit finir entre aujourd'hui" in text
    assert "Rien n'a été modifié." in text
    assert entries(sheet.page()) == before
    english = html.unescape(sheet.reissue("screen:foix", until, lang="en").text)
    assert "A link's validity must end between today" in english
    assert entries(sheet.page()) == before


def test_a_link_ending_before_the_event_is_flagged_on_every_sheet(sheet: Sheet) -> None:
    early = DAY - timedelta(days=1)
    sheet.page()  # the sheet is open: each place has its link
    assert sheet.reissue("host:foix", early.isoformat()).status_code == 200
    warning = (
        f"Attention : ce lien cessera de fonctionner avant la fin de l'événement du {fr(DAY)}."
    )
    entry = sheet.entry("host:foix")
    assert f"Valable jusqu'au {fr(early)} 23:59." in entry and warning in entry
    assert warning not in sheet.entry("screen:foix")
    assert "Liens qui cesseront de fonctionner avant la fin de l'événement : 1." in sheet.page()
    earlier = sheet.entry("host:foix")  # the link it replaced, still valid through the day
    assert "fonctionne toujours. Valable jusqu'au" in earlier
    site = sheet.page("/foix")
    assert site.count(warning) == 1 and warning in sheet.entry("host:foix", "/foix")
    pdf = sheet.client.get(f"{sheet.base}/foix", params={"k": sheet.k, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_every_entry_of_a_printed_site_sheet_says_until_when_it_works(sheet: Sheet) -> None:
    site = sheet.page("/foix")
    shown = printed(site)
    assert len(shown) >= 3
    assert site.count('<p class="validity">Valable jusqu\'au ') == len(shown)
    assert "Valid until" in sheet.page("/foix", lang="en")


# -- in Chromium ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_choosing_a_day_before_the_event_warns_at_once_and_the_new_link_says_so(
    sheet: Sheet, browser: Any, size: tuple[int, int]
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto(f"{sheet.base}?k={sheet.k}")
    entry = page.locator('[data-slot="participant:foix"]')
    field = entry.get_by_label(re.compile("^Valable jusqu'au"))
    expect(field).to_have_value((DAY + timedelta(days=7)).isoformat())
    assert field.get_attribute("min") == TODAY.isoformat()
    warning = entry.locator(".until-row + .warning")
    expect(warning).to_be_hidden()
    early = DAY - timedelta(days=3)
    field.fill(early.isoformat())
    expect(warning).to_have_text(re.compile("avant le jour de l'événement"))
    field.fill(DAY.isoformat())
    expect(warning).to_be_hidden()
    field.fill(early.isoformat())
    entry.get_by_role("button", name=re.compile("^Nouveau lien")).click()
    entry = page.locator('[data-slot="participant:foix"]')
    expect(entry.locator(".validity")).to_have_text(f"Valable jusqu'au {fr(early)} 23:59.")
    expect(entry.locator("p.warning.state")).to_contain_text("avant la fin de l'événement")
    expect(page.locator("#links-early")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    context.close()


@pytest.mark.browser
def test_the_printed_site_sheet_shows_each_links_validity_on_paper(
    sheet: Sheet, browser: Any
) -> None:
    from playwright.sync_api import expect

    assert sheet.reissue("host:foix", (DAY - timedelta(days=1)).isoformat()).status_code == 200
    context = browser.new_context(viewport={"width": 794, "height": 1123})  # A4 at 96 dpi
    page = context.new_page()
    page.emulate_media(media="print")
    page.goto(f"{sheet.base}/foix?k={sheet.k}")
    cards = page.locator(".print-entry")
    count = cards.count()
    assert count >= 3
    validity = page.locator(".print-entry .validity")
    expect(validity).to_have_count(count)
    for i in range(count):
        expect(validity.nth(i)).to_be_visible()
        expect(validity.nth(i)).to_have_text(re.compile(r"^Valable jusqu'au \d\d/\d\d/\d{4} "))
    expect(page.locator('[data-slot="host:foix"] .warning')).to_be_visible()
    expect(page.locator(".no-print")).to_be_hidden()
    context.close()


@pytest.mark.browser
def test_the_sheet_with_its_validity_controls_passes_the_wcag_rules(
    sheet: Sheet, browser: Any
) -> None:
    if not AXE.exists():
        unavailable("axe-core is not installed: npm ci --prefix js")
    assert sheet.reissue("host:foix", (DAY - timedelta(days=1)).isoformat()).status_code == 200
    page = browser.new_page(bypass_csp=True)  # axe goes in as an inline script
    for path in ("", "/foix"):
        page.goto(f"{sheet.base}{path}?k={sheet.k}")
        field = page.locator("input[type=date]").first
        if path == "":
            field.fill((DAY - timedelta(days=2)).isoformat())  # the live warning shows
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
        )
        assert result["passes"]
        assert result["violations"] == [], [v["id"] for v in result["violations"]]
    page.close()


def test_no_sheet_waits_on_the_clock() -> None:
    """The dates above are 200 days from the day the module was loaded: a run across
    midnight still finds the event months ahead (a guard against a later edit)."""
    assert (DAY - datetime.now(PARIS).date()).days >= 199
    assert time.time() < moment(DAY, 0)
