"""An encoded frame as the relay carries it, and what it says about itself: is it a
keyframe, and how large a picture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["audio", "video"]
KINDS: tuple[Kind, ...] = ("audio", "video")
CLOCK_RATE: dict[str, int] = {"audio": 48000, "video": 90000}


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One encoded frame as the publisher sent it (VP8 frame, H.264 access unit, Opus
    packet), with its timestamp in the codec's clock (90 kHz video, 48 kHz audio)."""

    kind: Kind
    data: bytes
    timestamp: int
    keyframe: bool = True  # audio frames stand alone


def is_keyframe(codec: str, data: bytes) -> bool:
    """Does this encoded frame start a picture on its own? VP8: the frame tag's P bit is 0
    (RFC 6386 §9.1). H.264: the access unit holds an IDR slice (NAL type 5). Audio: yes."""
    name = codec.lower()
    if name == "vp8":
        return bool(data) and not data[0] & 0x01
    if name == "h264":
        return any(nal & 0x1F == 5 for nal in h264_nal_headers(data))
    return True


def h264_nal_headers(data: bytes) -> list[int]:
    """The first byte of each NAL unit of an Annex B access unit (00 00 01 start codes)."""
    headers = []
    i = data.find(b"\x00\x00\x01")
    while i != -1 and i + 3 < len(data):
        headers.append(data[i + 3])
        i = data.find(b"\x00\x00\x01", i + 3)
    return headers


def vp8_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a VP8 keyframe (RFC 6386 §9.1: start code 9d 01 2a, then two
    14-bit sizes), or None for anything else."""
    if len(data) < 10 or data[0] & 0x01 or data[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(data[6:8], "little") & 0x3FFF
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    return width, height
