"""A small Yjs client over a real websocket (pycrdt + websockets), as any editor would be.

It speaks y-websocket like the JS provider: sync step 1 on open, answers the server's
step 1, applies updates, sends its own edits as they happen, and records error frames
and awareness states so tests can assert on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import websockets
from pycrdt import Doc, Text, TransactionEvent

from live.notes import ysync


class YClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.doc: Doc[Text] = Doc()
        self.text = self.doc.get("notes", type=Text)
        self.errors: list[str] = []
        self.presence: dict[int, Any] = {}
        self.synced = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._remote = False
        self._changed = asyncio.Event()
        self.doc.observe(self._on_change)

    async def __aenter__(self) -> YClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self, wait_sync: bool = True) -> None:
        self.synced.clear()
        self.closed.clear()
        self._ws = await websockets.connect(self.url, max_size=None)
        await self._ws.send(ysync.sync_step1(self.doc.get_state()))
        self._reader = asyncio.create_task(self._read())
        if wait_sync:
            await asyncio.wait_for(self.synced.wait(), 5)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._ws = None

    async def send_raw(self, frame: bytes | str) -> None:
        await self._ws.send(frame)

    async def set_presence(self, client: int, clock: int, state: dict[str, Any] | None) -> None:
        entry = ysync.Presence(client, clock, json.dumps(state))
        await self._ws.send(ysync.awareness(ysync.encode_awareness([entry])))

    def type(self, index: int, chars: str) -> None:
        """Insert `chars` at character `index` (the edit is sent by the change observer).

        pycrdt counts text positions in UTF-8 bytes; tests think in characters.
        """
        self.text.insert(len(str(self.text)[:index].encode()), chars)

    def append(self, chars: str) -> None:
        self.text += chars

    def _on_change(self, event: TransactionEvent) -> None:
        self._changed.set()
        if not self._remote and self._ws is not None:
            update = event.update
            asyncio.get_running_loop().create_task(self._send_quietly(ysync.update(update)))

    async def _send_quietly(self, frame: bytes) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._ws.send(frame)

    async def _read(self) -> None:
        ws = self._ws
        try:
            async for frame in ws:
                self._handle(ysync.parse(frame))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code, self.close_reason = ws.close_code, ws.close_reason
            self.closed.set()

    def _handle(self, msg: ysync.Message) -> None:
        if isinstance(msg, ysync.SyncStep1):
            task = self._ws.send(ysync.sync_step2(self.doc.get_update(msg.state)))
            asyncio.get_running_loop().create_task(task)
        elif isinstance(msg, ysync.SyncStep2 | ysync.Update):
            self._remote = True
            try:
                self.doc.apply_update(msg.update)
            finally:
                self._remote = False
            if isinstance(msg, ysync.SyncStep2):
                self.synced.set()
            self._changed.set()
        elif isinstance(msg, ysync.Awareness):
            for entry in ysync.decode_awareness(msg.payload):
                if entry.gone:
                    self.presence.pop(entry.client, None)
                else:
                    self.presence[entry.client] = json.loads(entry.state)
            self._changed.set()
        elif isinstance(msg, ysync.Auth):
            self.errors.append(msg.reason)
            self._changed.set()

    async def until(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `check()` holds, re-checking after every change received."""

        async def wait() -> None:
            while not check():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)

    async def until_closed(self, timeout: float = 5.0) -> tuple[int | None, str | None]:
        """Wait until the server closes the connection; its close code and reason."""
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code, self.close_reason

    async def until_text(self, expected: str, timeout: float = 5.0) -> None:
        try:
            await self.until(lambda: str(self.text) == expected, timeout)
        except TimeoutError:
            raise AssertionError(
                f"text is {_short(str(self))}, expected {_short(expected)}"
            ) from None

    def __str__(self) -> str:
        return str(self.text)


def _short(text: str) -> str:
    """A text for a failure message: whole when short, else its length and both ends."""
    if len(text) <= 200:
        return repr(text)
    return f"{len(text)} characters {text[:80]!r}…{text[-80:]!r}"
