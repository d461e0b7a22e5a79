"""The plenary relay as a specification: feeds, the floor, receivers' outboxes, keyframes.

The first part drives the relay (`live/plenary/relay.py`) with frames and a fake clock, no
network. The second runs it under aiortc peers on loopback: a synthetic publisher, several
receivers, the floor moving to a site's camera and back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiortc.rtcrtpreceiver
import pytest

from live.errors import RelaisError
from live.links.signing import Claims
from live.plenary import passthrough
from live.plenary.frames import EncodedFrame, is_keyframe, vp8_size
from live.plenary.outbox import AUDIO_FRAMES, OUTBOX_BYTES, VIDEO_FRAMES, Outbox
from live.plenary.relay import (
    KEYFRAME_INTERVAL,
    RESTART_INTERVAL,
    STALE_AFTER,
    EventRelay,
    NoSuchFeed,
    PlenaryBusy,
    Publisher,
    Receiver,
)
from live.plenary.service import CONNECT_TIMEOUT, Plenary, PlenaryConfig
from tests.support.plenary_peers import Publisher as PublishingPeer
from tests.support.plenary_peers import Viewer, loopback, until


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key(ts: int, size: int = 100) -> EncodedFrame:
    return EncodedFrame("video", b"\x00" * size, ts, keyframe=True)


def delta(ts: int, size: int = 100) -> EncodedFrame:
    return EncodedFrame("video", b"\x01" * size, ts, keyframe=False)


def publisher(name: str = "p") -> tuple[Publisher, list[float]]:
    asked: list[float] = []
    return Publisher(id=name, role="speaker", request_keyframe=lambda: asked.append(0)), asked


def receiver(room: EventRelay, name: str, watching: str = "program") -> Receiver:
    """A receiver whose transport is up (its outboxes started)."""
    r = room.new_receiver(name, "screen", watching)
    for box in r.outboxes.values():
        box.start()
    return r


def drain(box: Outbox) -> list[tuple[EncodedFrame, int]]:
    """What the receiver's sender takes, as it would."""
    return [box.take() for _ in range(len(box.queue))]


# -- outboxes and keyframes ---------------------------------------------------------------


def test_a_new_receiver_starts_at_a_keyframe_and_asks_the_publisher_for_one() -> None:
    clock = Clock()
    room = EventRelay("ev", clock)
    p, asked = publisher()
    room.start_publishing("speaker", p)
    room.publish("speaker", key(0), p)
    clock.now += 1
    screen = receiver(room, "foix")
    assert len(asked) == 1, "joining asked for a keyframe"
    room.publish("speaker", delta(3000), p)
    room.publish("speaker", key(6000), p)
    room.publish("speaker", delta(9000), p)
    frames = [m for m, _ in drain(screen.outboxes["video"])]
    assert [m.keyframe for m in frames] == [True, False]


def test_keyframe_requests_reach_the_publisher_at_most_once_per_interval() -> None:
    clock = Clock()
    room = EventRelay("ev", clock)
    p, asked = publisher()
    room.start_publishing("speaker", p)
    for i in range(5):  # five screens join at once; each then reports a lost picture
        receiver(room, f"s{i}")
        room.keyframe_wanted(f"s{i}")
    assert len(asked) == 1
    clock.now += KEYFRAME_INTERVAL / 2
    room.keyframe_wanted("s0")
    assert len(asked) == 1
    clock.now += KEYFRAME_INTERVAL
    room.keyframe_wanted("s0")
    assert len(asked) == 2


def test_a_receiver_still_waiting_asks_again_until_a_keyframe_comes() -> None:
    clock = Clock()
    room = EventRelay("ev", clock)
    p, asked = publisher()
    room.start_publishing("speaker", p)
    screen = receiver(room, "foix")
    for i in range(40):  # the first request was lost: only delta frames arrive
        clock.now += 1 / 30
        room.publish("speaker", delta(i * 3000), p)
    assert 2 <= len(asked) <= 1 + (40 / 30) / RESTART_INTERVAL, "again, but not at every frame"
    assert not screen.outboxes["video"].queue


def test_a_receiver_that_stops_reading_stays_bounded_and_never_holds_the_others_back() -> None:
    clock = Clock()
    room = EventRelay("ev", clock)
    p, asked = publisher()
    room.start_publishing("speaker", p)
    stalled = receiver(room, "stalled")
    readers = [receiver(room, f"r{i}") for i in range(3)]
    got = {r.id: 0 for r in readers}
    for i in range(10 * VIDEO_FRAMES):
        clock.now += 1 / 30
        room.publish("speaker", key(i * 3000, 5000) if i % 90 == 0 else delta(i * 3000, 5000), p)
        for r in readers:
            got[r.id] += len(drain(r.outboxes["video"]))
    box = stalled.outboxes["video"]
    assert len(box.queue) <= VIDEO_FRAMES and box.bytes <= OUTBOX_BYTES
    assert box.overflows > 0 and box.dropped > 0
    assert set(got.values()) == {10 * VIDEO_FRAMES}, "every reader got every frame"
    assert len(asked) > 1, "the slow one asked for keyframes to start over"


def test_an_outbox_is_bounded_in_bytes_too() -> None:
    clock = Clock()
    room = EventRelay("ev", clock)
    p, _ = publisher()
    room.start_publishing("speaker", p)
    stalled = receiver(room, "stalled")
    for i in range(20):
        room.publish("speaker", key(i * 3000, 300_000), p)
    assert stalled.outboxes["video"].bytes <= OUTBOX_BYTES


def test_audio_of_a_slow_receiver_drops_its_oldest_frames() -> None:
    clock = Clock()
    room = EventRelay("ev", clock)
    p, _ = publisher()
    room.start_publishing("speaker", p)
    stalled = receiver(room, "stalled")
    for i in range(3 * AUDIO_FRAMES):
        room.publish("speaker", EncodedFrame("audio", b"o" * 80, i * 960), p)
    queue = stalled.outboxes["audio"].queue
    assert len(queue) == AUDIO_FRAMES
    assert queue[-1][0].timestamp == (3 * AUDIO_FRAMES - 1) * 960, "the newest are kept"


def test_nothing_is_queued_for_a_receiver_before_its_transport_is_up() -> None:
    clock = Clock()
    room = EventRelay("ev", clock)
    p, asked = publisher()
    room.start_publishing("speaker", p)
    pending = room.new_receiver("foix", "screen")
    for i in range(100):
        room.publish("speaker", key(i * 3000), p)
    assert not pending.outboxes["video"].queue and asked == []


# -- publishers ---------------------------------------------------------------------------


def test_a_second_publisher_is_refused_while_the_first_is_live() -> None:
    clock = Clock()
    room = EventRelay("ev", clock)
    first, _ = publisher("first")
    room.start_publishing("speaker", first)
    room.publish("speaker", key(0), first)
    second, _ = publisher("second")
    with pytest.raises(PlenaryBusy):
        room.start_publishing("speaker", second)
    assert room.feeds["speaker"].publisher is first


def test_a_publisher_gone_silent_is_replaced_by_the_next() -> None:
    clock = Clock()
    room = EventRelay("ev", clock)
    first, _ = publisher("first")
    room.start_publishing("speaker", first)
    room.publish("speaker", key(0), first)
    clock.now += STALE_AFTER + 1
    second, _ = publisher("second")
    assert room.start_publishing("speaker", second) is first
    room.publish("speaker", key(0), first)  # a late frame of the replaced one
    assert room.feeds["speaker"].publisher is second
    assert room.feeds["speaker"].publisher.received.count == 0


def test_feed_names_are_the_speaker_or_a_site() -> None:
    room = EventRelay("ev", Clock())
    for bad in ("", "site:", "speaker ", "site:a/b", "x" * 500, "program"):
        with pytest.raises(NoSuchFeed):
            room.set_program(bad)
    room.set_program("site:foix")
    assert room.program == "site:foix"


# -- the floor ----------------------------------------------------------------------------


def test_receivers_of_the_program_follow_the_floor_and_restart_at_its_keyframe() -> None:
    clock = Clock()
    room = EventRelay("ev", clock)
    speaker, _ = publisher("speaker")
    site, site_asked = publisher("site")
    room.start_publishing("speaker", speaker)
    room.start_publishing("site:foix", site)
    screen = receiver(room, "screen")
    tile = receiver(room, "tile", watching="speaker")
    room.publish("speaker", key(50_000), speaker)
    drain(screen.outboxes["video"])
    room.set_program("site:foix")
    assert screen.feed == "site:foix" and tile.feed == "speaker"
    assert len(site_asked) == 1, "the new source is asked for a keyframe"
    room.publish("speaker", key(53_000), speaker)
    room.publish("site:foix", delta(7_000), site)
    room.publish("site:foix", key(10_000), site)
    frames = drain(screen.outboxes["video"])
    assert [m.data[:1] for m, _ in frames] == [b"\x00"] and frames[0][0].timestamp == 10_000
    room.set_program("speaker")
    room.publish("speaker", key(56_000), speaker)
    assert drain(screen.outboxes["video"])[0][0].timestamp == 56_000


def test_a_receiver_sees_one_continuous_timeline_across_floor_changes() -> None:
    clock = Clock()
    room = EventRelay("ev", clock)
    speaker, _ = publisher("speaker")
    site, _ = publisher("site")
    room.start_publishing("speaker", speaker)
    room.start_publishing("site:foix", site)
    screen = receiver(room, "screen")
    room.publish("speaker", key(900_000), speaker)
    clock.now += 1
    room.set_program("site:foix")
    room.publish("site:foix", key(5), site)
    (_, before), (_, after) = drain(screen.outboxes["video"])
    assert after - before == 90_000, "one second later on the receiver's clock"


def test_status_says_who_publishes_and_which_receivers_lost_the_picture() -> None:
    clock = Clock()
    room = EventRelay("ev", clock)
    p, _ = publisher()
    room.start_publishing("speaker", p)
    fine = receiver(room, "fine")
    stuck = receiver(room, "stuck")
    vp8_key = b"\x10\x02\x00\x9d\x01\x2a\x80\x02\xe0\x01" + b"\x00" * 50  # 640x480
    for i in range(90):
        clock.now += 1 / 30
        room.publish("speaker", EncodedFrame("video", vp8_key, i * 3000, True), p)
        drain(fine.outboxes["video"])
    status = room.status()
    assert status["program"] == "speaker"
    feed = status["feeds"]["speaker"]
    assert feed["live"] and feed["publisher"]["role"] == "speaker"
    assert (feed["publisher"]["width"], feed["publisher"]["height"]) == (640, 480)
    assert feed["publisher"]["fps"] == pytest.approx(30, abs=1)
    by_id = {r["id"]: r for r in status["receivers"]}
    assert by_id["fine"]["fps"] == pytest.approx(30, abs=1) and not by_id["fine"]["lost"]
    assert by_id["stuck"]["lost"] and not by_id["stuck"]["picture"]
    assert by_id["stuck"]["frames"] == 0 and stuck.outboxes["video"].queue


# -- frames -------------------------------------------------------------------------------


def test_keyframes_are_told_by_their_bitstream() -> None:
    assert is_keyframe("VP8", b"\x10\x02\x00\x9d\x01\x2a") and not is_keyframe("VP8", b"\x11")
    idr = b"\x00\x00\x00\x01\x67\x42" + b"\x00\x00\x00\x01\x68\xce" + b"\x00\x00\x01\x65\x88"
    assert is_keyframe("H264", idr)
    assert not is_keyframe("H264", b"\x00\x00\x00\x01\x41\x9a")
    assert is_keyframe("opus", b"\xfc")
    assert vp8_size(b"\x10\x02\x00\x9d\x01\x2a\x80\x02\xe0\x01") == (640, 480)
    assert vp8_size(b"\x11\x02\x00") is None


# -- under aiortc, on loopback ------------------------------------------------------------


@pytest.fixture
async def plenary(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Plenary]:
    loopback(monkeypatch)
    service = Plenary()
    try:
        yield service
    finally:
        await service.close()


@pytest.fixture
async def h264_plenary(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Plenary]:
    loopback(monkeypatch)
    service = Plenary(PlenaryConfig(video_codec="H264"))
    try:
        yield service
    finally:
        await service.close()


def claims(role: str, site: str | None = None, link: str = "") -> Claims:
    return Claims(event="ev", role=role, site=site, id=link or f"{role}-{site}")  # type: ignore[arg-type]


async def publish(service: Plenary, peer: PublishingPeer, feed: str = "speaker") -> None:
    who = claims("speaker") if feed == "speaker" else claims("host", feed[5:])

    async def post(sdp: str) -> str:
        return (await service.publish("ev", feed, sdp, who)).pc.localDescription.sdp

    await peer.connect(post)


async def watch(service: Plenary, viewer: Viewer, watching: str = "program") -> None:
    async def post(sdp: str) -> str:
        session = await service.receive("ev", watching, sdp, claims("screen", "foix"))
        return session.pc.localDescription.sdp

    await viewer.connect(post)


async def test_several_receivers_get_the_publishers_frames_and_nothing_is_decoded(
    plenary: Plenary, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoders: list[str] = []
    real = aiortc.rtcrtpreceiver.get_decoder
    monkeypatch.setattr(
        aiortc.rtcrtpreceiver,
        "get_decoder",
        lambda codec: decoders.append(codec.name) or real(codec),
    )
    speaker = PublishingPeer()
    await publish(plenary, speaker)
    viewers = [Viewer() for _ in range(3)]
    for v in viewers:
        await watch(plenary, v)
    await until(lambda: all(v.count >= 60 and v.audio_frames >= 50 for v in viewers))
    assert all(v.first_keyframe for v in viewers)
    assert decoders == [], "the relay made no decoder"
    server = next(s for s in plenary.sessions.values() if s.kind == "whip")
    assert server.video_receiver is not None and passthrough.is_forwarding(server.video_receiver)
    for v in viewers:
        await v.close()
    await speaker.close()


async def test_the_relayed_frames_decode_into_the_publishers_picture(plenary: Plenary) -> None:
    speaker = PublishingPeer(width=320, height=240)
    await publish(plenary, speaker)
    player = Viewer(decode=True)
    await watch(plenary, player)
    await until(lambda: len(player.decoded) >= 1 and player.count >= 30)
    frame = player.decoded[-1]
    assert (frame.width, frame.height) == (320, 240)
    await player.close()
    await speaker.close()


async def test_a_new_receiver_makes_the_publisher_send_a_keyframe_at_once(
    plenary: Plenary,
) -> None:
    speaker = PublishingPeer()
    await publish(plenary, speaker)
    first = Viewer()
    await watch(plenary, first)
    await until(lambda: first.count >= 30)
    late = Viewer()
    requests_before = len(speaker.keyframe_requests)
    await watch(plenary, late)
    await until(lambda: late.count >= 1)
    assert len(speaker.keyframe_requests) > requests_before, "the late screen asked"
    assert late.first_keyframe, "its picture starts whole"
    await first.close()
    await late.close()
    await speaker.close()


async def test_a_receiver_that_stops_reading_does_not_slow_the_others(plenary: Plenary) -> None:
    speaker = PublishingPeer()
    await publish(plenary, speaker)
    viewers = [Viewer() for _ in range(2)]
    for v in viewers:
        await watch(plenary, v)
    room = plenary.relay.room("ev")
    stalled = room.new_receiver("stalled", "screen")  # a sender that never takes a frame
    for box in stalled.outboxes.values():
        box.start()
    await until(lambda: stalled.outboxes["video"].overflows >= 1, timeout=20)
    counts = [v.count for v in viewers]
    await until(lambda: all(v.count >= c + 60 for v, c in zip(viewers, counts, strict=True)))
    box = stalled.outboxes["video"]
    assert len(box.queue) <= VIDEO_FRAMES and box.bytes <= OUTBOX_BYTES
    for v in viewers:
        await v.close()
    await speaker.close()


async def test_the_floor_moves_to_a_site_and_back(plenary: Plenary) -> None:
    speaker = PublishingPeer(width=320, height=240)
    site = PublishingPeer(width=160, height=120, shade=100)
    await publish(plenary, speaker)
    await publish(plenary, site, "site:foix")
    screens = [Viewer() for _ in range(2)]
    for v in screens:
        await watch(plenary, v)

    def showing(v: Viewer, size: tuple[int, int], since: int) -> bool:
        return any(vp8_size(m.data) == size for m in v.frames[since:])

    await until(lambda: all(showing(v, (320, 240), 0) for v in screens))
    marks = [v.count for v in screens]
    plenary.set_program("ev", "site:foix")
    await until(lambda: all(showing(v, (160, 120), m) for v, m in zip(screens, marks, strict=True)))
    assert plenary.status("ev")["program"] == "site:foix"
    marks = [v.count for v in screens]
    plenary.set_program("ev", "speaker")
    await until(lambda: all(showing(v, (320, 240), m) for v, m in zip(screens, marks, strict=True)))
    for v in screens:
        await v.close()
    await speaker.close()
    await site.close()


async def test_an_h264_feed_is_forwarded_too(h264_plenary: Plenary) -> None:
    """OBS Studio's WHIP output sends H.264: with RELAIS_PLENARY_VIDEO_CODEC=H264 every
    feed and receiver uses it, forwarded as it is."""
    speaker = PublishingPeer(width=320, height=240)
    await publish(h264_plenary, speaker)
    counter, player = Viewer(), Viewer(decode=True)
    for v in (counter, player):
        await watch(h264_plenary, v)
    await until(lambda: counter.count >= 30 and len(player.decoded) >= 1)
    assert counter.first_keyframe
    assert (player.decoded[-1].width, player.decoded[-1].height) == (320, 240)
    for v in (counter, player):
        await v.close()
    await speaker.close()


async def test_a_session_whose_peer_never_connects_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loopback(monkeypatch)
    clock = Clock()
    service = Plenary(clock=clock)
    viewer = Viewer()  # makes its offer, then never answers the connectivity checks
    await viewer.pc.setLocalDescription(await viewer.pc.createOffer())
    offer = viewer.pc.localDescription.sdp
    await viewer.pc.close()
    await service.receive("ev", "program", offer, claims("screen", "foix"))
    assert len(service.status("ev")["receivers"]) == 1
    clock.now += CONNECT_TIMEOUT + 1
    await until(lambda: not service.sessions)
    assert service.status("ev")["receivers"] == []
    await service.close()


async def test_receivers_report_how_they_receive_for_the_console(plenary: Plenary) -> None:
    speaker = PublishingPeer()
    await publish(plenary, speaker)
    viewer = Viewer()
    await watch(plenary, viewer)

    def reported() -> bool:
        (receiver,) = plenary.status("ev")["receivers"]
        return receiver["rtt_ms"] is not None

    await until(reported)
    (receiver,) = plenary.status("ev")["receivers"]
    assert receiver["state"] == "connected" and receiver["picture"] and not receiver["lost"]
    assert receiver["fraction_lost"] == 0
    await viewer.close()
    await speaker.close()


async def test_receivers_are_capped_per_link_and_per_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A leaked screen link cannot open receivers without end (each one costs the relay
    a peer connection and a copy of every frame)."""
    loopback(monkeypatch)
    service = Plenary(PlenaryConfig(max_receivers=3, max_per_link=2))

    async def offer() -> str:
        viewer = Viewer()
        await viewer.pc.setLocalDescription(await viewer.pc.createOffer())
        sdp: str = viewer.pc.localDescription.sdp
        await viewer.pc.close()
        return sdp

    one, other = claims("screen", "foix", "one"), claims("screen", "foix", "other")
    for _ in range(2):
        await service.receive("ev", "program", await offer(), one)
    with pytest.raises(RelaisError) as refused:
        await service.receive("ev", "program", await offer(), one)
    assert refused.value.code == "too_many_connections"
    await service.receive("ev", "program", await offer(), other)
    with pytest.raises(RelaisError):
        await service.receive("ev", "program", await offer(), other)
    assert len(service.sessions) == 3
    await service.close()
