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

Order is the outbox's business (`agenda/outbox.py`, `notes/peer.py`): it offers a frame
to `Direct` only while its send task is idle (nothing queued, nothing in flight), so a
written frame never overtakes one that was queued before it. Under any other server (the
tests' TestClient, another ASGI server) there is no extension and every frame goes
through the outbox as before.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Scope
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

EXTENSION = "relais.direct"
PROTOCOL = "live.web.wire:WebSocketProtocol"  # uvicorn's --ws for `relais serve`
BUFFER_LIMIT = 64 * 1024  # bytes waiting in a socket's buffer before frames queue instead


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


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol, with a `Direct` writer in each scope."""

    direct: Direct | None = None

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # an upgrade that was accepted (a refused one has none)
            self.direct = scope["extensions"][EXTENSION] = Direct(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """Undo the protocol -> scope -> writer -> protocol cycle at once: a wave of closed
        connections is freed by reference counting, not left to a full collection."""
        super().connection_lost(exc)
        if self.direct is not None:
            self.direct.protocol = None
            self.direct = None


def direct_writer(scope: Scope) -> Direct | None:
    """The socket's direct writer, when the server offers one."""
    extensions = scope.get("extensions") or {}
    writer = extensions.get(EXTENSION)
    return writer if isinstance(writer, Direct) else None
