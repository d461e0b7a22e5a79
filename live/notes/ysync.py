"""The y-websocket wire protocol, sans I/O: parse and build binary frames.

Any Yjs client speaks it (the `y-websocket` provider, pycrdt's providers...). A frame is
`varuint type` then a payload:

- `0` sync: `varuint step` (0 = step 1, 1 = step 2, 2 = update) and a length-prefixed
  state vector (step 1) or Yjs update (step 2, update);
- `1` awareness: a length-prefixed awareness update (client id, clock, JSON state)*;
- `2` auth: `varuint 0` (permission denied) and a length-prefixed UTF-8 reason. Standard
  clients log it and stay connected, which makes it the one error reply every Yjs client
  understands: Relais answers refused frames with it, as `code: message` (and, when what
  was refused is a change, then closes the connection: see `room.py`);
- `3` query awareness: no payload.

Parsing is strict: a frame must be consumed exactly, or it is refused with a code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from live.errors import RelaisError

SYNC, AWARENESS, AUTH, QUERY_AWARENESS = 0, 1, 2, 3
STEP1, STEP2, UPDATE = 0, 1, 2
PERMISSION_DENIED = 0
EMPTY_UPDATE = b"\x00\x00"
MAX_UINT = (1 << 53) - 1  # lib0 numbers are JavaScript doubles


class SyncError(RelaisError):
    """A frame that is not valid y-websocket; `code` is what the error reply says."""


@dataclass(frozen=True)
class SyncStep1:
    state: bytes


@dataclass(frozen=True)
class SyncStep2:
    update: bytes


@dataclass(frozen=True)
class Update:
    update: bytes


@dataclass(frozen=True)
class Awareness:
    payload: bytes


@dataclass(frozen=True)
class QueryAwareness:
    pass


@dataclass(frozen=True)
class Auth:
    reason: str


Message = SyncStep1 | SyncStep2 | Update | Awareness | QueryAwareness | Auth


class Reader:
    """lib0 decoding over a bytes buffer, refusing to read past its end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def uint(self) -> int:
        value, shift = 0, 0
        while True:
            if self.pos >= len(self.data):
                raise SyncError("malformed", "truncated number")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if value > MAX_UINT:
                raise SyncError("malformed", "number out of range")
            if byte < 0x80:
                return value
            shift += 7

    def bytes(self) -> bytes:
        size = self.uint()
        if size > len(self.data) - self.pos:
            raise SyncError("malformed", "length runs past the end of the frame")
        start = self.pos
        self.pos += size
        return self.data[start : self.pos]

    def string(self) -> str:
        try:
            return self.bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise SyncError("malformed", "invalid UTF-8 text") from None

    def end(self) -> None:
        if self.pos != len(self.data):
            raise SyncError("malformed", "trailing bytes after the message")


def uint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


def _chunk(data: bytes) -> bytes:
    return uint(len(data)) + data


def parse(frame: bytes) -> Message:
    """Decode one frame, or raise SyncError("malformed" | "unknown_type", ...)."""
    r = Reader(frame)
    kind = r.uint()
    msg: Message
    if kind == SYNC:
        step = r.uint()
        if step == STEP1:
            msg = SyncStep1(r.bytes())
        elif step == STEP2:
            msg = SyncStep2(r.bytes())
        elif step == UPDATE:
            msg = Update(r.bytes())
        else:
            raise SyncError("unknown_type", f"unknown sync step {step}")
    elif kind == AWARENESS:
        msg = Awareness(r.bytes())
    elif kind == QUERY_AWARENESS:
        msg = QueryAwareness()
    elif kind == AUTH:
        r.uint()
        msg = Auth(r.string())
    else:
        raise SyncError("unknown_type", f"unknown message type {kind}")
    r.end()
    return msg


def sync_step1(state: bytes) -> bytes:
    return bytes((SYNC, STEP1)) + _chunk(state)


def sync_step2(update: bytes) -> bytes:
    return bytes((SYNC, STEP2)) + _chunk(update)


def update(data: bytes) -> bytes:
    return bytes((SYNC, UPDATE)) + _chunk(data)


def awareness(payload: bytes) -> bytes:
    return bytes((AWARENESS,)) + _chunk(payload)


def query_awareness() -> bytes:
    return bytes((QUERY_AWARENESS,))


def error(code: str, message: str) -> bytes:
    """The refusal reply: an auth "permission denied" frame whose reason is `code: message`."""
    return bytes((AUTH, PERMISSION_DENIED)) + _chunk(f"{code}: {message}".encode())


# -- awareness payloads -----------------------------------------------------------------------


@dataclass(frozen=True)
class Presence:
    """One client's awareness entry; `state` is the JSON text, "null" when it left."""

    client: int
    clock: int
    state: str

    @property
    def gone(self) -> bool:
        return self.state == "null"


def decode_awareness(payload: bytes) -> list[Presence]:
    r = Reader(payload)
    count = r.uint()
    entries = []
    for _ in range(count):
        client, clock, state = r.uint(), r.uint(), r.string()
        try:
            value = json.loads(state)
        except ValueError:
            raise SyncError("malformed", "awareness state is not JSON") from None
        if value is not None and not isinstance(value, dict):
            raise SyncError("malformed", "awareness state must be an object or null")
        entries.append(Presence(client, clock, "null" if value is None else state))
    r.end()
    return entries


def encode_awareness(entries: list[Presence]) -> bytes:
    out = [uint(len(entries))]
    for e in entries:
        out += [uint(e.client), uint(e.clock), _chunk(e.state.encode())]
    return b"".join(out)


def adds_content(update: bytes) -> bool:
    """Whether a Yjs update (v1) carries any struct (item), rather than only deletions:
    it starts with the number of clients whose structs follow."""
    return bool(update) and Reader(update).uint() > 0


def decode_state_vector(state: bytes) -> dict[int, int]:
    """A Yjs state vector: client id -> next expected clock."""
    r = Reader(state)
    vector = {}
    for _ in range(r.uint()):
        client = r.uint()
        vector[client] = r.uint()
    r.end()
    return vector
