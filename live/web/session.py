"""One websocket session, the life every live socket shares: the agenda's (`live_ws.py`)
and the notes' (`notes_ws.py`) are subclasses that say only what is theirs.

Shaped as Starlette's `WebSocketEndpoint` (a class is a route's endpoint; `on_connect`,
`on_receive`, `on_disconnect`), with what both sockets need written once:

- **Admission.** `on_connect` finds what the socket is for and checks its link, or raises
  a `RelaisError`: the client gets one error frame in its own protocol (`farewell`), then
  a close code in 4400-4499 (`errors.CLOSE_CODE`) whose reason is the refusal's code;
  clients take those as final and do not retry with that link.
- **The link, for as long as the socket is open.** Revoking it (`LinkBook.watch`) or its
  expiry ends the session at once (`end`), with the refusal said first.
- **A sender task and a receive loop**, cancelled together when either ends. The sender
  drains the session's bounded outbox (`send_frames`); idle sockets are written straight
  to by broadcasts when the server offers it (`direct`: `web/wire.py`). A session ended
  while the client still sends gets `CLOSE_GRACE` seconds for its farewell and close code
  to go out.
- **Cleanup** (`on_disconnect`) runs however the session ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from starlette import status
from starlette.endpoints import WebSocketEndpoint
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

from live.errors import RelaisError, close_code
from live.links.signing import PUBLIC, Claims
from live.web.wire import Direct, direct_writer

log = logging.getLogger("relais.ws")

CLOSE_GRACE = 5.0  # seconds an ended session's farewell and close code get to go out


class Session(WebSocketEndpoint):
    """One live websocket from admission to cleanup. Subclasses set `claims` in
    `on_connect` (a refusal raises), and say how their protocol sends, receives and ends."""

    lang = "fr"  # the page's language (`?lang=`): refusals are said in it
    claims: Claims = PUBLIC
    direct: Direct | None = None  # the server's straight writer for this socket, if any

    async def dispatch(self) -> None:
        websocket = WebSocket(self.scope, receive=self.receive, send=self.send)
        await websocket.accept()
        self.lang = websocket.query_params.get("lang", "fr")
        self.direct = direct_writer(self.scope)
        try:
            await self.on_connect(websocket)
        except RelaisError as exc:
            await say(websocket, self.farewell(exc))
            await websocket.close(code=close_code(exc.code), reason=exc.code)
            return
        unwatch = websocket.app.state.links.watch(self.claims, self.end)
        expiry = None
        if self.claims.id:  # a link's own expiry ends its session, whether or not it sends
            delay = max(0.0, self.claims.expires - time.time())
            expiry = asyncio.get_running_loop().call_later(delay, self.end, "link_expired")
        sender = asyncio.create_task(self.send_frames(websocket))
        receiver = asyncio.create_task(self._receive(websocket))
        try:
            await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if self.closed and not sender.done():  # its farewell and close code go first
                await asyncio.wait({sender}, timeout=CLOSE_GRACE)
        finally:
            unwatch()
            if expiry is not None:
                expiry.cancel()
            await self.on_disconnect(websocket, status.WS_1000_NORMAL_CLOSURE)
            for task in (receiver, sender):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                _log_failure(task)

    async def _receive(self, websocket: WebSocket) -> None:
        """Hand each frame to `on_receive` until the client leaves or the session ends."""
        while not self.closed:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect" or self.closed:
                return
            await self.on_receive(websocket, await self.decode(websocket, message))

    async def decode(self, websocket: WebSocket, message: Message) -> Any:
        """A text frame as `str`, a binary one as `bytes`: each protocol says what it
        does with the other kind."""
        text = message.get("text")
        return text if text is not None else message.get("bytes") or b""

    # -- what each socket says for itself -------------------------------------------------

    @property
    def closed(self) -> bool:
        """The session has ended (refused, revoked, expired, behind): nothing more counts."""
        raise NotImplementedError

    async def on_connect(self, websocket: WebSocket) -> None:
        """Find what the socket follows and check its link (set `claims`), or raise."""
        raise NotImplementedError

    def farewell(self, exc: RelaisError) -> str | bytes:
        """The error frame that says a refusal in this socket's protocol."""
        raise NotImplementedError

    def end(self, code: str) -> None:
        """End the session because of `code` (`link_revoked`, `link_expired`): the sender
        says why, then closes. Called from outside the session's tasks: it only signals."""
        raise NotImplementedError

    async def send_frames(self, websocket: WebSocket) -> None:
        """Write what the outbox yields until the session ends, then close the socket."""
        raise NotImplementedError


async def say(websocket: WebSocket, frame: str | bytes) -> None:
    if isinstance(frame, str):
        await websocket.send_text(frame)
    else:
        await websocket.send_bytes(frame)


async def close(websocket: WebSocket, code: str) -> None:
    """Close with `code`'s close code, the code itself as the reason (pages explain it)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.close(code=close_code(code), reason=code)


def _log_failure(task: asyncio.Task[None]) -> None:
    """A sender or receiver that failed otherwise than by its client leaving is a bug."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError | OSError):
        log.error("a websocket session failed", exc_info=exc)
