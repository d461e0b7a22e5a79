"""Websocket admission: caps per device, per address, per kind of link and overall, with
room kept for the crew.

Every screen shows a QR code, so anyone may open public sockets, as many as they like.
Each one holds a file descriptor and an outbox; without a cap, one client holding a
thousand of them exhausted the process's descriptors and the facilitator's console could
no longer connect. So every websocket passes this gate before the application sees it,
and every bound has a larger one above it:

- **Per device**: a school's site sits behind one NAT address (hundreds of phones, each
  with a public page open, some with the notes too), so an address cannot tell one phone
  from a script. A page answered over HTTP gives the browser a signed device cookie
  (`relais_device`: a random id, no personal data, gone with the browser's session); its
  sockets count against that device, at most `per_device` of them. A socket without one
  counts against its link (a participant's, `per_device` too), else against its
  address's shared pool, half of the address's sockets: one client that never loaded a
  page, or one device, can no longer take all of its address's sockets and lock its site
  out. A client that loads pages again and again to collect device ids still stops at
  the address's cap, and never reaches other addresses' or the crew's room.
- **Per address**: at most `per_address` public sockets from one client address, sized
  for several hundred phones; behind a reverse proxy, run uvicorn with `--proxy-headers`
  so that the address is the participant's, not the proxy's.
- **Per kind of link, in the process**: public pages, participants' pages and notes
  readers each get at most a share of the non-crew sockets, so a flood of one kind
  leaves the others room.
- **Overall**: at most `overall` sockets, derived from the descriptor limit (raised to
  its hard maximum at start where the system allows), keeping `reserve` of them for the
  crew: links whose role runs the event (organizer, facilitator, screen, rapporteur,
  site host) are never counted against an address, a device or a kind and may use the
  reserve, so a flood of public sockets leaves the console, the screens and the
  rapporteurs able to connect.

The role and the device are read from signatures only (no I/O, microseconds): a forged or
foreign token counts as public here, and is refused by the endpoint as before. A socket
turned away is accepted and closed at once with code 4429 and a JSON error frame, which
the pages explain and retry later, rather than refused at the handshake, which browsers
report without any reason.
"""

from __future__ import annotations

import logging
import resource
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import MutableHeaders, QueryParams
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from live.agenda import protocol
from live.errors import close_code
from live.i18n import refusal
from live.links.signing import Claims, LinkError, Signer

log = logging.getLogger("relais.connections")

CREW = frozenset({"organizer", "facilitator", "screen", "rapporteur", "host"})
KEEP_FOR_FILES = 256  # descriptors left for HTTP requests, the database, logs
DEVICE_COOKIE = "relais_device"
DEVICE_DAYS = 30  # a device id's signature is refused after this (a new one is given)
# Sockets of one device or one link: its pages in a few tabs (agenda, own page, notes).
PER_DEVICE = 16
# The share of the non-crew sockets each kind of link may hold in one process.
KIND_SHARES = {"public": 0.75, "participant": 0.75, "notes": 0.5}


def raise_descriptor_limit() -> int:
    """Raise this process's open-file limit to its hard maximum; return the soft limit
    now in force (unchanged if the system refuses)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            log.warning("cannot raise the open-file limit above %d", soft)
    return soft


@dataclass(frozen=True)
class Ticket:
    """What one socket counts against: its address, its kind of link (`crew`, `public`,
    `participant`, `notes`) and its holder (`device:<id>`, `link:<id>`, or "" for the
    address's shared pool)."""

    address: str
    kind: str
    holder: str = ""

    @property
    def crew(self) -> bool:
        return self.kind == "crew"


@dataclass
class Gate:
    """The counts, in one process. `admit` is synchronous: no await between the check and
    the count, so concurrent handshakes cannot all pass a cap at once."""

    overall: int
    per_address: int
    reserve: int
    per_device: int = PER_DEVICE
    per_kind: dict[str, int] = field(default_factory=dict)
    open: int = 0
    by_address: Counter[str] = field(default_factory=Counter)
    by_holder: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)

    @classmethod
    def for_limits(
        cls, overall: int, per_address: int, descriptors: int, per_device: int = PER_DEVICE
    ) -> Gate:
        """`overall` 0 means "what the descriptor limit allows"."""
        allowed = max(16, descriptors - KEEP_FOR_FILES)
        overall = min(overall, allowed) if overall else allowed
        reserve = max(8, overall // 20)
        pool = max(1, overall - reserve)
        per_kind = {kind: max(1, int(pool * share)) for kind, share in KIND_SHARES.items()}
        return cls(overall, per_address, reserve, per_device, per_kind)

    @property
    def shared_pool(self) -> int:
        """Sockets of one address that no device or link vouches for: half of its own."""
        return max(1, self.per_address // 2)

    def admit(self, ticket: Ticket) -> str | None:
        """Count a new socket in; or the reason it is refused (`too_many_connections`)."""
        if ticket.crew:
            if self.open >= self.overall:
                return "too_many_connections"
            self.open += 1
            return None
        holder = (ticket.address, ticket.holder)
        if (
            self.open >= self.overall - self.reserve
            or self.by_kind[ticket.kind] >= self.per_kind.get(ticket.kind, self.overall)
            or self.by_address[ticket.address] >= self.per_address
            or self.by_holder[holder] >= (self.per_device if ticket.holder else self.shared_pool)
        ):
            return "too_many_connections"
        self.open += 1
        self.by_kind[ticket.kind] += 1
        self.by_address[ticket.address] += 1
        self.by_holder[holder] += 1
        return None

    def leave(self, ticket: Ticket) -> None:
        self.open -= 1
        if ticket.crew:
            return
        _less(self.by_kind, ticket.kind)
        _less(self.by_address, ticket.address)
        _less(self.by_holder, (ticket.address, ticket.holder))


def _less(counts: Counter[Any], key: Any) -> None:
    counts[key] -= 1
    if counts[key] <= 0:
        del counts[key]  # a flood of addresses that left costs nothing


class ConnectionCaps:
    """ASGI middleware applying a `Gate` to every websocket, and giving every browser that
    opens a page (an HTML answer) a device cookie if it has none."""

    def __init__(self, app: ASGIApp, gate: Gate, signer: Signer) -> None:
        self.app = app
        self.gate = gate
        self.signer = signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._page(scope, receive, send)
            return
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        ticket = self.ticket(scope)
        reason = self.gate.admit(ticket)
        if reason is not None:
            await _turn_away(scope, receive, send, reason)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave(ticket)

    def ticket(self, scope: Scope) -> Ticket:
        client = scope.get("client")
        address = client[0] if client else "?"
        claims = self._claims(scope)
        if claims is not None and claims.role in CREW:
            return Ticket(address, "crew")
        if scope["path"].startswith("/ws/notes/"):
            kind = "notes"
        else:
            kind = "participant" if claims and claims.role == "participant" else "public"
        device = self._device(scope)
        if device:
            return Ticket(address, kind, f"device:{device}")
        if claims is not None and claims.id:
            return Ticket(address, kind, f"link:{claims.id}")
        return Ticket(address, kind)

    def _claims(self, scope: Scope) -> Claims | None:
        parts = scope["path"].split("/")  # /ws/events/{event} or /ws/notes/{event}/{w}
        token = QueryParams(scope.get("query_string", b"")).get("k")
        if len(parts) < 4 or not token:
            return None
        try:
            return self.signer.verify(token, parts[3])
        except LinkError:
            return None

    def _device(self, scope: Scope) -> str:
        return device_of(HTTPConnection(scope), self.signer)

    async def _page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An HTML answer to a browser without a device id gives it one. The cookie is read
        and its signature checked only for such an answer, not for every static file."""
        if scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                # A page a shared cache may keep (`public`: the territorial space) sets no
                # cookie: the cache would hand the same device id to everyone.
                public = headers.get("cache-control", "").startswith("public")
                if html and not public and not self._device(scope):
                    headers.append("Set-Cookie", self._cookie(scope))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, scope: Scope) -> str:
        token = self.signer.sign("", "public", days=DEVICE_DAYS)
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        return f"{DEVICE_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}"


async def _turn_away(scope: Scope, receive: Receive, send: Send, reason: str) -> None:
    """Accept, say why, close with 4429: the page explains it and tries again later."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    lang = QueryParams(scope.get("query_string", b"")).get("lang", "fr")
    text = refusal(lang, reason, "too many connections; try again in a moment")
    frame = protocol.error(reason, text)
    await send({"type": "websocket.accept"})
    if scope["path"].startswith("/ws/events/"):
        await send({"type": "websocket.send", "text": frame})
    await send({"type": "websocket.close", "code": close_code(reason), "reason": reason})


def device_of(connection: HTTPConnection, signer: Signer) -> str:
    """The device id its cookie vouches for ("" without a valid one). The cookie is a
    link signature for no event (event ""), so it opens no page anywhere."""
    token = connection.cookies.get(DEVICE_COOKIE)
    if not token:
        return ""
    try:
        return signer.verify(token, "").id
    except LinkError:
        return ""
