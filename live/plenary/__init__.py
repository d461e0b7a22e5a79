"""The plenary visio: the speaker relayed to every site over WebRTC (WHIP/WHEP)."""
