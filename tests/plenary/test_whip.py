"""WHIP and WHEP as RFC 9725 says, with Relais's signed links: the HTTP side of the plenary.

The app runs in this process (httpx's ASGI transport, the app's own lifespan) so that the
aiortc peers of the tests and the relay's share one event loop on loopback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiortc import RTCRtpSender

from live.app import create_app
from live.config import Settings
from live.links.signing import Signer
from live.plenary.service import Plenary
from tests.support.plenary_peers import Publisher, Viewer, loopback, peer, until

SECRET = "test-secret-plenary"
EVENT = "poitiers-2020"  # sites: poitiers, niort, angouleme, saint-jean
SIGNER = Signer(SECRET)
SDP = {"Content-Type": "application/sdp"}


def link(role: str, event: str = EVENT, **claims: Any) -> str:
    return SIGNER.sign(event, role, **claims)  # type: ignore[arg-type]


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.fixture
async def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    loopback(monkeypatch)
    settings = Settings(data_dir=tmp_path, backend="memory", secret=SECRET, demo=True)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://relais.test") as client:
        yield client


def plenary_of(app: Any) -> Plenary:
    plenary: Plenary = app.state.plenary
    return plenary


async def offer(kind: str = "publish", video_codec: str | None = None) -> str:
    """An offer as a WHIP (sendonly) or WHEP (recvonly) client makes it."""
    pc = peer()
    direction = "sendonly" if kind == "publish" else "recvonly"
    video = pc.addTransceiver("video", direction=direction)
    pc.addTransceiver("audio", direction=direction)
    if video_codec:
        caps = RTCRtpSender.getCapabilities("video").codecs
        video.setCodecPreferences([c for c in caps if c.name == video_codec])
    await pc.setLocalDescription(await pc.createOffer())
    sdp: str = pc.localDescription.sdp
    await pc.close()
    return sdp


async def whip(http: httpx.AsyncClient, token: str, body: str, query: str = "") -> httpx.Response:
    return await http.post(f"/e/{EVENT}/whip{query}", content=body, headers=bearer(token, **SDP))


# -- publishing and receiving -------------------------------------------------------------


async def test_a_speaker_publishes_with_whip_and_a_screen_receives_with_whep(
    app: Any, http: httpx.AsyncClient
) -> None:
    speaker = Publisher()

    async def post_whip(sdp: str) -> str:
        response = await whip(http, link("speaker"), sdp)
        assert response.status_code == 201
        assert response.headers["content-type"] == "application/sdp"
        assert response.headers["location"].startswith(f"http://relais.test/e/{EVENT}/whip/")
        assert "location" in response.headers["access-control-expose-headers"].lower()
        return response.text

    await speaker.connect(post_whip)
    screen = Viewer()
    screen_link = link("screen", site="niort")

    async def post_whep(sdp: str) -> str:
        response = await http.post(f"/e/{EVENT}/whep?k={screen_link}", content=sdp, headers=SDP)
        assert response.status_code == 201, response.text
        assert response.headers["location"].startswith(f"http://relais.test/e/{EVENT}/whep/")
        screen.location = response.headers["location"]  # type: ignore[attr-defined]
        return response.text

    await screen.connect(post_whep)
    await until(lambda: screen.count >= 30)
    assert screen.first_keyframe
    status = plenary_of(app).status(EVENT)
    assert status["feeds"]["speaker"]["publisher"]["role"] == "speaker"
    assert [r["site"] for r in status["receivers"]] == ["niort"]
    await screen.close()
    await speaker.close()


async def test_delete_on_the_location_ends_the_session_and_only_once(
    app: Any, http: httpx.AsyncClient
) -> None:
    token = link("speaker")
    response = await whip(http, token, await offer())
    assert response.status_code == 201
    location = response.headers["location"]
    ended = await http.delete(location, headers=bearer(token))
    assert ended.status_code == 200
    assert plenary_of(app).sessions == {}
    assert plenary_of(app).status(EVENT)["feeds"]["speaker"]["publisher"] is None
    again = await http.delete(location, headers=bearer(token))
    assert again.status_code == 404 and again.json()["error"] == "no_such_session"


async def test_only_the_link_that_opened_a_session_may_end_it(
    app: Any, http: httpx.AsyncClient
) -> None:
    token = link("screen", site="niort")
    response = await http.post(
        f"/e/{EVENT}/whep", content=await offer("receive"), headers=bearer(token, **SDP)
    )
    assert response.status_code == 201
    location = response.headers["location"]
    other = await http.delete(location, headers=bearer(link("screen", site="niort")))
    assert other.status_code == 403 and other.json()["error"] == "forbidden"
    anonymous = await http.delete(location)
    assert anonymous.status_code == 401 and "Bearer" in anonymous.headers["www-authenticate"]
    guessed = await http.delete(f"/e/{EVENT}/whep/not-a-session", headers=bearer(token))
    assert guessed.status_code == 404
    assert len(plenary_of(app).sessions) == 1, "still open"
    assert (await http.delete(location + f"?k={token}")).status_code == 200


async def test_options_answers_the_cors_preflight(http: httpx.AsyncClient) -> None:
    for path in (f"/e/{EVENT}/whip", f"/e/{EVENT}/whep"):
        response = await http.options(
            path,
            headers={"Origin": "https://obs.example", "Access-Control-Request-Method": "POST"},
        )
        assert response.status_code == 204
        assert response.headers["accept-post"] == "application/sdp"
        assert response.headers["access-control-allow-origin"] == "*"
        assert "POST" in response.headers["access-control-allow-methods"]
        allowed = response.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed
        assert "location" in response.headers["access-control-expose-headers"].lower()
    session = await http.options(f"/e/{EVENT}/whip/abc")
    assert (
        session.status_code == 204 and "DELETE" in session.headers["access-control-allow-methods"]
    )


async def test_patch_gets_405_as_there_is_no_trickle_ice(http: httpx.AsyncClient) -> None:
    response = await http.patch(f"/e/{EVENT}/whip/abc", content=b"a=end-of-candidates")
    assert response.status_code == 405


# -- refusals: each a clear error, and nothing set up ---------------------------------------


async def test_a_link_of_another_event_or_role_is_refused(
    app: Any, http: httpx.AsyncClient
) -> None:
    publish, receive = await offer(), await offer("receive")
    cases = [
        ("whip", link("speaker", event="ariege-2020"), publish, 403, "link_wrong_event"),
        ("whip", link("participant", person="p1"), publish, 403, "link_role"),
        ("whip", link("facilitator"), publish, 403, "link_role"),
        ("whep", link("participant", person="p1"), receive, 403, "link_role"),
        ("whep", link("rapporteur", workshop="w"), receive, 403, "link_role"),
        (
            "whep",
            link("screen", event="ariege-2020", site="foix"),
            receive,
            403,
            "link_wrong_event",
        ),
        ("whep", link("screen", site="niort") + "x", receive, 401, "link_invalid"),
    ]
    for kind, token, body, status, code in cases:
        response = await http.post(f"/e/{EVENT}/{kind}", content=body, headers=bearer(token, **SDP))
        assert (response.status_code, response.json()["error"]) == (status, code), (kind, code)
    missing = await http.post(f"/e/{EVENT}/whip", content=publish, headers=SDP)
    assert missing.status_code == 401
    assert plenary_of(app).sessions == {}


async def test_a_second_publisher_is_refused_with_409(app: Any, http: httpx.AsyncClient) -> None:
    first = await whip(http, link("speaker"), await offer())
    assert first.status_code == 201
    plenary = plenary_of(app)
    second = await whip(http, link("speaker"), await offer())
    assert second.status_code == 409 and second.json()["error"] == "plenary_busy"
    assert len(plenary.sessions) == 1


async def test_a_site_feed_is_published_by_that_sites_host_only(
    app: Any, http: httpx.AsyncClient
) -> None:
    host = link("host", site="niort")
    other_feed = await whip(http, host, await offer(), "?feed=site:angouleme")
    assert other_feed.status_code == 403
    speaker_feed = await whip(http, host, await offer(), "?feed=speaker")
    assert speaker_feed.status_code == 403
    assert plenary_of(app).sessions == {}
    own = await whip(http, host, await offer())
    assert own.status_code == 201
    assert plenary_of(app).status(EVENT)["feeds"]["site:niort"]["publisher"]["site"] == "niort"


async def test_a_malformed_offer_gets_400_in_the_readers_language(
    app: Any, http: httpx.AsyncClient
) -> None:
    token = link("speaker")
    for body in ("hello", "v=0\r\nm=video x y\r\n", (await offer())[:300]):
        response = await whip(http, token, body)
        assert response.status_code == 400 and response.json()["error"] == "sdp_invalid"
    fr = (await whip(http, token, "hello")).json()["message"]
    en = (await whip(http, token, "hello", "?lang=en")).json()["message"]
    assert fr.startswith("Offre SDP illisible") and en.startswith("Unreadable SDP offer")
    assert plenary_of(app).sessions == {}


async def test_an_offer_without_the_relays_codec_or_not_as_sdp_gets_415(
    app: Any, http: httpx.AsyncClient
) -> None:
    token = link("speaker")
    h264_only = await whip(http, token, await offer(video_codec="H264"))
    assert h264_only.status_code == 415 and h264_only.json()["error"] == "sdp_codec"
    as_text = await http.post(
        f"/e/{EVENT}/whip",
        content=await offer(),
        headers=bearer(token, **{"Content-Type": "text/plain"}),
    )
    assert as_text.status_code == 415 and as_text.json()["error"] == "sdp_type"
    assert plenary_of(app).sessions == {}


async def test_an_offer_too_long_is_refused_before_it_is_read(
    app: Any, http: httpx.AsyncClient
) -> None:
    response = await whip(http, link("speaker"), "v=0\r\n" + "a=x\r\n" * 20_000)
    assert response.status_code == 413
    assert plenary_of(app).sessions == {}


async def test_an_unknown_event_or_feed_gets_404(http: httpx.AsyncClient) -> None:
    response = await http.post("/e/nope/whep", content=await offer("receive"), headers=SDP)
    assert response.status_code == 404
    token = link("screen", site="niort")
    tile = await http.post(
        f"/e/{EVENT}/whep?feed=site:nowhere",
        content=await offer("receive"),
        headers=bearer(token, **SDP),
    )
    assert tile.status_code == 404 and tile.json()["error"] == "no_such_feed"


# -- the link's life ----------------------------------------------------------------------


async def test_revoking_the_speakers_link_ends_its_session(
    app: Any, http: httpx.AsyncClient
) -> None:
    token = link("speaker")
    assert (await whip(http, token, await offer())).status_code == 201
    claims = SIGNER.verify(token, EVENT)
    await app.state.links.revoke(EVENT, claims.id)
    await until(lambda: not plenary_of(app).sessions)
    assert plenary_of(app).status(EVENT)["feeds"]["speaker"]["publisher"] is None
    again = await whip(http, token, await offer())
    assert again.status_code == 403 and again.json()["error"] == "link_revoked"


async def test_the_console_reads_the_status_with_its_link(http: httpx.AsyncClient) -> None:
    response = await http.get(f"/e/{EVENT}/plenary?k={link('facilitator')}")
    assert response.status_code == 200
    body = response.json()
    assert body["program"] == "speaker" and body["codecs"] == {"video": "VP8", "audio": "opus"}
    refused = await http.get(f"/e/{EVENT}/plenary?k={link('participant', person='p')}")
    assert refused.status_code == 403


def test_every_plenary_refusal_reads_in_french_and_english() -> None:
    from live.i18n import LANGS, messages

    codes = ("sdp_invalid", "sdp_type", "sdp_codec", "plenary_busy", "no_such_session")
    codes += ("no_such_feed", "too_many_connections", "too_large", "forbidden")
    for lang in LANGS:
        assert [c for c in codes if f"error.{c}" not in messages(lang)] == []


async def test_a_screen_tells_whether_it_plays_the_sound_and_only_for_its_own_session(
    app: Any, http: httpx.AsyncClient
) -> None:
    """The console lists the screens nobody clicked (`sound` in the relay's status)."""
    screen = link("screen", site="niort")
    response = await http.post(
        f"/e/{EVENT}/whep", content=await offer("receive"), headers=bearer(screen, **SDP)
    )
    assert response.status_code == 201
    sound = response.headers["location"] + "/sound"
    assert (
        await http.post(sound, params={"sound": "muted"}, headers=bearer(screen))
    ).status_code == 204
    (row,) = [r for r in plenary_of(app).status(EVENT)["receivers"] if r["site"] == "niort"]
    assert row["sound"] == "muted"
    refused = [
        await http.post(sound, params={"sound": "loud"}, headers=bearer(screen)),
        await http.post(
            sound, params={"sound": "on"}, headers=bearer(link("screen", site="niort"))
        ),
        await http.post(sound + "x", params={"sound": "on"}, headers=bearer(screen)),
        await http.post(sound, params={"sound": "on"}),
    ]
    assert [r.status_code for r in refused] == [422, 403, 404, 401]
    (row,) = [r for r in plenary_of(app).status(EVENT)["receivers"] if r["site"] == "niort"]
    assert row["sound"] == "muted"  # nothing changed
