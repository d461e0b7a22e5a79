"""An SDP offer, checked before any peer connection is made for it.

The relay forwards frames as they were encoded, so every feed of every event uses one
video codec (`RELAIS_PLENARY_VIDEO_CODEC`: VP8 by default, H264 for OBS Studio, whose WHIP
output sends H.264) and Opus for sound: a floor change then never needs a codec change,
which WHEP could not renegotiate. An offer that cannot send (WHIP) or receive (WHEP)
them is refused with a reason, before anything is set up.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiortc import RTCRtpSender, sdp
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from live.errors import RelaisError
from live.plenary.frames import KINDS, Kind

VIDEO_CODECS = ("VP8", "H264")
MAX_OFFER_BYTES = 64 * 1024


class SdpInvalid(RelaisError):
    """Not an SDP offer this relay can read."""

    def __init__(self, reason: str) -> None:
        super().__init__("sdp_invalid", f"malformed SDP offer: {reason}", reason=reason)


class SdpCodec(RelaisError):
    """An offer without the codec every feed uses."""

    def __init__(self, kind: str, codec: str) -> None:
        super().__init__("sdp_codec", f"the offer's {kind} has no {codec}", kind=kind, codec=codec)


@dataclass(frozen=True)
class Offer:
    sdp: str
    kinds: tuple[Kind, ...]
    media_ssrcs: dict[str, list[int]]  # per kind: the sender's media SSRCs (not RTX)


def codec_of(kind: str, video_codec: str) -> str:
    return video_codec if kind == "video" else "opus"


def preferences(kind: str, video_codec: str) -> list[RTCRtpCodecCapability]:
    """The one codec (with its retransmission format, for video) a transceiver of `kind`
    may negotiate."""
    name = codec_of(kind, video_codec).lower()
    caps = RTCRtpSender.getCapabilities(kind).codecs
    return [c for c in caps if c.name.lower() in (name, "rtx")]


def _has_codec(media: sdp.MediaDescription, name: str) -> bool:
    for codec in media.rtp.codecs:
        if codec.name.lower() != name.lower():
            continue
        if name.upper() == "H264" and str(codec.parameters.get("packetization-mode")) != "1":
            continue
        return True
    return False


def read_offer(text: str, video_codec: str, publishing: bool) -> Offer:
    """Check an offer: SdpInvalid if it is not one (at most one audio and one video,
    in the right direction), SdpCodec if it lacks the relay's codec for a kind it has."""
    try:
        description = sdp.SessionDescription.parse(text)
    except Exception as exc:  # the parser asserts and indexes: anything is "malformed"
        raise SdpInvalid(type(exc).__name__) from None
    media = description.media
    if not media:
        raise SdpInvalid("no media")
    kinds = [m.kind for m in media]
    if any(k not in KINDS for k in kinds) or len(set(kinds)) != len(kinds):
        raise SdpInvalid("only one audio and one video section")
    if not all(
        m.ice is not None
        and m.ice.usernameFragment
        and m.ice.password
        and m.dtls is not None
        and m.dtls.fingerprints
        for m in media
    ):
        raise SdpInvalid("no ICE credentials or DTLS fingerprint")
    wanted = ("sendonly", "sendrecv") if publishing else ("recvonly", "sendrecv")
    ssrcs: dict[str, list[int]] = {}
    for m in media:
        if m.direction not in wanted:
            raise SdpInvalid(f"{m.kind} is {m.direction}")
        codec = codec_of(m.kind, video_codec)
        if not _has_codec(m, codec):
            raise SdpCodec(m.kind, codec)
        ssrcs[m.kind] = media_ssrcs(m)
    return Offer(sdp=text, kinds=tuple(kinds), media_ssrcs=ssrcs)  # type: ignore[arg-type]


def media_ssrcs(media: sdp.MediaDescription) -> list[int]:
    """The SSRC a keyframe request must name: the first of an `a=ssrc-group:FID` (the
    second is retransmission, which Chromium ignores PLIs for), else the first `a=ssrc`."""
    for group in media.ssrc_group:
        if group.semantic == "FID" and group.items:
            return [int(group.items[0])]
    return [media.ssrc[0].ssrc] if media.ssrc else []
