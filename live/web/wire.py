"""Broadcast frames written straight to idle sockets: one frame built per broadcast.

A broadcast to N screens used to cost, per screen, a task wake-up, a pass through the
ASGI send path and the websocket frame being built again (about 25 µs a screen on this
machine: 250 ms for 10,000). Most screens are idle when a broadcast comes: nothing
queued, nothing being written, the socket's buffer empty. For those the frame can be
written at once, from the broadcasting loop, as the same bytes for every one of them.

`WebSocketProtocol` is uvicorn's websockets sans-I/O protocol (run with `--ws
live.web.wire:WebSocketProtocol`) that offers each websocket a `Direct` writer in its
ASGI scope (`scope["extensions"][EXTENSION]`). `Direct.write(text)` writes the text
frame and says True only when that is safe:

- the handshake is done and no close was sent or received;
- no compression was negotiated (a compressed frame is not the same bytes for all);
- the transport is writable and its buffer under `BUFFER_LIMIT`: a slow reader falls
  back to its bounded outbox (`agenda/outbox.py`), which is what bounds its memory.

Order is the outbox's business: it offers a frame to `Direct` only while its send task
is idle (nothing queued, nothing in flight), so a written frame never overtakes one that
was queued before it. Under any other server (tests' TestClient, another ASGI server)
there is no extension and every frame goes through the outbox as before.
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
    """The wire bytes of the last few texts broadcast. A broadcast hands the same `str`
    object to every client (one per audience while a site message is shown), so each is
    built once and found again by identity: no hashing of the text, no copy."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._built: dict[int, tuple[str, bytes]] = {}

    def wire(self, text: str) -> bytes:
        found = self._built.get(id(text))
        if found is not None and found[0] is text:
            return found[1]
        data = Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
        if len(self._built) >= self.size:
            self._built.pop(next(iter(self._built)))
        self._built[id(text)] = (text, data)  # keeps `text` alive, so its id stays its own
        return data


FRAMES = Frames()  # one per process: broadcasts happen on its one loop


class Direct:
    """Writes a text frame straight to one websocket's transport, when that is safe."""

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self.protocol = protocol

    def write(self, text: str) -> bool:
        p = self.protocol
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
        transport.write(FRAMES.wire(text))
        return True


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol, with a `Direct` writer in each scope."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # an upgrade that was accepted (a refused one has none)
            scope["extensions"][EXTENSION] = Direct(self)


def direct_writer(scope: Scope) -> Direct | None:
    """The socket's direct writer, when the server offers one."""
    extensions = scope.get("extensions") or {}
    writer = extensions.get(EXTENSION)
    return writer if isinstance(writer, Direct) else None
