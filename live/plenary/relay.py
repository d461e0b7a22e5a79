"""The plenary of one event as a relay of encoded frames: feeds, the floor, receivers.

No WebRTC here, no I/O: frames in, frames out, decisions about keyframes, and counts for
the console. `live/plenary/service.py` binds it to aiortc peer connections.

- A **feed** is one published source: `speaker` (the remote speaker, or the hall's mixer
  over OBS) or `site:<id>` (a site's room camera, for the mosaic and for the floor). At
  most one publisher per feed, and who may take it over is `EventRelay.check_free`: the link
  that publishes it takes it back at once (a reconnect, a reloaded page, OBS restarting);
  another link is refused (`plenary_busy`) while the publisher is alive, that is connected
  and sending, or still within its connect deadline. A publisher that never connects
  frees the feed at that deadline, and one gone silent after `STALE_AFTER`. A session
  still connecting yields at once to the feed's owner (the link that last had it live)
  and to anyone when its link already let a session on this feed end unconnected: an
  offer repeated without ever connecting cannot keep the feed from its publisher.
- The **program** is the feed that has the floor (the speaker by default). A receiver
  watches the program, and follows it when the floor moves, or one feed (a mosaic tile).
- Each receiver has an **outbox** per kind (`outbox.py`), bounded in frames and bytes: a
  receiver too slow to keep up skips to the next keyframe and never slows the others.
- **Keyframes**: a video outbox that has to start over (a new receiver, a slow one, a
  floor change, a new publisher) waits for a keyframe; while any outbox of a feed waits,
  the feed asks its publisher for one, at most once per `RESTART_INTERVAL` (a screen
  with no picture at all gets one soon, screens joining together share it). A receiver's
  own keyframe requests (PLI/FIR: it lost part of a picture it has) are forwarded at
  most once per `KEYFRAME_INTERVAL`, all receivers together.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from live.errors import RelaisError
from live.plenary.frames import KINDS, EncodedFrame, vp8_size
from live.plenary.outbox import Outbox, RateMeter

SPEAKER = "speaker"
PROGRAM = "program"
FEED_ID = re.compile(r"^(speaker|site:[A-Za-z0-9][A-Za-z0-9_-]{0,63})$")

KEYFRAME_INTERVAL = 0.5  # seconds between two keyframe requests for receivers' PLI/FIR
RESTART_INTERVAL = 0.2  # ... and for receivers that have no picture at all
STALE_AFTER = 5.0  # a connected publisher that sent nothing for this long may be replaced
CONNECT_DEADLINE = 6.0  # ... and one not connected (ICE and DTLS) this long after its offer
STALLED_MEMORY = 16  # links a feed remembers for having let a session end unconnected
LOST_AFTER = 2.0  # a receiver without a new frame for this long has lost the picture
REPORT_TIMEOUT = 6.0  # ... and one without an RTCP receiver report for this long too


class PlenaryBusy(RelaisError):
    """Someone already publishes this feed."""

    def __init__(self, feed: str) -> None:
        super().__init__("plenary_busy", f"{feed} is already being published", feed=feed)


class NoSuchFeed(RelaisError):
    """A feed name that is not `speaker` or `site:<id>`."""

    def __init__(self, feed: str) -> None:
        super().__init__("no_such_feed", f"no feed named {feed!r}", feed=feed)


def check_feed(feed: str) -> str:
    """`feed` if it is a feed name (`speaker`, `site:<id>`), else NoSuchFeed."""
    if not FEED_ID.match(feed):
        raise NoSuchFeed(feed[:80])
    return feed


class KeyframeGate:
    """At most one keyframe request per `interval` seconds, whoever asks; or per
    `restart_interval` when a receiver has no picture at all."""

    def __init__(self, interval: float, restart_interval: float) -> None:
        self.interval = interval
        self.restart_interval = restart_interval
        self.last: float | None = None

    def allow(self, now: float, restarting: bool) -> bool:
        wait = self.restart_interval if restarting else self.interval
        if self.last is not None and now - self.last < wait:
            return False
        self.last = now
        return True


@dataclass
class Publisher:
    """Who publishes a feed: one WHIP session. `request_keyframe` reaches the peer
    (an RTCP PLI); the relay calls it, rate-limited."""

    id: str
    role: str
    request_keyframe: Callable[[], None]
    site: str | None = None
    link: str = ""
    started_at: float = 0.0
    connect_by: float = 0.0  # not connected by then: its feed is free again
    connected_at: float | None = None
    last_media_at: float | None = None
    received: RateMeter = field(default_factory=RateMeter)
    keyframes: int = 0
    width: int | None = None
    height: int | None = None

    def alive(self, now: float) -> bool:
        """Connected and sending (or connected a moment ago), or still in time to connect."""
        if self.connected_at is None:
            return now < self.connect_by
        return now - (self.last_media_at or self.connected_at) < STALE_AFTER


class Feed:
    """One source and the outboxes it fills."""

    def __init__(
        self,
        id: str,
        clock: Callable[[], float],
        interval: float = KEYFRAME_INTERVAL,
        restart_interval: float = RESTART_INTERVAL,
    ) -> None:
        self.id = id
        self.clock = clock
        self.publisher: Publisher | None = None
        self.owner = ""  # the link whose publisher was last connected
        self.stalled: deque[str] = deque(maxlen=STALLED_MEMORY)  # links that never connected
        self.outboxes: dict[str, set[Outbox]] = {kind: set() for kind in KINDS}
        self.gate = KeyframeGate(interval, restart_interval)
        self.keyframe_requests = 0

    def attach(self, box: Outbox) -> None:
        self.outboxes[box.kind].add(box)
        if box.started and box.kind == "video":
            box.restart()
            self.want_keyframe()

    def detach(self, box: Outbox) -> None:
        self.outboxes[box.kind].discard(box)

    def publish(self, media: EncodedFrame, by: Publisher) -> None:
        """Fan one frame of the publisher `by` out to every outbox of its kind; ask for a
        keyframe if any of them waits for one. Frames of a publisher that was replaced
        are ignored."""
        publisher = self.publisher
        if publisher is not by:
            return
        now = self.clock()
        if publisher.connected_at is None:  # media came: it is connected, whoever said so
            self.connected(publisher)
        publisher.last_media_at = now
        if media.kind == "video":
            publisher.received.tick(now)
            if media.keyframe:
                publisher.keyframes += 1
                size = vp8_size(media.data)
                if size:
                    publisher.width, publisher.height = size
        waiting = False
        for box in self.outboxes[media.kind]:
            waiting = box.push(media, publisher) or waiting
        if waiting:
            self.want_keyframe()

    def connected(self, publisher: Publisher) -> None:
        """`publisher`'s peer connected: its link owns the feed and is in good standing."""
        if publisher.connected_at is None:
            publisher.connected_at = self.clock()
        if publisher.link:
            self.owner = publisher.link
            while publisher.link in self.stalled:
                self.stalled.remove(publisher.link)

    def gone(self, publisher: Publisher, by_own_link: bool = False) -> None:
        """`publisher` stops publishing; its link is remembered if it never connected
        (unless its own link is taking over)."""
        never = publisher.connected_at is None and publisher.link and not by_own_link
        if never and publisher.link not in self.stalled:
            self.stalled.append(publisher.link)

    def want_keyframe(self, restarting: bool = True) -> None:
        """Ask the publisher for a keyframe, unless one was asked for very recently.
        `restarting`: for a receiver with no picture; else for a receiver's PLI/FIR."""
        if self.publisher is not None and self.gate.allow(self.clock(), restarting):
            self.keyframe_requests += 1
            self.publisher.request_keyframe()

    def set_publisher(self, publisher: Publisher | None) -> None:
        self.publisher = publisher
        self.gate.last = None
        for box in self.outboxes["video"]:
            box.restart()


@dataclass
class Receiver:
    """One WHEP session: what it watches (`program` or a feed) and its outboxes."""

    id: str
    role: str
    watching: str
    outboxes: dict[str, Outbox]
    site: str | None = None
    link: str = ""
    created_at: float = 0.0
    state: str = "new"  # the peer connection's state, as the service last saw it
    feed: str = ""  # the feed its outboxes are attached to
    last_report_at: float | None = None  # last RTCP receiver report for its video
    fraction_lost: float = 0.0
    rtt_ms: float | None = None
    sound: str = ""  # what its page plays: "on", "muted", "echo" (a site that has the floor)

    def report(self, now: float, fraction_lost: float, rtt_ms: float | None) -> None:
        """An RTCP receiver report arrived: the receiver is alive and says how it goes."""
        self.last_report_at = now
        self.fraction_lost = fraction_lost
        self.rtt_ms = rtt_ms


class EventRelay:
    """The plenary of one event."""

    def __init__(
        self,
        event: str,
        clock: Callable[[], float] = time.monotonic,
        connect_deadline: float = CONNECT_DEADLINE,
    ) -> None:
        self.event = event
        self.clock = clock
        self.connect_deadline = connect_deadline
        self.feeds: dict[str, Feed] = {}
        self.program = SPEAKER
        self.receivers: dict[str, Receiver] = {}
        self.feed(SPEAKER)

    def feed(self, feed_id: str) -> Feed:
        feed = self.feeds.get(feed_id)
        if feed is None:
            feed = self.feeds[check_feed(feed_id)] = Feed(feed_id, self.clock)
        return feed

    # -- publishers ---------------------------------------------------------------------

    def check_free(self, feed_id: str, link: str = "") -> Publisher | None:
        """Whom an offer of `link` on `feed_id` would replace (None: nobody publishes it),
        or PlenaryBusy if it may not (see the module's docstring)."""
        feed = self.feed(feed_id)
        current = feed.publisher
        if current is None:
            return None
        if link and current.link == link:
            return current
        if not current.alive(self.clock()):
            return current
        owner = bool(link) and link == feed.owner
        better = bool(link) and current.link in feed.stalled and link not in feed.stalled
        if current.connected_at is None and (owner or better):
            return current
        raise PlenaryBusy(feed_id)

    def start_publishing(self, feed_id: str, publisher: Publisher) -> Publisher | None:
        """`publisher` now publishes `feed_id`, and has the connect deadline to connect.
        PlenaryBusy if it may not take the feed; whom it replaces is returned, so that
        its session ends."""
        current = self.check_free(feed_id, publisher.link)
        feed = self.feeds[feed_id]
        if current is not None:
            feed.gone(current, by_own_link=current.link == publisher.link)
        publisher.started_at = self.clock()
        publisher.connect_by = publisher.started_at + self.connect_deadline
        feed.set_publisher(publisher)
        return current

    def connected(self, feed_id: str, publisher_id: str) -> None:
        """The peer of `publisher_id` connected (ICE and DTLS): it holds its feed now."""
        feed = self.feeds.get(feed_id)
        if feed is not None and feed.publisher is not None and feed.publisher.id == publisher_id:
            feed.connected(feed.publisher)

    def stop_publishing(self, feed_id: str, publisher_id: str) -> None:
        feed = self.feeds.get(feed_id)
        if feed is not None and feed.publisher is not None and feed.publisher.id == publisher_id:
            feed.gone(feed.publisher)
            feed.set_publisher(None)

    def publish(self, feed_id: str, media: EncodedFrame, by: Publisher) -> None:
        feed = self.feeds.get(feed_id)
        if feed is not None:
            feed.publish(media, by)

    # -- receivers ----------------------------------------------------------------------

    def new_receiver(self, id: str, role: str, watching: str = PROGRAM, **who: Any) -> Receiver:
        """A receiver of the program (or of one feed), with an outbox per kind, attached
        to its source; its outboxes fill once started."""
        if watching != PROGRAM:
            check_feed(watching)
        outboxes: dict[str, Outbox] = {kind: Outbox(kind, self.clock) for kind in KINDS}
        outboxes["video"].on_start = lambda _box: self._video_started(id)
        receiver = Receiver(
            id=id, role=role, watching=watching, outboxes=outboxes, created_at=self.clock(), **who
        )
        self.receivers[id] = receiver
        self._attach(receiver, self.program if watching == PROGRAM else watching)
        return receiver

    def _attach(self, receiver: Receiver, feed_id: str) -> None:
        if receiver.feed:
            old = self.feeds[receiver.feed]
            for box in receiver.outboxes.values():
                old.detach(box)
        feed = self.feed(feed_id)
        receiver.feed = feed_id
        for box in receiver.outboxes.values():
            feed.attach(box)

    def _video_started(self, receiver_id: str) -> None:
        """A receiver's transport is up: its first picture needs a keyframe, now."""
        receiver = self.receivers.get(receiver_id)
        if receiver is not None:
            self.feed(receiver.feed).want_keyframe()

    def keyframe_wanted(self, receiver_id: str) -> None:
        """A receiver lost part of the picture (its PLI or FIR): ask its source's
        publisher for a keyframe, rate-limited with everyone else's requests."""
        receiver = self.receivers.get(receiver_id)
        if receiver is not None:
            self.feed(receiver.feed).want_keyframe(restarting=False)

    def remove_receiver(self, receiver_id: str) -> None:
        receiver = self.receivers.pop(receiver_id, None)
        if receiver is None:
            return
        feed = self.feeds.get(receiver.feed)
        for box in receiver.outboxes.values():
            box.close()
            if feed is not None:
                feed.detach(box)

    # -- the floor ----------------------------------------------------------------------

    def set_program(self, feed_id: str) -> None:
        """Give the floor to `feed_id`: every receiver of the program switches to it (and
        starts again from one of its keyframes)."""
        check_feed(feed_id)
        if feed_id == self.program:
            return
        self.program = feed_id
        for receiver in self.receivers.values():
            if receiver.watching == PROGRAM:
                self._attach(receiver, feed_id)

    # -- for the console ----------------------------------------------------------------

    def empty(self) -> bool:
        return not self.receivers and all(f.publisher is None for f in self.feeds.values())

    def status(self) -> dict[str, Any]:
        """Who publishes, who receives and how well: what the console shows."""
        now = self.clock()
        feeds = {}
        for feed_id, feed in sorted(self.feeds.items()):
            p = feed.publisher
            feeds[feed_id] = {
                "live": p is not None and p.last_media_at is not None and p.alive(now),
                "publisher": None
                if p is None
                else {
                    "role": p.role,
                    "site": p.site,
                    "for_s": round(now - p.started_at, 1),
                    "fps": p.received.rate(now),
                    "frames": p.received.count,
                    "keyframes": p.keyframes,
                    "width": p.width,
                    "height": p.height,
                },
                "receivers": len(feed.outboxes["video"]),
                "keyframe_requests": feed.keyframe_requests,
            }
        receivers = [
            self._receiver_status(r, now)
            for r in sorted(self.receivers.values(), key=lambda r: r.created_at)
        ]
        return {"program": self.program, "feeds": feeds, "receivers": receivers}

    def _receiver_status(self, r: Receiver, now: float) -> dict[str, Any]:
        video = r.outboxes["video"]
        feed = self.feeds.get(r.feed)
        source = feed.publisher if feed is not None else None
        source_live = source is not None and source.last_media_at is not None and source.alive(now)
        last = video.forwarded.last
        picture = last is not None and now - last < LOST_AFTER
        expecting = (
            source_live and video.started_at is not None and now - video.started_at > LOST_AFTER
        )
        silent_rtcp = (
            r.state == "connected"
            and now - (r.last_report_at or r.created_at) > REPORT_TIMEOUT
            and now - r.created_at > REPORT_TIMEOUT
        )
        lost = r.state in ("failed", "closed") or (expecting and not picture) or silent_rtcp
        return {
            "id": r.id,
            "role": r.role,
            "site": r.site,
            "watching": r.watching,
            "feed": r.feed,
            "state": r.state,
            "for_s": round(now - r.created_at, 1),
            "fps": video.forwarded.rate(now),
            "frames": video.forwarded.count,
            "dropped": video.dropped,
            "waiting_keyframe": video.started and video.waiting_keyframe,
            "picture": picture,
            "lost": lost,
            "fraction_lost": round(r.fraction_lost, 3),
            "rtt_ms": r.rtt_ms,
            "sound": r.sound,
        }


class Relay:
    """Every event's plenary, by event id."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        connect_deadline: float = CONNECT_DEADLINE,
    ) -> None:
        self.clock = clock
        self.connect_deadline = connect_deadline
        self.rooms: dict[str, EventRelay] = {}

    def room(self, event: str) -> EventRelay:
        room = self.rooms.get(event)
        if room is None:
            room = self.rooms[event] = EventRelay(event, self.clock, self.connect_deadline)
        return room
