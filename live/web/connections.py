"""Websocket admission: caps per address and overall, with room kept for the crew.

Every screen shows a QR code, so anyone may open public sockets, as many as they like.
Each one holds a file descriptor and an outbox; without a cap, one client holding a
thousand of them exhausted the process's descriptors and the facilitator's console could
no longer connect. So every websocket passes this gate before the application sees it:

- **Per address**: at most `per_address` public sockets from one client address. A
  school's site sits behind one NAT address (200 phones, each with a public page open,
  some with the notes too), hence a generous default; behind a reverse proxy, run uvicorn
  with `--proxy-headers` so that the address is the participant's, not the proxy's.
- **Overall**: at most `overall` sockets, derived from the descriptor limit (raised to
  its hard maximum at start where the system allows), keeping `reserve` of them for the
  crew: links whose role runs the event (organizer, facilitator, screen, rapporteur,
  site host) are never counted against an address and may use the reserve, so a flood
  of public sockets leaves the console, the screens and the rapporteurs able to connect.

The role is read from the link's signature only (no I/O, microseconds): a forged or
foreign token counts as public here, and is refused by the endpoint as before. A socket
turned away is accepted and closed at once with code 4429 and a JSON error frame, which
the pages explain and retry later, rather than refused at the handshake, which browsers
report without any reason.
"""

from __future__ import annotations

import json
import logging
import resource
from collections import Counter
from dataclasses import dataclass, field

from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from live.errors import close_code
from live.i18n import refusal
from live.links import LinkError, Signer

log = logging.getLogger("relais.connections")

CREW = frozenset({"organizer", "facilitator", "screen", "rapporteur", "host"})
KEEP_FOR_FILES = 256  # descriptors left for HTTP requests, the database, logs


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


@dataclass
class Gate:
    """The counts, in one process. `admit` is synchronous: no await between the check and
    the count, so concurrent handshakes cannot all pass a cap at once."""

    overall: int
    per_address: int
    reserve: int
    open: int = 0
    by_address: Counter[str] = field(default_factory=Counter)

    @classmethod
    def for_limits(cls, overall: int, per_address: int, descriptors: int) -> Gate:
        """`overall` 0 means "what the descriptor limit allows"."""
        allowed = max(16, descriptors - KEEP_FOR_FILES)
        overall = min(overall, allowed) if overall else allowed
        return cls(overall=overall, per_address=per_address, reserve=max(8, overall // 20))

    def admit(self, address: str, crew: bool) -> str | None:
        """Count a new socket in; or the reason it is refused (`too_many_connections`)."""
        if crew:
            if self.open >= self.overall:
                return "too_many_connections"
        elif self.open >= self.overall - self.reserve or (
            self.by_address[address] >= self.per_address
        ):
            return "too_many_connections"
        self.open += 1
        if not crew:
            self.by_address[address] += 1
        return None

    def leave(self, address: str, crew: bool) -> None:
        self.open -= 1
        if not crew:
            self.by_address[address] -= 1
            if self.by_address[address] <= 0:
                del self.by_address[address]


class ConnectionCaps:
    """ASGI middleware applying a `Gate` to every websocket (HTTP passes through)."""

    def __init__(self, app: ASGIApp, gate: Gate, signer: Signer) -> None:
        self.app = app
        self.gate = gate
        self.signer = signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "?"
        crew = self._is_crew(scope)
        reason = self.gate.admit(address, crew)
        if reason is not None:
            await _turn_away(scope, receive, send, reason)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave(address, crew)

    def _is_crew(self, scope: Scope) -> bool:
        parts = scope["path"].split("/")  # /ws/events/{event} or /ws/notes/{event}/{w}
        token = QueryParams(scope.get("query_string", b"")).get("k")
        if len(parts) < 4 or not token:
            return False
        try:
            claims = self.signer.verify(token, parts[3])
        except LinkError:
            return False
        return claims.role in CREW


async def _turn_away(scope: Scope, receive: Receive, send: Send, reason: str) -> None:
    """Accept, say why, close with 4429: the page explains it and tries again later."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    lang = QueryParams(scope.get("query_string", b"")).get("lang", "fr")
    text = refusal(lang, reason, "too many connections; try again in a moment")
    frame = json.dumps({"type": "error", "id": None, "code": reason, "message": text})
    await send({"type": "websocket.accept"})
    if scope["path"].startswith("/ws/events/"):
        await send({"type": "websocket.send", "text": frame})
    await send({"type": "websocket.close", "code": close_code(reason), "reason": reason})
