"""Forwarding encoded media through aiortc without decoding or encoding it.

Why: aiortc (pinned: `AIORTC_VERSION`) decodes every received track in a thread and
encodes once per sender. Relaying a 640x480 VP8 speaker to 8 sites that way took 109% of
a core; forwarding the encoded frames took 12%. aiortc has no public passthrough, so this
module is the one place that reaches into its internals. `tests/plenary/test_passthrough.py`
fails loudly, naming what moved, when an upgrade changes any of them.

What it touches, and nothing else:

- Receive side: `RTCRtpReceiver.__decoder_queue` (name-mangled
  `_RTCRtpReceiver__decoder_queue`). `_handle_rtp_packet` depacketizes and reassembles
  each frame in its jitter buffer, then calls `queue.put((codec, JitterFrame))` for the
  decoder thread (`decoder_worker`), which `receive()` starts on that same queue. We swap
  the queue, before `receive()`, for one whose `put` hands the encoded frame (`.data`,
  `.timestamp`) to the relay at once, on the event loop. The decoder thread still starts,
  idles on the queue and ends on the `None` that `stop()` puts: no decoder is ever made.
- Keyframe requests out: `RTCRtpReceiver._send_rtcp_pli(media_ssrc)`, the coroutine that
  sends an RTCP PLI to the publisher for one of its SSRCs.
- Keyframe requests in: `RTCRtpSender._handle_rtcp_packet` calls `self._send_keyframe()`
  on a PLI or FIR; we replace that method on one sender instance to hear them.
- Send side, public: a sender whose track yields `av.Packet` objects (not frames) packs
  them with its codec's `Encoder.pack` and never encodes (`RTCRtpSender._next_encoded_frame`;
  aiortc's own `MediaPlayer(decode=False)` relies on it). `PacketTrack` is such a track.

The relay (`live/plenary/relay.py`) knows nothing of this: it gets `EncodedFrame` and gives
`EncodedFrame` back.
"""

from __future__ import annotations

import fractions
import logging
import queue
from collections.abc import Awaitable, Callable
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCRtpReceiver, RTCRtpSender
from aiortc.mediastreams import MediaStreamError

from live.plenary.frames import CLOCK_RATE, EncodedFrame, Kind, is_keyframe
from live.plenary.outbox import Closed

log = logging.getLogger("relais.plenary")

AIORTC_VERSION = "1.16.0"
DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
RECEIVER_STARTED = "_RTCRtpReceiver__started"
SEND_PLI = "_send_rtcp_pli"
KEYFRAME_HOOK = "_send_keyframe"


class InternalsChanged(RuntimeError):
    """aiortc no longer looks the way this adapter expects: update it (and the pin)."""


def _require(obj: object, name: str) -> Any:
    try:
        return getattr(obj, name)
    except AttributeError:
        raise InternalsChanged(
            f"aiortc internals changed: {type(obj).__name__} has no `{name}` any more; "
            f"live/plenary/passthrough.py was written for aiortc {AIORTC_VERSION}"
        ) from None


class FrameSink(queue.Queue[Any]):
    """Stands in for a receiver's decoder queue: each reassembled frame goes to `deliver`
    instead of a decoder. Only the `None` that stops the decoder thread is queued."""

    def __init__(self, kind: Kind, deliver: Callable[[EncodedFrame], None]) -> None:
        super().__init__()
        self.kind = kind
        self.deliver = deliver
        self.frames = 0

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(None)
            return
        codec, frame = item
        self.frames += 1
        data: bytes = frame.data
        try:
            self.deliver(
                EncodedFrame(self.kind, data, int(frame.timestamp), is_keyframe(codec.name, data))
            )
        except Exception:  # the receive path must go on whatever one frame did
            log.exception("forwarding a %s frame failed", self.kind)


def forward_received(
    receiver: RTCRtpReceiver, kind: Kind, deliver: Callable[[EncodedFrame], None]
) -> FrameSink:
    """From now on, `receiver` hands each encoded frame it receives to `deliver` (on the
    event loop) and decodes nothing. Call it before the connection starts receiving."""
    if _require(receiver, RECEIVER_STARTED):
        raise InternalsChanged("forward_received must be called before the receiver starts")
    current = _require(receiver, DECODER_QUEUE)
    if not isinstance(current, queue.Queue):
        raise InternalsChanged(
            f"aiortc internals changed: {DECODER_QUEUE} is a {type(current).__name__}, "
            "not a queue.Queue"
        )
    sink = FrameSink(kind, deliver)
    setattr(receiver, DECODER_QUEUE, sink)
    return sink


def is_forwarding(receiver: RTCRtpReceiver) -> bool:
    """Does this receiver forward encoded frames (rather than decode them)?"""
    return isinstance(getattr(receiver, DECODER_QUEUE, None), FrameSink)


async def request_keyframe(receiver: RTCRtpReceiver, ssrcs: list[int]) -> None:
    """Ask the remote sender for a keyframe: an RTCP PLI for each of its media SSRCs."""
    send_pli: Callable[[int], Awaitable[None]] = _require(receiver, SEND_PLI)
    for ssrc in ssrcs:
        await send_pli(ssrc)


def on_keyframe_request(
    sender: RTCRtpSender, callback: Callable[[], None], keep: bool = False
) -> None:
    """Call `callback` when the remote peer asks this sender for a keyframe (PLI or
    FIR). `keep`: also do what aiortc does (its encoder's next frame is a keyframe)."""
    original: Callable[[], None] = _require(sender, KEYFRAME_HOOK)

    def hook() -> None:
        callback()
        if keep:
            original()

    setattr(sender, KEYFRAME_HOOK, hook)


class PacketTrack(MediaStreamTrack):
    """A sender's track of encoded frames: each `recv` gives the next one as an
    `av.Packet`, which the sender packs into RTP as it is."""

    def __init__(
        self, kind: Kind, next_frame: Callable[[], Awaitable[tuple[EncodedFrame, int]]]
    ) -> None:
        super().__init__()
        self.kind = kind
        self._next = next_frame
        self._time_base = fractions.Fraction(1, CLOCK_RATE[kind])

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        try:
            media, timestamp = await self._next()
        except Closed:
            self.stop()
            raise MediaStreamError from None
        packet = av.Packet(media.data)
        packet.pts = timestamp
        packet.time_base = self._time_base
        return packet
