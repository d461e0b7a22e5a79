"""The links sheet of the organizer's desk, on the real server: every link of the event by
who gets it, the same at every visit; a new link beside the old one; revocation that
refuses the link and closes its open pages; a printable sheet per site, in HTML and PDF."""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.server.test_live_hardening import closed_with
from tests.support.loopcheck import slow_steps
from tests.support.servers import LiveServer

EVENT = "poitiers-2020"
SITES = ("poitiers", "niort", "angouleme", "saint-jean")
WORKSHOPS = (
    "acces-poitiers",
    "gouvernance-poitiers",
    "enseigner-niort",
    "ensemble-angouleme",
    "responsable-saint-jean",
)
SPEAKERS = ("Madame la Rectrice", "Nathalie Morin", "Madame la Rectrice de la région académique")
PAGES = {
    "facilitator": "console",
    "organizer": "organize",
    "screen": "screen",
    "host": "host",
    "participant": "me",
    "rapporteur": "notes",
    "speaker": "speak",
}


class Sheet:
    """An organizer with the links sheet open."""

    def __init__(self, server: LiveServer, client: httpx.Client) -> None:
        self.server, self.client = server, client
        self.k = server.link(EVENT, "organizer")
        self.base = f"{server.url}/e/{EVENT}/links"

    def get(self, path: str = "", k: str | None = None, **params: str) -> httpx.Response:
        return self.client.get(self.base + path, params={"k": self.k if k is None else k, **params})

    def post(self, action: str, k: str | None = None, **form: str) -> httpx.Response:
        url = f"{self.base}/{action}"
        return self.client.post(url, params={"k": self.k if k is None else k}, data=form)

    def page(self, path: str = "", **params: str) -> str:
        r = self.get(path, **params)
        assert r.status_code == 200, r.text
        return r.text

    def links(self, path: str = "") -> dict[str, str]:
        """LinkSlot -> the link the sheet shows for it now (its address, copy field first)."""
        return entries(self.page(path))

    def entry(self, slot: str) -> str:
        """The HTML of one slot's entry on the sheet."""
        text = self.page()
        start = text.index(f'data-slot="{html.escape(slot)}"')
        return text[start : text.index("</article>", start)]

    def reissue(self, slot: str) -> httpx.Response:
        return self.post("reissue", slot=slot)

    def revoke(self, slot: str, link: str) -> httpx.Response:
        return self.post("revoke", slot=slot, link=link_id(self.server, link))


def entries(text: str) -> dict[str, str]:
    found = re.findall(
        r'data-slot="([^"]+)".*?<input id="[^"]+" class="url" type="text" readonly value="([^"]+)"',
        text,
        re.S,
    )
    return {html.unescape(slot): html.unescape(link) for slot, link in found}


def printed(text: str) -> dict[str, str]:
    """LinkSlot -> link, on a site's printable sheet (the address is printed in full)."""
    found = re.findall(r'data-slot="([^"]+)".*?<p class="url">([^<]+)</p>', text, re.S)
    return {html.unescape(slot): html.unescape(link) for slot, link in found}


def token(link: str) -> str:
    return str(httpx.URL(link).params["k"])


def link_id(server: LiveServer, link: str) -> str:
    return server.signer.verify(token(link), EVENT, now=0).id


@pytest.fixture
def sheet(live_server: LiveServer) -> Iterator[Sheet]:
    with httpx.Client(timeout=30, follow_redirects=True) as client:
        yield Sheet(live_server, client)


def expected_slots() -> set[str]:
    return (
        {"public", "facilitator", "organizer"}
        | {f"{role}:{s}" for role in ("screen", "host", "participant") for s in SITES}
        | {f"rapporteur:{w}" for w in WORKSHOPS}
        | {f"speaker:{name}" for name in SPEAKERS}
    )


def test_the_sheet_lists_a_link_per_role_and_place_and_each_opens_its_page(
    sheet: Sheet,
) -> None:
    desk = sheet.client.get(f"{sheet.server.url}/e/{EVENT}/organize", params={"k": sheet.k})
    assert 'id="links-sheet"' in desk.text  # reached from the desk
    links = sheet.links()
    assert set(links) == expected_slots()
    for slot, link in links.items():
        role = slot.split(":")[0]
        if role == "public":
            assert link == f"{sheet.server.url}/e/{EVENT}"
        else:
            claims = sheet.server.signer.verify(token(link), EVENT)
            assert claims.role == role
            assert link.startswith(f"{sheet.server.url}/e/{EVENT}/{PAGES[role]}?k="), slot
            if role in ("screen", "host", "participant"):
                assert claims.site == slot.split(":")[1]
            if role == "rapporteur":
                assert claims.workshop == slot.split(":")[1]
        assert sheet.client.get(link).status_code == 200, slot
    page = html.unescape(sheet.page())
    assert "À ouvrir sur l'ordinateur du vidéoprojecteur de la salle, en plein écran." in page
    assert page.count("<svg") == len(links)  # a QR code each
    assert page.count('data-copy="') >= len(links)  # a copy button each
    assert 'src="/static/js/links-sheet.js"' in page and "<script>" not in page


def test_the_sheet_shows_the_same_links_at_every_visit(sheet: Sheet) -> None:
    first = sheet.links()
    assert sheet.links() == first
    sheet.server.restart()
    assert sheet.links() == first


def test_only_an_organizer_link_opens_the_sheet(sheet: Sheet) -> None:
    link = sheet.server.link
    assert sheet.get(k="").status_code == 401
    assert sheet.get(k="forged.token").status_code == 401
    for role, claims in (("facilitator", {}), ("screen", {"site": "niort"})):
        refused = link(EVENT, role, **claims)
        assert sheet.get(k=refused).status_code == 403, role
        assert sheet.get("/niort", k=refused).status_code == 403, role
        assert sheet.get("/niort", k=refused, format="pdf").status_code == 403, role
    assert sheet.get(k=link("ariege-2020", "organizer")).status_code == 403
    facilitator = link(EVENT, "facilitator")
    before = sheet.links()
    screen = before["screen:niort"]
    assert sheet.post("reissue", k=facilitator, slot="screen:niort").status_code == 403
    assert sheet.post("revoke", k=facilitator, slot="screen:niort", link=screen).status_code == 403
    assert sheet.links() == before
    assert sheet.client.get(screen).status_code == 200


def test_a_new_link_differs_and_the_old_one_keeps_working(sheet: Sheet) -> None:
    old = sheet.links()["screen:niort"]
    r = sheet.reissue("screen:niort")
    assert r.status_code == 200
    assert "L'ancien fonctionne toujours" in html.unescape(r.text)
    new = sheet.links()["screen:niort"]
    assert new != old and link_id(sheet.server, new) != link_id(sheet.server, old)
    assert sheet.client.get(new).status_code == 200
    assert sheet.client.get(old).status_code == 200  # not revoked: still opens the screen
    entry = html.unescape(sheet.entry("screen:niort"))
    assert "Liens précédents" in entry and old in entry and "fonctionne toujours" in entry
    others = {k: v for k, v in sheet.links().items() if k != "screen:niort"}
    assert all(v != old for v in others.values())


async def test_revoking_a_link_refuses_it_and_closes_its_open_page(sheet: Sheet) -> None:
    screen = sheet.links()["screen:niort"]
    ws = await connect(f"{sheet.server.ws_url}/ws/events/{EVENT}?k={token(screen)}")
    await ws.send(json.dumps({"type": "hello", "since": None, "epoch": None}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "snapshot"
    r = await asyncio.to_thread(sheet.revoke, "screen:niort", screen)
    assert r.status_code == 200
    code, frames = await closed_with(ws)
    assert code == 4403
    assert [f["code"] for f in frames if f["type"] == "error"] == ["link_revoked"]
    refused = await asyncio.to_thread(sheet.client.get, screen)
    assert refused.status_code == 403 and "révoqué" in refused.text
    entry = html.unescape(await asyncio.to_thread(sheet.entry, "screen:niort"))
    assert 'data-status="revoked"' in entry and "Révoqué" in entry
    assert "<svg" not in entry  # no QR code to scan for a link that opens nothing
    assert (await asyncio.to_thread(sheet.links))["screen:niort"] == screen  # shown, marked


def test_an_earlier_link_is_revoked_from_the_sheet_too(sheet: Sheet) -> None:
    old = sheet.links()["rapporteur:enseigner-niort"]
    sheet.reissue("rapporteur:enseigner-niort")
    new = sheet.links()["rapporteur:enseigner-niort"]
    assert sheet.revoke("rapporteur:enseigner-niort", old).status_code == 200
    assert sheet.client.get(old).status_code == 403
    assert sheet.client.get(new).status_code == 200


def test_a_link_not_of_that_place_or_the_one_in_use_is_not_revoked(sheet: Sheet) -> None:
    links = sheet.links()
    r = sheet.revoke("screen:poitiers", links["screen:niort"])
    assert r.status_code == 404
    assert sheet.client.get(links["screen:niort"]).status_code == 200
    own = links["organizer"]
    r = sheet.post("revoke", k=token(own), slot="organizer", link=link_id(sheet.server, own))
    assert r.status_code == 409 and "Rien n'a été modifié" in html.unescape(r.text)
    assert sheet.client.get(own).status_code == 200
    assert sheet.post("reissue", slot="screen:nowhere").status_code == 404


def test_a_sites_printable_sheet_has_only_that_sites_links(sheet: Sheet) -> None:
    everything = sheet.links()
    page = sheet.page("/niort")
    niort = printed(page)
    assert set(niort) == {
        "screen:niort",
        "host:niort",
        "participant:niort",
        "rapporteur:enseigner-niort",
    }
    assert all(niort[slot] == everything[slot] for slot in niort)
    others = [v for k, v in everything.items() if k not in niort and k != "public"]
    assert not [link for link in others if link in page]
    text = html.unescape(page)
    assert "Lycée Paul Guérin, Niort" in text and "À ouvrir sur" in text
    assert text.count("<svg") == 4 and "/static/css/links.css" in text
    hub = sheet.page("/poitiers")
    assert everything["speaker:Nathalie Morin"] in hub  # she speaks from the hub
    assert everything["speaker:Madame la Rectrice"] not in hub  # remote
    assert sheet.get("/nowhere").status_code == 404


def test_the_print_stylesheet_lays_out_an_a4_page() -> None:
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "links.css").read_text()
    assert "@media print" in css and "size: A4" in css and "break-inside: avoid" in css


def test_a_sites_sheet_as_pdf_is_a_pdf(sheet: Sheet) -> None:
    r = sheet.get("/saint-jean", format="pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert "liens-poitiers-2020-saint-jean.pdf" in r.headers["content-disposition"]
    assert sheet.get("/saint-jean", format="docx").status_code == 400


def test_the_sheet_reads_in_english_on_request(sheet: Sheet) -> None:
    page = html.unescape(sheet.page(lang="en"))
    assert "Event links" in page and "Room screen" in page and "New link" in page
    assert "Open on the computer of the room's projector, full screen." in page
    printed = html.unescape(sheet.page("/niort", lang="en"))
    assert "Site links" in printed and "Print" in printed
    assert sheet.get("/niort", format="pdf", lang="en").content.startswith(b"%PDF")


@pytest.mark.browser
def test_the_copy_button_copies_the_link_and_says_so(sheet: Sheet, browser: Any) -> None:
    from playwright.sync_api import expect

    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=sheet.server.url)
    page = context.new_page()
    page.goto(f"{sheet.base}?k={sheet.k}")
    entry = page.locator('[data-slot="screen:niort"]')
    entry.get_by_role("button", name=re.compile("^Copier")).click()
    expect(entry.get_by_role("status").first).to_have_text("Copié")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == sheet.links()["screen:niort"]
    context.close()


def test_the_sheets_of_a_large_day_hold_the_loop_no_longer_than_50_ms(tmp_path: Path) -> None:
    """The seven-site regional day: some sixty QR codes on the sheet, a site's PDF."""
    server = LiveServer(tmp_path / "data", slow_callback=0.05)
    server.start()
    try:
        event, k = "grand-est-2020", {"k": server.link("grand-est-2020", "organizer")}
        base = f"{server.url}/e/{event}/links"
        time.sleep(1.5)  # past the start (its one full collection of the startup heap)
        start = len(server.log())
        with httpx.Client(timeout=120) as client:
            for _ in range(2):  # issuing every link, then showing the kept ones
                assert client.get(base, params=k).status_code == 200
            assert client.get(f"{base}/nancy", params=k).status_code == 200
            pdf = client.get(f"{base}/nancy", params=k | {"format": "pdf"})
            assert pdf.content.startswith(b"%PDF")
        assert slow_steps(server.log()[start:]) == []
    finally:
        server.stop()


def test_a_site_screen_shows_the_participants_link_of_the_sheet(sheet: Sheet) -> None:
    """The QR code on Niort's screen is the sheet's participants' link of Niort: revoking
    it there gives the screen a new one (and the old is listed, revoked)."""
    from live.web.plenary_pages import qr_svg

    screen = sheet.links()["screen:niort"]
    participants = sheet.links()["participant:niort"]
    assert qr_svg(participants) in sheet.client.get(screen).text
    sheet.revoke("participant:niort", participants)
    shown = sheet.client.get(screen).text
    assert qr_svg(participants) not in shown
    fresh = sheet.links()["participant:niort"]
    assert fresh != participants and qr_svg(fresh) in shown
    assert "Liens précédents" in html.unescape(sheet.entry("participant:niort"))
