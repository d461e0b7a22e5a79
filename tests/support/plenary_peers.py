"""aiortc peers for the plenary tests and benchmark: a synthetic publisher, and receivers
that count the frames they get (without decoding, unless asked to).

Loopback: aioice offers every local address but 127.0.0.1; tests and the benchmark make it
offer 127.0.0.1 only (`loopback_only`), in their own process and, through
RELAIS_ICE_HOST_ADDRESSES, in the server's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from aiortc import (
    AudioStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame
from av.video.frame import PictureType

from live.plenary import passthrough
from live.plenary.frames import EncodedFrame
from live.plenary.ice import offer_host_addresses

Post = Callable[[str], Awaitable[str]]  # sends an offer, returns the answer


def loopback_only() -> None:
    """For this whole process (the benchmark's)."""
    offer_host_addresses(["127.0.0.1"])


def loopback(monkeypatch: Any) -> None:
    """For one test: aioice offers 127.0.0.1 only, then as before."""
    monkeypatch.setattr(
        "aioice.ice.get_host_addresses",
        lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else [],
    )


def peer() -> RTCPeerConnection:
    """A peer connection with no ICE servers (aiortc's default is a public STUN server)."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


class SyntheticVideo(VideoStreamTrack):
    """A moving picture at 30 fps. The encoder marks a frame it was asked to make a
    keyframe (`pict_type = I`); frames are reused, so that mark is reset each time, or
    every later frame would be a keyframe too."""

    def __init__(self, width: int = 320, height: int = 240, shade: int = 0) -> None:
        super().__init__()
        self.frames = []
        for i in range(30):
            y = np.full((height, width), 40 + shade, dtype=np.uint8)
            bar = (i * width) // 30
            y[:, bar : bar + width // 10] = 220
            uv = np.full((height // 2, width), 128, dtype=np.uint8)
            self.frames.append(VideoFrame.from_ndarray(np.vstack([y, uv]), format="yuv420p"))
        self.sent = 0

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = self.frames[self.sent % len(self.frames)]
        frame.pict_type = PictureType.NONE
        frame.pts = pts
        frame.time_base = time_base
        self.sent += 1
        return frame


class Publisher:
    """Sends a synthetic picture (and silence) and counts the keyframe requests it gets."""

    def __init__(self, width: int = 320, height: int = 240, shade: int = 0) -> None:
        self.pc = peer()
        self.video = SyntheticVideo(width, height, shade)
        self.keyframe_requests: list[float] = []
        video = self.pc.addTransceiver(self.video, direction="sendonly")
        self.pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        self.sender: RTCRtpSender = video.sender
        passthrough.on_keyframe_request(
            self.sender, lambda: self.keyframe_requests.append(time.monotonic()), keep=True
        )

    async def connect(self, post: Post) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await post(self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def close(self) -> None:
        await self.pc.close()


class Viewer:
    """A WHEP-style receiver (recvonly audio and video). By default it counts the
    encoded frames it reassembles and decodes nothing (a light load generator);
    `decode=True` reads decoded pictures from the track as a player would."""

    def __init__(self, decode: bool = False) -> None:
        self.pc = peer()
        self.decode = decode
        self.frames: list[EncodedFrame] = []
        self.audio_frames = 0
        self.first_frame_at: float | None = None
        self.started_at = time.monotonic()
        self.decoded: list[VideoFrame] = []
        self._reader: asyncio.Task[None] | None = None
        video = self.pc.addTransceiver("video", direction="recvonly")
        audio = self.pc.addTransceiver("audio", direction="recvonly")
        if not decode:
            passthrough.forward_received(video.receiver, "video", self._on_video)
            passthrough.forward_received(audio.receiver, "audio", self._on_audio)
        else:
            self.pc.on("track", self._on_track)

    def _on_video(self, media: EncodedFrame) -> None:
        if self.first_frame_at is None:
            self.first_frame_at = time.monotonic()
        if len(self.frames) < 20000:
            self.frames.append(media)

    def _on_audio(self, media: EncodedFrame) -> None:
        self.audio_frames += 1

    def _on_track(self, track: Any) -> None:
        if track.kind == "video":
            self._reader = asyncio.ensure_future(self._read(track))

    async def _read(self, track: Any) -> None:
        try:
            while True:
                frame = await track.recv()
                if self.first_frame_at is None:
                    self.first_frame_at = time.monotonic()
                self.decoded.append(frame)
                del self.decoded[:-5]
                self.frames.append(EncodedFrame("video", b"", 0, False))
        except MediaStreamError:
            pass

    async def connect(self, post: Post) -> None:
        self.started_at = time.monotonic()
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await post(self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    @property
    def count(self) -> int:
        return len(self.frames)

    @property
    def first_keyframe(self) -> bool:
        """Did its picture start with a keyframe (a decoder can show it at once)?"""
        return bool(self.frames) and self.frames[0].keyframe

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self.pc.close()


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition of the media flow (a bound only against hanging forever)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)
