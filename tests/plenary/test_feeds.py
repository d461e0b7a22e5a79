"""Who may hold a plenary feed: a WHIP session that never connects frees its feed within
seconds, a publisher's own link takes its feed back at once, a screen link publishes
nothing, and offers are bounded per link and per process.

The first part drives the relay's rules (`live/plenary/relay.py`) with a fake clock. The
second runs the app in this process (httpx's ASGI transport, as tests/plenary/test_whip.py
does) with aiortc peers on loopback, and a clock the test moves forward: a connect
deadline passes without waiting for it, and real peers have all the time they need.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from live.app import create_app
from live.config import Settings
from live.links.signing import Signer
from live.plenary.frames import EncodedFrame
from live.plenary.relay import CONNECT_DEADLINE, STALE_AFTER, EventRelay, PlenaryBusy, Publisher
from live.plenary.service import Plenary, PlenaryConfig, Session
from tests.support.plenary_peers import Publisher as PublishingPeer
from tests.support.plenary_peers import Viewer, loopback, peer, until

# -- the rules, with a fake clock -----------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def publisher(link: str, name: str = "") -> Publisher:
    return Publisher(id=name or link, role="host", link=link, request_keyframe=lambda: None)


def test_a_publisher_that_never_connects_frees_its_feed_at_the_connect_deadline() -> None:
    clock = FakeClock()
    room = EventRelay("ev", clock)
    squatter = publisher("squatter")
    room.start_publishing("site:foix", squatter)
    with pytest.raises(PlenaryBusy):
        room.start_publishing("site:foix", publisher("host"))
    clock.now += CONNECT_DEADLINE
    host = publisher("host")
    assert room.start_publishing("site:foix", host) is squatter
    assert room.feeds["site:foix"].publisher is host


def test_a_link_takes_its_own_feed_back_at_once_even_from_a_live_session() -> None:
    clock = FakeClock()
    room = EventRelay("ev", clock)
    first = publisher("speaker-link", "first")
    room.start_publishing("speaker", first)
    room.connected("speaker", "first")
    again = publisher("speaker-link", "again")
    assert room.start_publishing("speaker", again) is first
    assert room.feeds["speaker"].publisher is again


def test_a_connected_publisher_keeps_its_feed_against_another_link() -> None:
    clock = FakeClock()
    room = EventRelay("ev", clock)
    host = publisher("host")
    room.start_publishing("site:foix", host)
    room.connected("site:foix", "host")
    for second in range(int(CONNECT_DEADLINE) + 2):  # past the deadline, sending
        clock.now += 1
        room.publish("site:foix", EncodedFrame("video", b"\x00", second * 90000, True), host)
    clock.now += STALE_AFTER / 2  # a short silence is no death
    with pytest.raises(PlenaryBusy):
        room.start_publishing("site:foix", publisher("other"))
    assert room.feeds["site:foix"].publisher is host


def test_the_link_that_last_had_the_feed_live_takes_it_from_a_session_still_connecting() -> None:
    clock = FakeClock()
    room = EventRelay("ev", clock)
    room.start_publishing("site:foix", publisher("host", "live"))
    room.connected("site:foix", "live")
    room.stop_publishing("site:foix", "live")  # its connection failed
    squatter = publisher("squatter")
    room.start_publishing("site:foix", squatter)
    assert room.start_publishing("site:foix", publisher("host", "back")) is squatter


def test_an_offer_repeated_without_connecting_cannot_keep_the_feed_from_another_link() -> None:
    clock = FakeClock()
    room = EventRelay("ev", clock)
    room.start_publishing("site:foix", publisher("squatter", "s1"))
    clock.now += CONNECT_DEADLINE
    room.stop_publishing("site:foix", "s1")  # its session ended, never connected
    again = publisher("squatter", "s2")
    room.start_publishing("site:foix", again)  # and it offers again at once
    host = publisher("host")
    assert room.start_publishing("site:foix", host) is again, "the host's offer wins"
    with pytest.raises(PlenaryBusy):
        room.start_publishing("site:foix", publisher("squatter", "s3"))
    assert room.feeds["site:foix"].publisher is host


def test_a_publisher_whose_first_try_failed_is_in_good_standing_once_connected() -> None:
    clock = FakeClock()
    room = EventRelay("ev", clock)
    room.start_publishing("site:foix", publisher("host", "try1"))
    room.stop_publishing("site:foix", "try1")  # a network that failed once
    room.start_publishing("site:foix", publisher("host", "try2"))
    room.connected("site:foix", "try2")
    room.stop_publishing("site:foix", "try2")
    room.start_publishing("site:foix", publisher("host", "try3"))
    with pytest.raises(PlenaryBusy):  # another link cannot push its pending session out
        room.start_publishing("site:foix", publisher("other"))


# -- the relay's own app, with real peers ---------------------------------------------------

SECRET = "test-secret-plenary-feeds"
EVENT = "poitiers-2020"  # sites: poitiers, niort, angouleme, saint-jean
SIGNER = Signer(SECRET)
SDP = {"Content-Type": "application/sdp"}


class MovableClock:
    """`time.monotonic`, which the test moves forward (a deadline passes at once)."""

    def __init__(self) -> None:
        self.skew = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skew


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: MovableClock
) -> AsyncIterator[Any]:
    """The app, its plenary on `clock` with a connect deadline long enough for any real
    peer on a busy machine: only the test's clock makes it pass."""
    loopback(monkeypatch)
    settings = Settings(data_dir=tmp_path, backend="memory", secret=SECRET, demo=True)
    application = create_app(settings)
    config = PlenaryConfig(connect_timeout=60.0, max_sessions=8)
    application.state.plenary = Plenary(config, application.state.links, clock=clock)
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


def link(role: str, **claims: Any) -> str:
    return SIGNER.sign(EVENT, role, **claims)  # type: ignore[arg-type]


async def dead_offer(kind: str = "publish") -> str:
    """An offer whose peer is gone before the answer: it never connects."""
    pc = peer()
    direction = "sendonly" if kind == "publish" else "recvonly"
    pc.addTransceiver("video", direction=direction)
    pc.addTransceiver("audio", direction=direction)
    await pc.setLocalDescription(await pc.createOffer())
    sdp: str = pc.localDescription.sdp
    await pc.close()
    return sdp


async def post(
    http: httpx.AsyncClient, kind: str, token: str, body: str, query: str = ""
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", **SDP}
    return await http.post(f"/e/{EVENT}/{kind}{query}", content=body, headers=headers)


async def go_live(http: httpx.AsyncClient, token: str, peer: PublishingPeer) -> httpx.Response:
    """`peer` publishes with `token`; the WHIP answer is returned."""
    answers: list[httpx.Response] = []

    async def whip(sdp: str) -> str:
        response = await post(http, "whip", token, sdp)
        assert response.status_code == 201, response.text
        answers.append(response)
        return response.text

    await peer.connect(whip)
    return answers[0]


def feed_status(app: Any, feed: str) -> dict[str, Any]:
    feeds = plenary_of(app).status(EVENT)["feeds"]
    status: dict[str, Any] = feeds.get(feed, {"publisher": None, "live": False})
    return status


def whip_sessions(app: Any) -> list[Session]:
    return [s for s in plenary_of(app).sessions.values() if s.kind == "whip"]


async def test_a_screen_link_cannot_publish_its_sites_feed(
    app: Any, http: httpx.AsyncClient
) -> None:
    screen = link("screen", site="niort")
    for lang, sentence in (("fr", "Ce lien ne donne pas accès"), ("en", "This link does not")):
        refused = await post(http, "whip", screen, await dead_offer(), f"?lang={lang}")
        assert refused.status_code == 403 and refused.json()["error"] == "link_role"
        assert refused.json()["message"].startswith(sentence)
    assert plenary_of(app).sessions == {}
    host = PublishingPeer()
    await go_live(http, link("host", site="niort"), host)
    await until(lambda: feed_status(app, "site:niort")["live"])
    await host.close()


async def test_a_whip_offer_that_never_connects_frees_its_feed_and_the_host_then_publishes(
    app: Any, http: httpx.AsyncClient, clock: MovableClock
) -> None:
    squatter = await post(http, "whip", link("host", site="niort"), await dead_offer())
    assert squatter.status_code == 201
    host_link = link("host", site="niort")
    busy = await post(http, "whip", host_link, await dead_offer())
    assert busy.status_code == 409 and busy.json()["error"] == "plenary_busy"
    assert len(plenary_of(app).sessions) == 1, "the refused offer opened nothing"
    clock.skew += 61  # the connect deadline passes
    await until(lambda: not plenary_of(app).sessions, timeout=30)
    assert feed_status(app, "site:niort")["publisher"] is None
    host = PublishingPeer()
    await go_live(http, host_link, host)
    await until(lambda: feed_status(app, "site:niort")["live"], timeout=30)
    await host.close()


async def test_an_expired_offer_is_replaced_by_the_next_one_before_it_is_cleaned_up(
    app: Any, http: httpx.AsyncClient, clock: MovableClock
) -> None:
    squatter = await post(http, "whip", link("speaker"), await dead_offer())
    assert squatter.status_code == 201
    clock.skew += 61
    speaker = PublishingPeer()
    await go_live(http, link("speaker"), speaker)  # at once, whether or not swept already
    await until(lambda: feed_status(app, "speaker")["live"], timeout=30)
    assert len(whip_sessions(app)) == 1
    await speaker.close()


async def test_a_speaker_whose_session_died_republishes_at_once_and_screens_follow(
    app: Any, http: httpx.AsyncClient
) -> None:
    token = link("speaker")
    first = PublishingPeer(shade=0)
    await go_live(http, token, first)
    screen = Viewer()

    async def whep(sdp: str) -> str:
        response = await post(http, "whep", link("screen", site="niort"), sdp)
        assert response.status_code == 201, response.text
        return response.text

    await screen.connect(whep)
    await until(lambda: screen.count >= 10, timeout=30)
    (old,) = whip_sessions(app)
    # The speaker's network drops: the server has not noticed, the page goes live again.
    second = PublishingPeer(shade=60)
    await go_live(http, token, second)
    await until(lambda: old.id not in plenary_of(app).sessions, timeout=30)
    (new,) = whip_sessions(app)
    assert new.publisher is not None
    room = plenary_of(app).relay.room(EVENT)
    assert room.feeds["speaker"].publisher is new.publisher
    before = screen.count
    await until(lambda: new.publisher is not None and new.publisher.received.count >= 10)
    await until(lambda: screen.count >= before + 10, timeout=30)
    for p in (screen, first, second):
        await p.close()


async def test_a_speaker_whose_offer_never_connected_is_accepted_again_at_once(
    app: Any, http: httpx.AsyncClient
) -> None:
    token = link("speaker")
    lost = await post(http, "whip", token, await dead_offer())
    assert lost.status_code == 201
    speaker = PublishingPeer()
    await go_live(http, token, speaker)
    await until(lambda: feed_status(app, "speaker")["live"], timeout=30)
    assert len(whip_sessions(app)) == 1
    await speaker.close()


async def test_the_host_who_had_the_feed_live_takes_it_back_from_an_offer_still_connecting(
    app: Any, http: httpx.AsyncClient
) -> None:
    host_link = link("host", site="niort")
    before = PublishingPeer()
    answer = await go_live(http, host_link, before)
    await until(lambda: feed_status(app, "site:niort")["live"], timeout=30)
    ended = await http.delete(
        answer.headers["location"], headers={"Authorization": f"Bearer {host_link}"}
    )
    assert ended.status_code == 200
    await before.close()
    squatter = await post(http, "whip", link("host", site="niort"), await dead_offer())
    assert squatter.status_code == 201
    back = PublishingPeer()
    await go_live(http, host_link, back)
    await until(lambda: feed_status(app, "site:niort")["live"], timeout=30)
    assert len(whip_sessions(app)) == 1
    await back.close()


async def test_another_link_cannot_take_a_feed_published_live(
    app: Any, http: httpx.AsyncClient
) -> None:
    rector = PublishingPeer()
    await go_live(http, link("speaker"), rector)
    await until(lambda: feed_status(app, "speaker")["live"], timeout=30)
    (session,) = whip_sessions(app)
    for _ in range(3):
        other = await post(http, "whip", link("speaker"), await dead_offer(), "?lang=en")
        assert other.status_code == 409 and other.json()["error"] == "plenary_busy"
        assert other.json()["message"].startswith("Someone is already publishing")
    assert whip_sessions(app) == [session]
    await rector.close()


async def test_a_link_answers_one_whip_offer_at_a_time(
    app: Any, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    plenary = plenary_of(app)
    answering, gate = asyncio.Event(), asyncio.Event()
    real = plenary._answer

    async def held(session: Session, offer_sdp: str) -> None:
        answering.set()
        await gate.wait()
        await real(session, offer_sdp)

    monkeypatch.setattr(plenary, "_answer", held)
    token = link("host", site="niort")
    first = asyncio.ensure_future(post(http, "whip", token, await dead_offer()))
    await asyncio.wait_for(answering.wait(), 30)
    second = await post(http, "whip", token, await dead_offer())
    assert second.status_code == 429 and second.json()["error"] == "too_many_connections"
    gate.set()
    assert (await first).status_code == 201
    assert len(plenary.sessions) == 1


async def test_plenary_sessions_are_bounded_per_process(app: Any, http: httpx.AsyncClient) -> None:
    plenary = plenary_of(app)
    plenary.config.max_sessions = 2
    assert (await post(http, "whip", link("speaker"), await dead_offer())).status_code == 201
    screen = link("screen", site="niort")
    assert (await post(http, "whep", screen, await dead_offer("receive"))).status_code == 201
    for kind, token, body in (
        ("whep", link("screen", site="poitiers"), await dead_offer("receive")),
        ("whip", link("host", site="niort"), await dead_offer()),
    ):
        refused = await post(http, kind, token, body)
        assert refused.status_code == 429 and refused.json()["error"] == "too_many_connections"
    assert len(plenary.sessions) == 2
    assert feed_status(app, "site:niort")["publisher"] is None


def test_the_connect_deadline_and_the_process_bound_are_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RELAIS_DATA", str(tmp_path))
    monkeypatch.setenv("RELAIS_PLENARY_CONNECT_TIMEOUT", "2.5")
    monkeypatch.setenv("RELAIS_PLENARY_MAX_SESSIONS", "40")
    plenary = Plenary.from_settings(Settings.from_env(signing="none"))
    assert (plenary.config.connect_timeout, plenary.config.max_sessions) == (2.5, 40)
    assert plenary.relay.room("ev").connect_deadline == 2.5
    monkeypatch.setenv("RELAIS_PLENARY_CONNECT_TIMEOUT", "0")
    with pytest.raises(ValueError, match="RELAIS_PLENARY_CONNECT_TIMEOUT"):
        Plenary.from_settings(Settings.from_env(signing="none"))
