"""Every page names its icon, and the icon is served: no page makes the browser ask for a
favicon that is not there (a 404 on every page, in the log and in the console)."""

from __future__ import annotations

import re
import urllib.request
from typing import Any

import pytest

from tests.browser.test_accessibility import pages
from tests.support.servers import LiveServer

ICON = re.compile(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">')


def test_every_page_links_an_icon_that_is_served(live_server: LiveServer) -> None:
    icons = set()
    for name, path in pages(live_server).items():
        try:
            with urllib.request.urlopen(live_server.url + path) as r:
                html = r.read().decode()
        except urllib.error.HTTPError as refused:  # a refused link's page is a page too
            html = refused.read().decode()
        found = ICON.search(html)
        assert found, f"{name} names no icon"
        icons.add(found.group(1))
    assert icons == {"/static/favicon.svg"}
    with urllib.request.urlopen(live_server.url + "/static/favicon.svg") as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("image/svg+xml")
        assert b"<svg" in r.read()


@pytest.mark.browser
def test_no_page_asks_chromium_for_something_missing(live_server: LiveServer, browser: Any) -> None:
    missing: list[str] = []
    page = browser.new_page()
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    for name, path in pages(live_server).items():
        if name == "refused link":
            continue  # answered 401 on purpose
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
    page.close()
    assert missing == []
