"""The plenary through a TURN server: a site whose network lets only TCP out (a school's
firewall: TCP 443, nothing else) still receives the picture, relayed by coturn over TCP.

Debian's coturn runs here on loopback with its own configuration (`use-auth-secret`, as
the README sets it up); the server hands out short-lived TURN credentials from
RELAIS_TURN_SECRET. The receiver may use nothing but that TURN server over TCP: aiortc's
`relay` ICE transport policy gathers no host candidate (no direct path), and its only TURN
URL is `?transport=tcp`.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from live.config import Settings
from tests.browser.test_plenary import (  # noqa: F401  (media_browser: a fixture)
    WAIT,
    Pages,
    decoding,
    go_live,
    media_browser,
    plenary_step,
)
from tests.support.plenary_peers import Publisher, loopback, until
from tests.support.servers import LiveServer, free_port, unavailable

EVENT = "poitiers-2020"  # sites: poitiers (the hub), niort, angouleme, saint-jean
SDP = {"Content-Type": "application/sdp"}
RELAYED = re.compile(r"Local relay addr: ([0-9.]+):([0-9]+)")
CONFIG = re.compile(r'<script type="application/json" id="plenary-config">(.*?)</script>', re.S)


@dataclass
class Coturn:
    port: int
    secret: str
    log: Path

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=tcp"

    def relayed_addresses(self) -> set[tuple[str, int]]:
        """The relayed transport addresses coturn allocated (its log says each)."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return {(host, int(port)) for host, port in RELAYED.findall(text)}


def wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("turnserver exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("turnserver did not listen")


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Coturn]:
    """coturn on a free port of 127.0.0.1, relaying to loopback peers (the relay here)."""
    binary = shutil.which("turnserver")
    if binary is None:
        unavailable("coturn is not installed (apt-get install coturn)")
        raise AssertionError  # unreachable: unavailable() skips or fails
    port = free_port()
    relay_low = 49152 + secrets.randbelow(150) * 100  # a block of 100 relay ports
    turn = Coturn(port, secrets.token_urlsafe(16), tmp_path / "turnserver.log")
    conf = tmp_path / "turnserver.conf"
    conf.write_text(
        "\n".join(
            [
                f"listening-port={port}",
                "listening-ip=127.0.0.1",
                "relay-ip=127.0.0.1",
                f"min-port={relay_low}",
                f"max-port={relay_low + 99}",
                "use-auth-secret",
                f"static-auth-secret={turn.secret}",
                "realm=relais.test",
                "allow-loopback-peers",
                "no-udp",  # TCP listener only: a client reaches it over TCP or not at all
                "no-tls",
                "no-dtls",
                "no-cli",
                "no-rfc5780",
                "verbose",
                f"userdb={tmp_path / 'turndb'}",
                f"pidfile={tmp_path / 'turnserver.pid'}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    with turn.log.open("wb") as log:
        proc = subprocess.Popen(
            [binary, "-c", str(conf), "--log-file=stdout", "--simple-log"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_listening(port, proc)
        yield turn
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def relais(tmp_path: Path, coturn: Coturn, **env: str) -> LiveServer:
    """The relay with coturn as its TURN server (TCP), and 127.0.0.1 as its host address
    (a speaker here may reach it directly)."""
    return LiveServer(
        tmp_path / "data",
        env={
            "RELAIS_ICE_SERVERS": coturn.url,
            "RELAIS_TURN_SECRET": coturn.secret,
            "RELAIS_ICE_HOST_ADDRESSES": "127.0.0.1",
            **env,
        },
    )


@pytest.fixture
def server(tmp_path: Path, coturn: Coturn) -> Iterator[LiveServer]:
    s = relais(tmp_path, coturn)
    s.start()
    try:
        yield s
    finally:
        s.stop()


class TcpOnlySite:
    """A site's WHEP receiver allowed only the TURN server, over TCP: relay candidates
    only, from `?transport=tcp` URLs only. It decodes the picture, as a screen does."""

    def __init__(self, ice_servers: list[dict[str, Any]]) -> None:
        servers = [
            RTCIceServer(urls, s.get("username"), s.get("credential"))
            for s in ice_servers
            if (urls := [u for u in s["urls"] if u.startswith("turn:") and "transport=tcp" in u])
        ]
        assert servers, f"no TURN over TCP in {ice_servers}"
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=servers, iceTransportPolicy=RTCIceTransportPolicy.RELAY)
        )
        self.decoded = 0
        self._readers: list[asyncio.Task[None]] = []
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.on("track", self._on_track)

    def _on_track(self, track: Any) -> None:
        if track.kind == "video":
            self._readers.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track: Any) -> None:
        try:
            while True:
                await track.recv()  # a decoded picture
                self.decoded += 1
        except MediaStreamError:
            pass

    async def connect(self, http: httpx.AsyncClient, url: str) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        response = await http.post(url, content=self.pc.localDescription.sdp, headers=SDP)
        assert response.status_code == 201, response.text
        answer = RTCSessionDescription(sdp=response.text, type="answer")
        await self.pc.setRemoteDescription(answer)

    def selected_pair(self) -> Any:
        # aiortc reports no candidate pairs in getStats(): read aioice's nominated pair.
        """The candidate pair ICE nominated (aioice's, under aiortc's transport)."""
        transport = self.pc.getTransceivers()[0].receiver.transport.transport
        connection = transport._connection
        (pair,) = connection._nominated.values()  # bundled: one component
        return pair

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await self.pc.close()


def page_config(server: LiveServer, page: str, role: str, **claims: Any) -> dict[str, Any]:
    """The plenary configuration a page is given (its `plenary-config` block)."""
    k = server.link(EVENT, role, **claims)
    response = httpx.get(f"{server.url}/e/{EVENT}/{page}", params={"k": k})
    assert response.status_code == 200
    match = CONFIG.search(response.text)
    assert match, "no plenary-config in the page"
    config: dict[str, Any] = json.loads(match.group(1))
    return config


async def test_a_site_with_only_tcp_out_receives_the_picture_through_turn(
    server: LiveServer, coturn: Coturn, monkeypatch: pytest.MonkeyPatch
) -> None:
    loopback(monkeypatch)  # the speaker (in this process) reaches the relay directly
    speaker = Publisher()
    config = page_config(server, "screen", "screen", site="niort")
    (turn,) = config["ice_servers"]
    assert turn["urls"] == [coturn.url] and turn["username"].endswith(":relais")
    site = TcpOnlySite(config["ice_servers"])
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:

        async def post_whip(sdp: str) -> str:
            token = server.link(EVENT, "speaker")
            response = await http.post(
                f"/e/{EVENT}/whip",
                content=sdp,
                headers={"Authorization": f"Bearer {token}", **SDP},
            )
            assert response.status_code == 201, response.text
            return response.text

        await speaker.connect(post_whip)
        screen = server.link(EVENT, "screen", site="niort")
        await site.connect(http, f"/e/{EVENT}/whep?k={screen}")
        try:
            await until(lambda: site.decoded >= 30, timeout=30)
            first = site.decoded
            await until(lambda: site.decoded >= first + 30, timeout=30)  # it keeps coming
            # The media came on a relayed candidate: an address coturn allocated, for a
            # client it can only hear over TCP.
            local = site.selected_pair().local_candidate
            assert local.type == "relay"
            assert (local.host, local.port) in coturn.relayed_addresses()
            assert "UDP listener opened" not in coturn.log.read_text()
        finally:
            await site.close()
            await speaker.close()


# Every RTCPeerConnection a page makes, kept where the test can ask it for its statistics.
KEEP_PEERS = """
(() => {
  const Native = window.RTCPeerConnection;
  window.peers = [];
  window.RTCPeerConnection = function (config) {
    const pc = new Native(config);
    window.peers.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
})();
"""

# How each connected peer connection of the page goes: its configured policy, and the
# local candidate of its selected pair.
SELECTED = """
async () => {
  const out = [];
  for (const pc of window.peers) {
    if (pc.connectionState !== "connected") continue;
    const stats = await pc.getStats();
    let local = null;
    stats.forEach((s) => {
      if (s.type === "transport" && s.selectedCandidatePairId) {
        const pair = stats.get(s.selectedCandidatePairId);
        local = stats.get(pair.localCandidateId);
      }
    });
    out.push({
      policy: pc.getConfiguration().iceTransportPolicy,
      type: local && local.candidateType,
      relayProtocol: local && local.relayProtocol,
    });
  }
  return out;
}
"""


@pytest.mark.browser
def test_with_the_relay_policy_the_pages_go_through_turn_over_tcp(
    tmp_path: Path,
    coturn: Coturn,
    media_browser: Any,  # noqa: F811
) -> None:
    """RELAIS_ICE_TRANSPORT_POLICY=relay: every page uses only the TURN server, as a site
    that only has TCP 443 out would; the speaker's picture still reaches a site's screen."""
    server = relais(tmp_path, coturn, RELAIS_ICE_TRANSPORT_POLICY="relay")
    server.start()
    pages = Pages(server, media_browser)
    try:
        pages.context.add_init_script(KEEP_PEERS)
        speaker = pages.open("speak", "speaker")
        go_live(speaker)
        plenary_step(pages.open("console", "facilitator"))
        screen = pages.open("screen", "screen", site="niort")
        decoding(screen, decoding(screen))  # framesDecoded grows
        for page in (speaker, screen):
            page.wait_for_function(
                "() => window.peers.some((pc) => pc.connectionState === 'connected')",
                timeout=WAIT,
            )
            selected = page.evaluate(SELECTED)
            assert selected, "no connected peer connection"
            for pc in selected:
                assert pc == {"policy": "relay", "type": "relay", "relayProtocol": "tcp"}
        assert "UDP listener opened" not in coturn.log.read_text()
        assert pages.problems == []
    finally:
        pages.close()
        server.stop()


def test_an_unknown_transport_policy_is_refused_when_the_server_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAIS_ICE_TRANSPORT_POLICY", "tcp-only")
    with pytest.raises(ValueError, match="RELAIS_ICE_TRANSPORT_POLICY must be all or relay"):
        Settings.from_env(data_dir=tmp_path)
    monkeypatch.setenv("RELAIS_ICE_TRANSPORT_POLICY", "Relay")
    assert Settings.from_env(data_dir=tmp_path).ice_transport_policy == "relay"
