"""One refusal per kind, said the same way wherever it comes from (`web.common.refused`):
a page in the reader's language for a person, JSON `{"error", "message"}` for a program
(the API, WHIP/WHEP, a client asking for JSON), with the status of `errors.http_status`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from live.app import create_app
from live.config import Settings
from live.links.signing import Signer

SECRET = "test-secret-refusals"
EVENT = "poitiers-2020"  # a demo event


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, backend="memory", secret=SECRET, demo=True)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relais.test") as c:
            yield c


def organizer() -> str:
    return Signer(SECRET).sign(EVENT, "organizer")


def json_of(response: httpx.Response) -> Any:
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


async def test_an_unknown_event_page_says_so_in_french(http: httpx.AsyncClient) -> None:
    page = await http.get("/e/no-such-event")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Événement introuvable" in page.text and "Vérifiez le lien" in page.text
    english = await http.get("/e/no-such-event?lang=en")
    assert english.status_code == 404 and "Event not found" in english.text


async def test_an_api_404_is_json_with_its_sentence(http: httpx.AsyncClient) -> None:
    state = await http.get("/api/events/no-such-event/state")
    assert state.status_code == 404
    assert json_of(state) == {"error": "unknown_event", "message": "Événement introuvable."}
    info = await http.get("/api/events/no-such-event/info?lang=en")
    assert json_of(info) == {"error": "unknown_event", "message": "Unknown event."}
    nowhere = await http.get("/api/nowhere")  # no such route: Starlette's 404, as JSON
    assert nowhere.status_code == 404 and json_of(nowhere)["error"] == "not_found_page"


async def test_a_whip_refusal_is_json_with_its_message(http: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/sdp"}
    refused = await http.post(f"/e/{EVENT}/whip", content="v=0", headers=headers)
    assert refused.status_code == 401
    assert json_of(refused) == {
        "error": "link_missing",
        "message": "Cette page demande un lien personnel.",
    }
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert refused.headers["access-control-allow-origin"] == "*"  # read from another origin
    unknown = await http.post("/e/no-such-event/whip?lang=en", content="v=0", headers=headers)
    assert unknown.status_code == 404
    assert json_of(unknown) == {"error": "unknown_event", "message": "Unknown event."}


async def test_a_bad_format_is_a_localized_400(http: httpx.AsyncClient) -> None:
    url = f"/e/{EVENT}/synthesis?format=docx&k={organizer()}"
    page = await http.get(url)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "Format inconnu : choisissez parmi md, html, pdf." in page.text
    english = await http.get(url + "&lang=en")
    assert english.status_code == 400 and "Unknown format: choose one of md" in english.text
    http.cookies.clear()  # the English page left its language in a cookie
    program = await http.get(url, headers={"Accept": "application/json"})
    assert program.status_code == 400
    assert json_of(program) == {
        "error": "bad_format",
        "message": "Format inconnu : choisissez parmi md, html, pdf.",
        "params": {"formats": "md, html, pdf"},
    }
