"""Broadcast frames written straight to idle sockets: one frame built per broadcast.

A broadcast to N screens used to cost, per screen, a task wake-up, a pass through the
ASGI send path and the websocket frame being built again (about 25 µs a screen on this
machine: 250 ms for 10,000). Most screens are idle when a broadcast comes: nothing
queued, nothing being written, the socket's buffer empty. For those the frame can be
written at once, from the broadcasting loop, as the same bytes for every one of them.

`WebSocketProtocol` is uvicorn's websockets sans-I/O protocol (run with `--ws
live.web.wire:WebSocketProtocol`) that offers each websocket a `Direct` writer in its
ASGI scope (`scope["extensions"][EXTENSION]`). `Direct.write(data)` writes a text frame
(a `str`: the live agenda) or a binary one (`bytes`: shared notes) and says True only
when that is safe:

- the handshake is done and no close was sent or received;
- no compression was negotiated (a compressed frame is not the same bytes for all);
- the transport is writable and its buffer under `BUFFER_LIMIT`: a slow reader falls
  back to its bounded outbox (`agenda/outbox.py`), which is what bounds its memory.

It also bounds what a socket that does not read can cost, which uvicorn leaves open:

- **A stalled socket is aborted within seconds** (`STALL`): once its transport's buffer
  is over the high-water mark, the socket must take some of it every `STALL` seconds or
  it is aborted with a reset (`SO_LINGER` 0), which frees the transport's buffer and the
  kernel's send queue at once; keepalive would have taken 40 s, and a plain close waits
  for the buffer to drain, which for a client that stopped reading is forever.
- **Pings cannot grow the buffer**: each ping is answered by a pong written to the
  transport; a client sending pings without reading is aborted once `PONG_LIMIT` bytes
  wait there.
- **A close does not wait on a socket that does not read**: sent to a paused socket,
  the close aborts it; otherwise the closing handshake gets `CLOSE_TIMEOUT` seconds, then
  the socket is aborted rather than closed.
- **A frame over the transport's limit is explained**: websockets ends the connection
  with 1009 without reading it (the limit bounds memory, so some size always must);
  a live page is first sent `error{code: too_large}` in its language, as for a frame over
  the application's limit (which it answers with the socket open).
- **What the kernel holds can be capped** per socket (`Direct.limit_send_buffer`: the
  notes do it, their answers being up to 2 MB) and the sender can wait until the socket
  has taken what it wrote (`Direct.drained`), so the bytes counted as "being written"
  (`notes/budget.py`) are the bytes actually held.

Order is the outbox's business (`agenda/outbox.py`, `notes/peer.py`): it offers a frame
to `Direct` only while its send task is idle (nothing queued, nothing in flight), so a
written frame never overtakes one that was queued before it. Under any other server (the
tests' TestClient, another ASGI server) there is no extension and every frame goes
through the outbox as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

from starlette.datastructures import QueryParams
from starlette.types import Scope
from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from live.agenda import protocol
from live.i18n import refusal

LIVE = "/ws/events/"  # the live agenda's sockets, whose pages read JSON error frames
EXTENSION = "relais.direct"
PROTOCOL = "live.web.wire:WebSocketProtocol"  # uvicorn's --ws for `relais serve`
BUFFER_LIMIT = 64 * 1024  # bytes waiting in a socket's buffer before frames queue instead
STALL = 5.0  # seconds a socket over its high-water mark may take nothing before it is aborted
STALL_CHECK = 1.0  # how often a paused socket's progress is looked at
PONG_LIMIT = 256 * 1024  # bytes buffered past which a ping is not answered but the socket aborted
CLOSE_TIMEOUT = 5.0  # seconds a closing handshake may take before the socket is aborted
LINGER = 1.0  # seconds without input after which a refused connection is dropped


class Frames:
    """The wire bytes of the last few messages broadcast. A broadcast hands the same object
    to every client (one per audience while a site message is shown; one per update in a
    notes room), so each frame is built once and found again by identity: no hashing of
    the message, no copy. Bounded in entries and in bytes (a message and its frame are
    both kept): a large frame is rare and is built again rather than held."""

    def __init__(self, size: int = 32, max_bytes: int = 1 << 20) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.held = 0  # bytes of the messages and frames kept
        self._built: dict[int, tuple[str | bytes, bytes]] = {}

    def wire(self, message: str | bytes) -> bytes:
        found = self._built.get(id(message))
        if found is not None and found[0] is message:
            return found[1]
        if isinstance(message, str):
            frame = Frame(Opcode.TEXT, message.encode())
        else:
            frame = Frame(Opcode.BINARY, message)
        data = frame.serialize(mask=False)
        cost = 2 * len(data)
        if cost > self.max_bytes:
            return data
        while self._built and (len(self._built) >= self.size or self.held + cost > self.max_bytes):
            _, old = self._built.pop(next(iter(self._built)))
            self.held -= 2 * len(old)
        self._built[id(message)] = (message, data)  # kept alive: its id stays its own
        self.held += cost
        return data


FRAMES = Frames()  # one per process: broadcasts happen on its one loop


class Direct:
    """Writes a frame straight to one websocket's transport, when that is safe."""

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self.protocol: WebSocketsSansIOProtocol | None = protocol

    def write(self, message: str | bytes) -> bool:
        p = self.protocol
        if p is None:  # the connection is gone
            return False
        transport = p.transport
        if (
            p.close_sent
            or p.disconnected
            or p.conn.state is not State.OPEN
            or p.conn.extensions
            or not p.writable.is_set()
            or transport.is_closing()
            or transport.get_write_buffer_size() > BUFFER_LIMIT
        ):
            return False
        transport.write(FRAMES.wire(message))
        return True

    async def drained(self) -> None:
        """Return once the transport's buffer is under its low-water mark (at once when
        it is), or the connection is gone: what was written is then in the kernel."""
        p = self.protocol
        if p is not None and not p.writable.is_set():
            await p.writable.wait()

    def limit_send_buffer(self, size: int) -> None:
        """Cap the kernel's send buffer of this socket at about `size` bytes (Linux
        doubles it) instead of letting it grow to megabytes for a client that reads
        nothing; what does not fit waits in the transport, where `drained` sees it."""
        if self.protocol is not None:
            _sockopt(self.protocol.transport, socket.SO_SNDBUF, size)


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol, with a `Direct` writer in each scope, and
    bounds on what a socket that does not read can hold (see the module's docstring).

    Subclassing a library's protocol means relying on its private names; uvicorn and
    websockets are pinned exactly in pyproject.toml and `tests/server/test_wire_pins.py`
    checks every name used here (a canary, as for aiortc), so an upgrade is made on
    purpose."""

    direct: Direct | None = None
    _stall_timer: asyncio.TimerHandle | None = None
    _stall_left = 0  # bytes buffered at the last check that saw progress
    _stall_since = 0.0
    _refused_at = 0.0  # when the parser refused a frame: the connection is ending

    # -- a socket that does not read -------------------------------------------------------

    def abort(self) -> None:
        """Drop the connection now: a reset, so the kernel frees its send queue at once."""
        _sockopt(self.transport, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stall_timer is None:
            self._stall_left = self.transport.get_write_buffer_size()
            self._stall_since = self.loop.time()
            self._stall_timer = self.loop.call_later(STALL_CHECK, self._check_stall)

    def _check_stall(self) -> None:
        self._stall_timer = None
        if self.writable.is_set() or self.transport.is_closing():
            return
        left = self.transport.get_write_buffer_size()
        now = self.loop.time()
        if left < self._stall_left:  # it reads, however slowly
            self._stall_left, self._stall_since = left, now
        elif now - self._stall_since >= STALL:
            self.abort()
            return
        self._stall_timer = self.loop.call_later(STALL_CHECK, self._check_stall)

    def handle_parser_exception(self) -> None:
        """A frame websockets refused to read (over the size limit, malformed). uvicorn
        closes at once, while the client is still sending: the kernel then resets the
        connection and the client loses what was sent to it. Here a live page is first
        told why (`too_large`, in its language); the close frame follows and the socket
        lingers, discarding what still comes, until the client closes, sends nothing for
        `LINGER` seconds, or has been at it for `CLOSE_TIMEOUT`."""
        if self._refused_at:  # the rest of what it sends: discarded by websockets
            timer = self.close_timer
            if timer is not None and self.loop.time() - self._refused_at < CLOSE_TIMEOUT:
                timer.cancel()
                self.close_timer = self.loop.call_later(LINGER, self.abort)
            return
        self._refused_at = self.loop.time()
        close = self.conn.close_sent
        scope = getattr(self, "scope", None)
        if close is None or close.code != 1009 or not scope or not scope["path"].startswith(LIVE):
            super().handle_parser_exception()
            return
        lang = QueryParams(scope.get("query_string", b"")).get("lang", "fr")
        limit = self.config.ws_max_size
        text = refusal(lang, "too_large", f"message over {limit} bytes", {"size": limit})
        error = protocol.error("too_large", text)
        frame = Frame(Opcode.TEXT, error.encode()).serialize(mask=False)
        self.queue.put_nowait({"type": "websocket.disconnect", "code": 1009, "reason": ""})
        self.transport.write(frame + b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.close_timer = self.loop.call_later(LINGER, self.abort)

    def handle_ping(self) -> None:
        if self.transport.get_write_buffer_size() > PONG_LIMIT:
            self.abort()  # pings sent without reading the pongs
            return
        super().handle_ping()

    def keepalive_timeout(self) -> None:
        super().keepalive_timeout()
        if self.transport.get_write_buffer_size():
            self.abort()  # its close frame would wait behind what it never read

    async def send(self, message: ASGISendEvent) -> None:
        if (
            message["type"] == "websocket.close"
            and self.handshake_complete
            and not self.close_sent
            and not self.disconnected
            and not self.writable.is_set()
        ):
            # A socket that does not read would not read the close either (and uvicorn's
            # send would wait for it to drain, forever): the reason stays unread, as it
            # would be anyway, and the socket is freed now.
            self.close_sent = True
            self.queue.put_nowait({"type": "websocket.disconnect", "code": 1006})
            self.abort()
            return
        await super().send(message)
        if message["type"] == "websocket.close" and self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = self.loop.call_later(CLOSE_TIMEOUT, self.abort)

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # an upgrade that was accepted (a refused one has none)
            self.direct = scope["extensions"][EXTENSION] = Direct(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """Undo the protocol -> scope -> writer -> protocol cycle at once: a wave of closed
        connections is freed by reference counting, not left to a full collection."""
        super().connection_lost(exc)
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        if self.direct is not None:
            self.direct.protocol = None
            self.direct = None


def _sockopt(transport: Any, option: int, value: int | bytes) -> None:
    """Set a socket option on a transport's socket, where it has one and allows it."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, option, value)


def direct_writer(scope: Scope) -> Direct | None:
    """The socket's direct writer, when the server offers one."""
    extensions = scope.get("extensions") or {}
    writer = extensions.get(EXTENSION)
    return writer if isinstance(writer, Direct) else None
