"""The plenary service: WHIP publishers and WHEP receivers as aiortc peer connections,
bound to the relay (`relay.py`) through the passthrough adapter (`passthrough.py`).

One instance per server (`app.state.plenary`). A session is one peer connection: it ends
on `DELETE`, when its link is revoked, when its connection fails or closes, when it has
not connected within `connect_timeout` (a few seconds: an offer that never connects must
not hold a feed), when its own link publishes again (a reconnect replaces it at once), or
when the server stops. Sessions are bounded per process (`max_sessions`, offers being
answered included), receivers per event and per link, and a link answers one WHIP offer
at a time: each costs a peer connection and its UDP port. The console reads
`status(event)`; the floor command calls `set_program(event, feed)`.

`transcode=True` (RELAIS_PLENARY_TRANSCODE=1) runs aiortc's stock path instead, decoding
the publisher once and encoding once per receiver (through aiortc's `MediaRelay`): for
benchmark comparison only, with no floor changes and no keyframe policy.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.exceptions import OperationError
from aiortc.rtcconfiguration import RTCBundlePolicy

from live.errors import RelaisError
from live.links.signing import Claims, LinkBook
from live.plenary import passthrough
from live.plenary.frames import EncodedFrame
from live.plenary.ice import (
    IceServer,
    for_aiortc,
    for_page,
    link_headers,
    offer_host_addresses,
    parse_addresses,
    parse_ice_servers,
    with_credentials,
)
from live.plenary.offer import (
    VIDEO_CODECS,
    Offer,
    SdpCodec,
    SdpInvalid,
    codec_of,
    preferences,
    read_offer,
)
from live.plenary.outbox import Outbox
from live.plenary.relay import CONNECT_DEADLINE, PROGRAM, EventRelay, Publisher, Relay, check_feed

log = logging.getLogger("relais.plenary")

CONNECT_TIMEOUT = CONNECT_DEADLINE  # a session whose peer never connects ends after this long
MONITOR_EVERY = 1.0


class TooManyReceivers(RelaisError):
    def __init__(self, limit: int) -> None:
        super().__init__("too_many_connections", f"over {limit} plenary receivers", limit=limit)


class TooManySessions(RelaisError):
    """The process's sessions are all taken, or this link already has an offer being
    answered: try again a little later (pages do)."""

    def __init__(self, limit: int, what: str) -> None:
        super().__init__("too_many_connections", f"over {limit} {what}", limit=limit)


@dataclass
class PlenaryConfig:
    ice_servers: list[IceServer] = field(default_factory=list)
    turn_secret: str = ""
    video_codec: str = "VP8"
    transcode: bool = False
    max_receivers: int = 64  # WHEP sessions per event
    max_per_link: int = 10  # WHEP sessions per link (a console's mosaic: one per site)
    max_sessions: int = 256  # WHIP and WHEP sessions of this process, offers included
    connect_timeout: float = CONNECT_TIMEOUT  # seconds for a session's peer to connect


@dataclass
class Session:
    """One WHIP or WHEP peer connection."""

    id: str  # the secret in the session's URL
    kind: Literal["whip", "whep"]
    event: str
    feed: str  # what it publishes, or watches (`program` or a feed)
    link: str  # the id of the link that opened it: only that link may end it
    pc: RTCPeerConnection
    public_id: str = ""  # what the console shows
    created_at: float = 0.0
    ended: bool = False
    unwatch: Callable[[], None] = lambda: None
    publisher: Publisher | None = None
    video_receiver: RTCRtpReceiver | None = None
    video_sender: RTCRtpSender | None = None
    tracks: dict[str, MediaStreamTrack] = field(default_factory=dict)  # transcode only
    last_report: Any = None


class Plenary:
    """Every event's plenary sessions, in this process."""

    @classmethod
    def from_settings(cls, settings: Any, links: LinkBook | None = None) -> Plenary:
        """The service as `live/config.py` Settings describe it (bad ICE settings raise
        IceConfigError, naming the variable, when the server starts)."""
        addresses = parse_addresses(settings.ice_host_addresses)
        if addresses:
            offer_host_addresses(addresses)
        config = PlenaryConfig(
            ice_servers=parse_ice_servers(
                settings.ice_servers, settings.ice_username, settings.ice_credential
            ),
            turn_secret=settings.turn_secret,
            video_codec=settings.plenary_video_codec,
            transcode=settings.plenary_transcode,
            max_receivers=settings.plenary_max_receivers,
            max_sessions=settings.plenary_max_sessions,
            connect_timeout=settings.plenary_connect_timeout,
        )
        return cls(config, links)

    def __init__(
        self,
        config: PlenaryConfig | None = None,
        links: LinkBook | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or PlenaryConfig()
        if self.config.video_codec not in VIDEO_CODECS:
            raise ValueError("RELAIS_PLENARY_VIDEO_CODEC must be VP8 or H264")
        if not 0 < self.config.connect_timeout <= 120:
            raise ValueError("RELAIS_PLENARY_CONNECT_TIMEOUT must be 0 to 120 seconds")
        self.links = links
        self.clock = clock
        self.relay = Relay(clock, self.config.connect_timeout)
        self.sessions: dict[str, Session] = {}
        self._answering: Counter[tuple[str, str]] = Counter()  # offers being answered
        self._stock = MediaRelay()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._monitor: asyncio.Task[None] | None = None

    # -- what pages and the console use ------------------------------------------------

    def ice_servers(self) -> list[dict[str, Any]]:
        """The ICE servers a page gives its RTCPeerConnection (fresh TURN credentials
        when a TURN secret is configured)."""
        return for_page(with_credentials(self.config.ice_servers, self.config.turn_secret))

    def link_headers(self) -> list[str]:
        return link_headers(with_credentials(self.config.ice_servers, self.config.turn_secret))

    def set_program(self, event: str, feed: str) -> None:
        """Give the floor to `feed` (`speaker` or `site:<id>`): every screen watching
        the program shows and plays it from its next keyframe."""
        self.relay.room(event).set_program(check_feed(feed))

    def program(self, event: str) -> str:
        return self.relay.room(event).program

    def status(self, event: str) -> dict[str, Any]:
        room = self.relay.room(event)
        return {
            "event": event,
            **room.status(),
            "codecs": {"video": self.config.video_codec, "audio": "opus"},
            "transcode": self.config.transcode,
        }

    def session(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    # -- WHIP ------------------------------------------------------------------------------

    async def publish(self, event: str, feed: str, offer_sdp: str, claims: Claims) -> Session:
        """Open a publisher's session on `feed`; the answer is `session.pc.localDescription`.
        The same link's earlier session on it ends (a reconnect takes the feed back at
        once). PlenaryBusy while another link may keep it (`EventRelay.check_free`);
        SdpInvalid / SdpCodec for the offer; TooManySessions over the bounds."""
        check_feed(feed)
        offer = read_offer(offer_sdp, self.config.video_codec, publishing=True)
        room = self.relay.room(event)
        room.check_free(feed, claims.id)  # before anything is made
        if self._answering["whip", claims.id]:
            raise TooManySessions(1, "WHIP offer at a time per link")
        with self._admitted("whip", claims):
            return await self._publish(room, event, feed, offer, offer_sdp, claims)

    async def _publish(
        self, room: EventRelay, event: str, feed: str, offer: Offer, offer_sdp: str, claims: Claims
    ) -> Session:
        session = self._session("whip", event, feed, claims)
        publisher = Publisher(
            id=session.public_id,
            role=claims.role,
            site=claims.site,
            link=claims.id,
            request_keyframe=lambda: self._request_keyframe(session, offer.media_ssrcs),
        )
        session.publisher = publisher
        for kind in offer.kinds:
            transceiver = session.pc.addTransceiver(kind, direction="recvonly")
            transceiver.setCodecPreferences(preferences(kind, self.config.video_codec))
            if kind == "video":
                session.video_receiver = transceiver.receiver
            if not self.config.transcode:
                passthrough.forward_received(
                    transceiver.receiver, kind, self._deliver(room, feed, publisher)
                )
        if self.config.transcode:
            session.pc.on("track", lambda track: session.tracks.__setitem__(track.kind, track))
        await self._answer(session, offer_sdp)
        try:
            replaced = room.start_publishing(feed, publisher)
        except RelaisError:
            await session.pc.close()
            raise
        self._open(session, claims)
        if replaced is not None:
            self._end_soon(self._session_of(replaced.id))
        return session

    def _deliver(
        self, room: EventRelay, feed: str, publisher: Publisher
    ) -> Callable[[EncodedFrame], None]:
        target = room.feed(feed)

        def deliver(media: EncodedFrame) -> None:
            target.publish(media, publisher)

        return deliver

    def _request_keyframe(self, session: Session, ssrcs: dict[str, list[int]]) -> None:
        receiver = session.video_receiver
        if receiver is None or session.ended:
            return
        targets = ssrcs.get("video") or [s.source for s in receiver.getSynchronizationSources()]
        self._spawn(passthrough.request_keyframe(receiver, targets))

    # -- WHEP ------------------------------------------------------------------------------

    async def receive(self, event: str, watching: str, offer_sdp: str, claims: Claims) -> Session:
        """Open a receiver's session on the program (or one feed); the answer is
        `session.pc.localDescription`."""
        if watching != PROGRAM:
            check_feed(watching)
        offer = read_offer(offer_sdp, self.config.video_codec, publishing=False)
        room = self.relay.room(event)
        if len(room.receivers) >= self.config.max_receivers:
            raise TooManyReceivers(self.config.max_receivers)
        if sum(r.link == claims.id for r in room.receivers.values()) >= self.config.max_per_link:
            raise TooManyReceivers(self.config.max_per_link)
        with self._admitted("whep", claims):
            return await self._receive(room, event, watching, offer, offer_sdp, claims)

    async def _receive(
        self,
        room: EventRelay,
        event: str,
        watching: str,
        offer: Offer,
        offer_sdp: str,
        claims: Claims,
    ) -> Session:
        session = self._session("whep", event, watching, claims)
        receiver = room.new_receiver(
            session.public_id, claims.role, watching, site=claims.site, link=claims.id
        )
        try:
            for kind in offer.kinds:
                track = self._track_for(room, receiver.outboxes[kind], kind, watching)
                if track is None:
                    continue
                transceiver = session.pc.addTransceiver(track, direction="sendonly")
                transceiver.setCodecPreferences(preferences(kind, self.config.video_codec))
                if kind == "video":
                    session.video_sender = transceiver.sender
                    passthrough.on_keyframe_request(
                        transceiver.sender, lambda: room.keyframe_wanted(receiver.id)
                    )
            await self._answer(session, offer_sdp)
        except BaseException:
            room.remove_receiver(receiver.id)
            raise
        self._open(session, claims)
        return session

    def _track_for(
        self, room: EventRelay, box: Outbox, kind: str, watching: str
    ) -> MediaStreamTrack | None:
        if not self.config.transcode:

            async def next_frame() -> tuple[EncodedFrame, int]:
                box.start()
                return await box.get()

            return passthrough.PacketTrack(box.kind, next_frame)
        source = room.program if watching == PROGRAM else watching
        publisher = room.feed(source).publisher
        owner = self._session_of(publisher.id) if publisher else None
        track = owner.tracks.get(kind) if owner else None
        return self._stock.subscribe(track) if track is not None else None

    async def end_event(self, event_id: str) -> None:
        """End every session of an event (deleted): its screens and publishers are let go."""
        for session_id, session in list(self.sessions.items()):
            if session.event == event_id:
                await self.end(session_id)

    # -- sessions --------------------------------------------------------------------------

    @contextmanager
    def _admitted(self, kind: str, claims: Claims) -> Iterator[None]:
        """An offer being answered counts against the process's sessions until it is one."""
        if len(self.sessions) + self._answering.total() >= self.config.max_sessions:
            raise TooManySessions(self.config.max_sessions, "plenary sessions in this process")
        key = (kind, claims.id)
        self._answering[key] += 1
        try:
            yield
        finally:
            self._answering[key] -= 1
            if not self._answering[key]:
                del self._answering[key]

    def _session(self, kind: Literal["whip", "whep"], event: str, feed: str, c: Claims) -> Session:
        servers = with_credentials(self.config.ice_servers, self.config.turn_secret)
        pc = RTCPeerConnection(
            RTCConfiguration(
                iceServers=for_aiortc(servers), bundlePolicy=RTCBundlePolicy.MAX_BUNDLE
            )
        )
        return Session(
            id=secrets.token_urlsafe(24),
            kind=kind,
            event=event,
            feed=feed,
            link=c.id,
            pc=pc,
            public_id=f"{kind}-{secrets.token_hex(4)}",
            created_at=self.clock(),
        )

    async def _answer(self, session: Session, offer_sdp: str) -> None:
        """Apply the offer and make the answer (with every host/relay candidate in it: no
        trickle). The offer's faults become SdpInvalid / SdpCodec; the connection closes."""
        pc = session.pc
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except OperationError:
            await pc.close()
            raise SdpCodec("video", codec_of("video", self.config.video_codec)) from None
        except (ValueError, KeyError, IndexError, AssertionError, TypeError) as exc:
            await pc.close()
            raise SdpInvalid(type(exc).__name__) from None
        except BaseException:
            await pc.close()
            raise

    def _open(self, session: Session, claims: Claims) -> None:
        self.sessions[session.id] = session
        if self.links is not None:
            session.unwatch = self.links.watch(claims, lambda _code: self._end_soon(session))

        @session.pc.on("connectionstatechange")
        def changed() -> None:
            state = session.pc.connectionState
            self._set_state(session, state)
            if state in ("failed", "closed"):
                self._end_soon(session)

        self._set_state(session, session.pc.connectionState)
        if self._monitor is None or self._monitor.done():
            self._monitor = asyncio.get_running_loop().create_task(self._watch_sessions())

    def _set_state(self, session: Session, state: str) -> None:
        if session.kind == "whip":
            if state == "connected" and session.publisher is not None:
                self.relay.room(session.event).connected(session.feed, session.publisher.id)
            return
        if session.kind == "whep":
            receiver = self.relay.room(session.event).receivers.get(session.public_id)
            if receiver is not None:
                receiver.state = state

    def set_sound(self, session: Session, sound: str) -> None:
        """What a receiving page says it plays (the console shows the muted screens)."""
        receiver = self.relay.room(session.event).receivers.get(session.public_id)
        if receiver is not None:
            receiver.sound = sound

    def _session_of(self, public_id: str) -> Session | None:
        return next((s for s in self.sessions.values() if s.public_id == public_id), None)

    def _end_soon(self, session: Session | None) -> None:
        """End a session from a callback that must not wait (revocation, state change)."""
        if session is not None and not session.ended:
            self._spawn(self.end(session.id))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def end(self, session_id: str) -> bool:
        """End a session (idempotent): its place in the relay, its link watch, its peer
        connection. False if there was no such session."""
        session = self.sessions.pop(session_id, None)
        if session is None or session.ended:
            return False
        session.ended = True
        session.unwatch()
        room = self.relay.room(session.event)
        if session.kind == "whip":
            room.stop_publishing(session.feed, session.public_id)
        else:
            room.remove_receiver(session.public_id)
        try:
            await session.pc.close()
        except Exception:
            log.exception("closing plenary session %s failed", session.public_id)
        return True

    async def _watch_sessions(self) -> None:
        """Once a second: RTCP receiver reports into the console's status, and sessions
        that never connected end (a publisher's feed is free at its deadline already)."""
        while self.sessions:
            await asyncio.sleep(MONITOR_EVERY)
            now = self.clock()
            for session in list(self.sessions.values()):
                if session.pc.connectionState != "connected":
                    never = session.publisher is None or session.publisher.connected_at is None
                    if never and now - session.created_at > self.config.connect_timeout:
                        self._end_soon(session)
                    continue
                if session.kind == "whep" and session.video_sender is not None:
                    try:
                        await self._read_report(session, now)
                    except Exception:
                        log.exception("stats of plenary session %s", session.public_id)

    async def _read_report(self, session: Session, now: float) -> None:
        stats = await session.video_sender.getStats()  # type: ignore[union-attr]
        for item in stats.values():
            if item.type != "remote-inbound-rtp" or item.timestamp == session.last_report:
                continue
            session.last_report = item.timestamp
            receiver = self.relay.room(session.event).receivers.get(session.public_id)
            if receiver is not None:
                rtt = item.roundTripTime
                receiver.report(
                    now,
                    (item.fractionLost or 0) / 256,
                    round(rtt * 1000, 1) if rtt is not None else None,
                )

    async def close(self) -> None:
        """Close every peer connection (the server stops)."""
        for session_id in list(self.sessions):
            await self.end(session_id)
        for task in list(self._tasks):
            task.cancel()
        if self._monitor is not None:
            self._monitor.cancel()
