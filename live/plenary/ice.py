"""ICE for the plenary: the STUN/TURN servers of the configuration, and which local
addresses the relay offers.

Schools' networks often block UDP or allow only TCP 443 out: a site then reaches the
relay through a TURN server (coturn), whose address and credentials come from the
configuration and are handed to the pages (and to WHIP/WHEP clients, in `Link` headers as
RFC 9725 says) and to the relay's own peer connections.

- `RELAIS_ICE_SERVERS`: JSON, as a browser's `RTCIceServer` list
  (`[{"urls": ["turn:turn.example.org:3478?transport=udp"], "username": "u",
  "credential": "p"}]`), or a comma list of URLs whose TURN entries use
  `RELAIS_ICE_USERNAME` / `RELAIS_ICE_CREDENTIAL`.
- `RELAIS_TURN_SECRET`: coturn's `static-auth-secret` (`use-auth-secret`): each page and
  session then gets its own TURN credentials, valid for `TURN_TTL` seconds (the "TURN REST
  API" scheme: username `<expiry>:relais`, password base64(HMAC-SHA1(secret, username))),
  instead of one shared password written into every page.

aioice (the ICE agent under aiortc, pinned with it) uses one STUN and one TURN server (the
first of each), binds each host candidate to an ephemeral port (no port range setting:
the relay's UDP ports are the kernel's `net.ipv4.ip_local_port_range`, 32768-60999 by
default; narrow that range with sysctl on a dedicated host, or let sites come through
TURN), and offers every local address but loopback. `RELAIS_ICE_HOST_ADDRESSES` (comma
list) names the addresses to offer instead: a server's public address only, or 127.0.0.1
for a relay tested on one machine (`offer_host_addresses`, the one patch of aioice).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aioice.ice
from aiortc import RTCIceServer

SCHEMES = ("stun:", "stuns:", "turn:", "turns:")
TURN_TTL = 24 * 3600


class IceConfigError(ValueError):
    """RELAIS_ICE_SERVERS (or its companions) is not usable; says what to fix."""


@dataclass(frozen=True)
class IceServer:
    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    @property
    def turn(self) -> bool:
        return any(url.startswith(("turn:", "turns:")) for url in self.urls)


def _url(url: object) -> str:
    if not isinstance(url, str) or not url.strip().startswith(SCHEMES):
        raise IceConfigError(
            f"RELAIS_ICE_SERVERS: {url!r} is not a stun:, stuns:, turn: or turns: URL"
        )
    return url.strip()


def parse_ice_servers(text: str, username: str = "", credential: str = "") -> list[IceServer]:
    """The servers of RELAIS_ICE_SERVERS (JSON list, or comma list of URLs)."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IceConfigError(f"RELAIS_ICE_SERVERS: not valid JSON ({exc})") from None
        servers = []
        for item in items:
            if not isinstance(item, dict) or "urls" not in item:
                raise IceConfigError('RELAIS_ICE_SERVERS: each entry needs "urls"')
            urls = item["urls"] if isinstance(item["urls"], list) else [item["urls"]]
            servers.append(
                IceServer(
                    urls=tuple(_url(u) for u in urls),
                    username=item.get("username") or None,
                    credential=item.get("credential") or None,
                )
            )
        return servers
    servers = []
    for url in filter(None, (u.strip() for u in text.split(","))):
        server = IceServer(urls=(_url(url),))
        if server.turn:
            server = IceServer(server.urls, username or None, credential or None)
        servers.append(server)
    return servers


def turn_credentials(
    secret: str, name: str = "relais", now: float | None = None
) -> tuple[str, str]:
    """Time-limited TURN credentials for coturn's `use-auth-secret`."""
    expiry = int((time.time() if now is None else now) + TURN_TTL)
    username = f"{expiry}:{name}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def with_credentials(servers: Sequence[IceServer], secret: str) -> list[IceServer]:
    """The servers, TURN ones with fresh credentials when a TURN secret is set."""
    if not secret:
        return list(servers)
    username, credential = turn_credentials(secret)
    return [IceServer(s.urls, username, credential) if s.turn else s for s in servers]


def for_page(servers: Sequence[IceServer]) -> list[dict[str, Any]]:
    """`RTCPeerConnection({iceServers})` as a browser takes it."""
    out = []
    for s in servers:
        entry: dict[str, Any] = {"urls": list(s.urls)}
        if s.username:
            entry["username"] = s.username
        if s.credential:
            entry["credential"] = s.credential
        out.append(entry)
    return out


def for_aiortc(servers: Sequence[IceServer]) -> list[RTCIceServer]:
    """The relay's own ICE servers (never aiortc's default, a public STUN server)."""
    return [RTCIceServer(list(s.urls), s.username, s.credential) for s in servers]


def link_headers(servers: Sequence[IceServer]) -> list[str]:
    """`Link` header values announcing the ICE servers to a WHIP/WHEP client."""
    links = []
    for s in servers:
        for url in s.urls:
            value = f'<{url}>; rel="ice-server"'
            if s.username and s.credential:
                user = s.username.replace('"', "")
                cred = s.credential.replace('"', "")
                value += f'; username="{user}"; credential="{cred}"; credential-type="password"'
            links.append(value)
    return links


def parse_addresses(text: str) -> list[str]:
    """RELAIS_ICE_HOST_ADDRESSES as a list of IP addresses."""
    addresses = []
    for item in filter(None, (a.strip() for a in text.split(","))):
        try:
            addresses.append(str(ipaddress.ip_address(item)))
        except ValueError:
            raise IceConfigError(
                f"RELAIS_ICE_HOST_ADDRESSES: {item!r} is not an IP address"
            ) from None
    return addresses


def offer_host_addresses(addresses: Sequence[str]) -> None:
    """Make aioice (in this process) offer exactly these local addresses as host
    candidates, loopback included if named."""
    chosen = [ipaddress.ip_address(a) for a in addresses]

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [
            str(a) for a in chosen if (a.version == 4 and use_ipv4) or (a.version == 6 and use_ipv6)
        ]

    aioice.ice.get_host_addresses = get_host_addresses
