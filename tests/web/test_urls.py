"""Every address from the one route table: a route's path with its query, the page a
role's link opens, the same under the public base URL; without a running app (the CLI)
as with one."""

from __future__ import annotations

import pytest
from starlette.routing import NoMatchFound

from live.links.signing import ROLES
from live.web.routes import all_routes, urls
from live.web.urls import ROLE_PAGES, Urls

URLS = urls("https://relais.example/")


def test_a_roles_link_opens_its_page() -> None:
    pages = {
        "facilitator": "/e/ev/console?k=T",
        "organizer": "/e/ev/organize?k=T",
        "screen": "/e/ev/screen?k=T",
        "host": "/e/ev/host?k=T",
        "participant": "/e/ev/me?k=T",
        "rapporteur": "/e/ev/notes?k=T",
        "speaker": "/e/ev/speak?k=T",
    }
    for role, page in pages.items():
        assert URLS.link("ev", role, "T") == page
    assert URLS.link("ev", "public") == "/e/ev"  # no link: the public page
    assert set(ROLE_PAGES) == set(ROLES)  # every role's link opens a page


def test_absolute_addresses_are_under_the_base_url() -> None:
    assert URLS.link_url("ev", "facilitator", "T") == "https://relais.example/e/ev/console?k=T"
    assert URLS.url("event", event_id="ev") == "https://relais.example/e/ev"
    assert URLS.url("admin", k="A") == "https://relais.example/admin?k=A"
    assert urls().link_url("ev", "screen", "T") == "/e/ev/screen?k=T"  # no base: a path


def test_a_links_address_opens_its_roles_page() -> None:
    assert URLS.link_url("ev", "facilitator", "T") == "https://relais.example/e/ev/console?k=T"
    assert URLS.link_url("ev", "screen", "T") == "https://relais.example/e/ev/screen?k=T"
    assert URLS.link_url("ev", "participant", "T") == "https://relais.example/e/ev/me?k=T"
    assert URLS.link_url("ev", "organizer", "T") == "https://relais.example/e/ev/organize?k=T"


def test_link_tokens_and_formats_go_in_the_query_the_rest_in_the_path() -> None:
    assert URLS.path("console", event_id="ev", k="T", lang="en") == "/e/ev/console?k=T&lang=en"
    assert (
        URLS.path("links_site", event_id="ev", site_id="niort", format="pdf", k="T")
        == "/e/ev/links/niort?format=pdf&k=T"
    )
    assert URLS.path("notes_view", event_id="ev", workshop_id="a", w="x") == "/e/ev/notes/a?w=x"
    assert (
        URLS.path("console", event_id="ev", k="", lang=None) == "/e/ev/console"
    )  # empty: left out
    extra = URLS.path("links", {"done": "revoke", "slot": "speaker:Nom"}, event_id="ev", k="T")
    assert extra == "/e/ev/links?k=T&done=revoke&slot=speaker%3ANom"
    assert URLS.path("static", path="/css/links.css") == "/static/css/links.css"
    with pytest.raises(NoMatchFound):
        URLS.path("nowhere")


def test_the_running_apps_router_gives_the_same() -> None:
    from live.app import create_app
    from live.config import Settings

    app = create_app(Settings(secret="s", backend="memory"))
    served = Urls(app.router, "https://relais.example")
    assert served.link_url("ev", "host", "T") == URLS.link_url("ev", "host", "T")
    names = {getattr(r, "name", None) for r in all_routes()}
    assert {getattr(r, "name", None) for r in app.router.routes} <= names
