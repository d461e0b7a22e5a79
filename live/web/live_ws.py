"""The live websocket (`/ws/events/{event_id}`): thin transport around `agenda.live.Live`.

A `Session` (web/session.py: admission, the link watched and its expiry, a sender task
and a receive loop, cleanup). `LogSession` is what every socket on an event log says the
same way (this one and the participation's, `participation_ws.py`): a receive loop parses
and dispatches; the send task drains the client's bounded outbox (`agenda/outbox.py`).
`LiveSession` says what is the agenda's.

The link is checked on every use, not once per connection: each command re-checks its
expiry and revocations (`LinkBook.check`); revoking the link closes the socket at once
(`LinkBook.watch`), and so does its expiry. Either way the page receives an error frame
saying why, then the close code (4403) that stops it from reconnecting with that link.
Frames are read at a bounded rate: past it, they are dropped, and the client told once
(`rate_limited`) per burst.

Every command is answered within a second (`eventlog.ANSWER_WITHIN`): an `ack`, an `error`
(nothing was changed), or, when the store has not answered yet, `pending` followed by its
`ack` or `error` once it does. A command sent before `hello` subscribes the socket first
(a snapshot, then the command's event): every socket that commands sees what it did.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from live.agenda import protocol
from live.agenda.live import Live, Unsettled, audience_of, now_ms
from live.agenda.outbox import RESYNC, Client
from live.errors import RelaisError
from live.i18n import refusal
from live.ratelimit import Bucket
from live.web.session import Session, close

log = logging.getLogger("relais.ws")

RATE, BURST = 20.0, 60  # frames per second a client may send, and in one burst


class LogSession(Session):
    """A page following an event log (the agenda's, the participation's) and sending it
    commands if its link may: what both say the same way (rate, parse, hello, ping,
    command answered ack / error / pending). Subclasses say what is followed."""

    client: Client

    def setup(self, websocket: WebSocket) -> None:
        """Once the link is checked and `client` made: the bounds every frame is read in."""
        if self.direct is not None:  # under uvicorn with our protocol: events skip the sender
            self.client.direct = self.direct.write
        self.max_bytes: int = websocket.app.state.settings.max_message_bytes
        self.bucket, self.warned = Bucket.full(RATE, BURST, time.monotonic()), False
        self.later: set[asyncio.Task[None]] = set()  # outcomes still awaited (see `_later`)

    # -- what a subclass says --------------------------------------------------------------

    def subscribe(self, hello: protocol.Hello | None) -> None:
        """Follow the log from `hello` (what the page has), or from its state as it is."""
        raise NotImplementedError

    @property
    def subscribed(self) -> bool:
        raise NotImplementedError

    def picture(self) -> str:
        """A fresh picture, for a client that fell behind."""
        raise NotImplementedError

    def leave(self) -> None:
        raise NotImplementedError

    async def submit(self, msg: protocol.Command) -> int:
        """Send a command to the log; its seq, or a refusal raised."""
        raise NotImplementedError

    # -- the session -----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.client.closed

    def farewell(self, exc: RelaisError) -> str:
        return protocol.error(exc.code, refusal(self.lang, exc.code, exc.message, exc.params))

    def end(self, code: str) -> None:
        self.client.close(code)

    async def send_frames(self, websocket: WebSocket) -> None:
        client = self.client
        try:
            while (frame := await client.next_frame()) is not None:
                if frame == RESYNC:
                    client.behind = False
                    frame = self.picture()
                await websocket.send_text(frame)
            reason = client.close_reason or "behind"
            if reason != "behind":  # say why before closing: the page shows it
                await websocket.send_text(self.farewell(RelaisError(reason)))
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        await close(websocket, reason)

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        for task in self.later:
            task.cancel()
        self.leave()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        """One frame, read at a bounded rate. Every refusal is answered, in the language of
        the page that opened the socket, with a stable code the page can act on."""
        client, lang = self.client, self.lang
        if self.bucket.take(time.monotonic()):
            if not self.warned:  # said once per burst: the replies must not flood either
                text = refusal(lang, "rate_limited", "too many messages; slow down")
                client.push_reply(protocol.error("rate_limited", text))
                self.warned = True
            return
        self.warned = False
        try:
            msg = protocol.parse(data, self.max_bytes)
        except protocol.MessageError as exc:
            text = refusal(lang, exc.code, exc.message, exc.params)
            client.push_reply(protocol.error(exc.code, text, exc.id))
            return
        if isinstance(msg, protocol.Ping):
            client.push_reply(protocol.pong(msg.t0, now_ms()))
        elif isinstance(msg, protocol.Hello):
            self.subscribe(msg)
        else:
            await self._command(websocket, msg)

    async def _command(self, websocket: WebSocket, msg: protocol.Command) -> None:
        client, lang = self.client, self.lang
        if not self.subscribed:  # no hello yet: follow from the state as it is
            self.subscribe(None)
        try:
            websocket.app.state.links.check(client.claims)  # expired or revoked meanwhile?
            seq = await self.submit(msg)
        except Unsettled as unsettled:
            client.push_reply(
                protocol.pending(msg.id, refusal(lang, unsettled.code, unsettled.message))
            )
            task = asyncio.create_task(self._later(unsettled, msg.id))
            self.later.add(task)
            task.add_done_callback(self.later.discard)
        except RelaisError as exc:  # refused, unknown, stale (SeqConflict): nothing written
            text = refusal(lang, exc.code, exc.message, exc.params)
            client.push_reply(protocol.error(exc.code, text, msg.id))
        except Exception:
            log.exception("command %s failed", msg.name)
            text = refusal(lang, protocol.INTERNAL, "internal error")
            client.push_reply(protocol.error(protocol.INTERNAL, text, msg.id))
        else:
            client.push_reply(protocol.ack(msg.id, seq))

    async def _later(self, unsettled: Unsettled, cid: str) -> None:
        """The outcome of a pending command, once the store answers: its ack (its event was
        broadcast just before), or the refusal if it never applied."""
        try:
            seq = await asyncio.shield(unsettled.outcome)
        except RelaisError as exc:
            text = refusal(self.lang, exc.code, exc.message, exc.params)
            self.client.push_reply(protocol.error(exc.code, text, cid))
        else:
            self.client.push_reply(protocol.ack(cid, seq))


class LiveSession(LogSession):
    """One page following an event's live state, and commanding it if its link may."""

    live: Live

    async def on_connect(self, websocket: WebSocket) -> None:
        app = websocket.app
        live: Live | None = app.state.catalogue.get(websocket.path_params["event_id"])
        if live is None:
            raise RelaisError("unknown_event", "no such event")
        token = websocket.query_params.get("k")
        if token:  # no link: the public's view
            self.claims = await app.state.links.verify(token, live.event.id)
        settings = app.state.settings
        self.live = live
        self.client = Client(
            self.claims,
            settings.send_queue,
            settings.send_queue_bytes,
            audience_of(self.claims, live.event),
        )
        self.setup(websocket)

    def subscribe(self, hello: protocol.Hello | None) -> None:
        # Registering and queueing the catch-up in one synchronous step: no gap.
        client, live = self.client, self.live
        live.clients.add(client)
        client.behind = False
        if hello is None:
            client.push_reply(live.snapshot(audience=client.audience))
        else:
            client.push_reply(live.catch_up(hello.since, hello.epoch, client.audience))

    @property
    def subscribed(self) -> bool:
        return self.client in self.live.clients

    def picture(self) -> str:
        return self.live.snapshot(audience=self.client.audience)

    def leave(self) -> None:
        self.live.clients.discard(self.client)

    async def submit(self, msg: protocol.Command) -> int:
        return await self.live.command(msg.name, msg.args, self.client.claims, msg.id)


endpoint = LiveSession
