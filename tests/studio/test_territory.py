"""An event's territory in the studio: shown, offered from the reference's codes, saved,
and an unknown one refused at its field with nothing changed."""

from __future__ import annotations

import html

import httpx
import pytest

from live.app import demo_definitions
from live.event_file import DefinitionError, parse_event
from tests.studio.test_studio import http, save, studio_page  # noqa: F401 - the fixture
from tests.support.servers import LiveServer
from tests.support.studio_forms import form_fields

ARIEGE = "ariege-2020"


def fields(server: LiveServer, client: httpx.Client) -> dict[str, str]:
    return dict(form_fields(studio_page(server, client, ARIEGE), "studio-form"))


def test_the_studio_shows_and_saves_the_events_territory(
    live_server: LiveServer,
    http: httpx.Client,  # noqa: F811
) -> None:
    page = studio_page(live_server, http, ARIEGE)
    assert 'id="f-territory"' in page and '<option value="ac-toulouse">' in page
    form = fields(live_server, http)
    assert form["territory"] == "dep-09"
    saved = save(live_server, http, ARIEGE, {**form, "territory": "ac-toulouse"})
    assert saved.status_code in (200, 303), saved.text[:300]
    assert fields(live_server, http)["territory"] == "ac-toulouse"


def test_an_unknown_territory_is_refused_at_its_field_and_nothing_changes(
    live_server: LiveServer,
    http: httpx.Client,  # noqa: F811
) -> None:
    form = fields(live_server, http)
    refused = save(live_server, http, ARIEGE, {**form, "territory": "dep-999"})
    assert refused.status_code == 422
    assert "Territoire inconnu « dep-999 »" in html.unescape(refused.text)
    assert fields(live_server, http)["territory"] == "dep-09"


def test_an_event_file_with_an_unknown_territory_is_refused() -> None:
    text = demo_definitions()["ariege-2020.yaml"]
    with pytest.raises(DefinitionError, match="atlantide"):
        parse_event(text.replace("territory: dep-09", "territory: atlantide"))
