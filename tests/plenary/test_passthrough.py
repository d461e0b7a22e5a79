"""The aiortc internals `live/plenary/passthrough.py` relies on are still there.

aiortc has no public passthrough; the adapter reaches into its receiver and sender. When
an upgrade moves any of these, this file fails first, saying what moved and where to look,
instead of the relay silently decoding again (or dropping every frame).
"""

from __future__ import annotations

import asyncio
import inspect
import queue
from importlib.metadata import version

import aioice.ice
import av
import pytest
from aiortc import (
    RTCRtpReceiver,
    RTCRtpSender,
    RTCSessionDescription,
    rtcrtpreceiver,
    rtcrtpsender,
)
from aiortc.codecs import h264, opus, vpx
from aiortc.jitterbuffer import JitterFrame

from live.plenary import passthrough
from live.plenary.frames import EncodedFrame
from tests.support.plenary_peers import Publisher, Viewer, loopback, peer, until

FIX = "update live/plenary/passthrough.py (and its pin in pyproject.toml) for this aiortc"


def source(function: object) -> str:
    return inspect.getsource(function)  # type: ignore[arg-type]


def test_aiortc_is_the_pinned_version() -> None:
    assert version("aiortc") == passthrough.AIORTC_VERSION, (
        f"aiortc {version('aiortc')} is installed, the passthrough was checked against "
        f"{passthrough.AIORTC_VERSION}: run this file, then {FIX}"
    )


def test_the_receiver_hands_reassembled_frames_to_its_decoder_queue() -> None:
    handle = source(RTCRtpReceiver._handle_rtp_packet)
    assert "self.__decoder_queue.put((codec, encoded_frame))" in handle, (
        "RTCRtpReceiver._handle_rtp_packet no longer puts (codec, encoded_frame) on "
        f"__decoder_queue: {FIX}"
    )
    init = source(RTCRtpReceiver.__init__)
    assert "self.__decoder_queue: queue.Queue = queue.Queue()" in init, (
        f"RTCRtpReceiver.__init__ no longer makes __decoder_queue a queue.Queue: {FIX}"
    )
    receive = source(RTCRtpReceiver.receive)
    assert "self.__decoder_queue," in receive and "decoder_worker" in receive, (
        f"RTCRtpReceiver.receive no longer starts decoder_worker on __decoder_queue: {FIX}"
    )
    stop = source(rtcrtpreceiver.RTCRtpReceiver._RTCRtpReceiver__stop_decoder)  # type: ignore[attr-defined]
    assert "self.__decoder_queue.put(None)" in stop, (
        f"RTCRtpReceiver no longer stops its decoder thread with None: {FIX}"
    )
    assert list(inspect.signature(JitterFrame).parameters) == ["data", "timestamp"], (
        f"JitterFrame is no longer (data, timestamp): {FIX}"
    )


def test_the_receiver_sends_plis_through_send_rtcp_pli() -> None:
    method = getattr(RTCRtpReceiver, passthrough.SEND_PLI, None)
    assert method is not None and inspect.iscoroutinefunction(method), (
        f"RTCRtpReceiver.{passthrough.SEND_PLI} is gone or no longer a coroutine: {FIX}"
    )
    assert list(inspect.signature(method).parameters) == ["self", "media_ssrc"], (
        f"RTCRtpReceiver.{passthrough.SEND_PLI} no longer takes (media_ssrc): {FIX}"
    )


def test_the_sender_hears_pli_and_fir_through_send_keyframe() -> None:
    method = getattr(RTCRtpSender, passthrough.KEYFRAME_HOOK, None)
    assert method is not None and list(inspect.signature(method).parameters) == ["self"], (
        f"RTCRtpSender.{passthrough.KEYFRAME_HOOK}() is gone or changed: {FIX}"
    )
    handle = source(RTCRtpSender._handle_rtcp_packet)
    assert "RTCP_PSFB_FIR" in handle and "RTCP_PSFB_PLI" in handle, FIX
    assert "self._send_keyframe()" in handle, (
        f"RTCRtpSender._handle_rtcp_packet no longer calls self._send_keyframe(): {FIX}"
    )


def test_the_sender_packs_encoded_packets_without_encoding_them() -> None:
    step = source(rtcrtpsender.RTCRtpSender._next_encoded_frame)
    assert "isinstance(data, Frame)" in step and ".pack(data)" in step, (
        f"RTCRtpSender no longer packs non-Frame data with Encoder.pack: {FIX}"
    )
    for encoder in (vpx.Vp8Encoder, h264.H264Encoder, opus.OpusEncoder):
        assert list(inspect.signature(encoder.pack).parameters) == ["self", "packet"], (
            f"{encoder.__name__}.pack(packet) changed: {FIX}"
        )


def test_aioice_gathers_host_addresses_through_get_host_addresses() -> None:
    params = list(inspect.signature(aioice.ice.get_host_addresses).parameters)
    assert params == ["use_ipv4", "use_ipv6"], (
        "aioice.ice.get_host_addresses(use_ipv4, use_ipv6) changed: update "
        "live/plenary/ice.py offer_host_addresses"
    )
    assert "get_host_addresses(" in source(aioice.ice.Connection.gather_candidates), (
        "aioice.Connection.gather_candidates no longer calls get_host_addresses: update "
        "live/plenary/ice.py offer_host_addresses"
    )


def test_the_adapter_refuses_a_receiver_it_cannot_take_over() -> None:
    class Started:
        _RTCRtpReceiver__started = True
        _RTCRtpReceiver__decoder_queue: queue.Queue[object] = queue.Queue()

    with pytest.raises(passthrough.InternalsChanged):
        passthrough.forward_received(Started(), "video", lambda m: None)  # type: ignore[arg-type]
    with pytest.raises(passthrough.InternalsChanged, match="no `_send_keyframe`"):
        passthrough.on_keyframe_request(object(), lambda: None)  # type: ignore[arg-type]


async def test_frames_cross_a_real_connection_encoded_both_ways(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Publisher -> forwarding receiver -> PacketTrack sender -> decoding viewer: the
    same pictures, and a PLI from the middle reaches the publisher's sender."""
    loopback(monkeypatch)
    frames: list[EncodedFrame] = []
    publisher = Publisher(width=160, height=120)
    middle = peer()
    inbound = middle.addTransceiver("video", direction="recvonly")
    sink = passthrough.forward_received(inbound.receiver, "video", frames.append)

    async def answer(sdp: str) -> str:
        await middle.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await middle.setLocalDescription(await middle.createAnswer())
        return str(middle.localDescription.sdp)

    await publisher.connect(answer)
    await until(lambda: len(frames) >= 10)
    assert frames[0].keyframe and sink.frames == len(frames)
    assert passthrough.is_forwarding(inbound.receiver)
    before = len(publisher.keyframe_requests)
    ssrc = next(iter(inbound.receiver.getSynchronizationSources())).source
    await passthrough.request_keyframe(inbound.receiver, [ssrc])
    await until(lambda: len(publisher.keyframe_requests) > before)

    queued = list(frames)

    async def next_frame() -> tuple[EncodedFrame, int]:
        await asyncio.sleep(1 / 30)
        media = queued.pop(0) if queued else frames[-1]
        return media, media.timestamp

    out = peer()
    out.addTransceiver(passthrough.PacketTrack("video", next_frame), direction="sendonly")
    viewer = Viewer(decode=True)

    async def answer_viewer(sdp: str) -> str:
        await out.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await out.setLocalDescription(await out.createAnswer())
        return str(out.localDescription.sdp)

    await viewer.connect(answer_viewer)
    await until(lambda: len(viewer.decoded) >= 1)
    picture = viewer.decoded[-1]
    assert isinstance(picture, av.VideoFrame) and (picture.width, picture.height) == (160, 120)
    for pc in (viewer, publisher):
        await pc.close()
    await middle.close()
    await out.close()
