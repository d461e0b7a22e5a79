"""The live websocket (`/ws/events/{event_id}`): thin transport around `hub.Live`.

A receive loop parses and dispatches; a send task drains the client's bounded outbox.
The two are cancelled together when either ends.

The link is checked on every use, not once per connection: each command re-checks its
expiry and revocations (`LinkBook.check`); revoking the link closes the socket at once
(`LinkBook.watch`), and so does its expiry. Either way the page receives an error frame
saying why, then the close code (4403) that stops it from reconnecting with that link.
Frames are read at a bounded rate: past it, they are dropped, and the client told once
(`rate_limited`) per burst.

Every command is answered within a second (`hub.ANSWER_WITHIN`): an `ack`, an `error`
(nothing was changed), or, when the store has not answered yet, `pending` followed by its
`ack` or `error` once it does. A command sent before `hello` subscribes the socket first
(a snapshot, then the command's event): every socket that commands sees what it did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from starlette.websockets import WebSocket, WebSocketDisconnect

from live.agenda import protocol
from live.agenda.live import Live, Unsettled, audience_of, now_ms
from live.agenda.outbox import RESYNC, Client
from live.errors import RelaisError, close_code
from live.i18n import refusal
from live.links.signing import PUBLIC, LinkError
from live.ratelimit import Bucket
from live.web.wire import direct_writer

log = logging.getLogger("relais.ws")

RATE, BURST = 20.0, 60  # frames per second a client may send, and in one burst


async def endpoint(websocket: WebSocket) -> None:
    app = websocket.app
    live: Live | None = app.state.catalogue.get(websocket.path_params["event_id"])
    await websocket.accept()
    lang = websocket.query_params.get("lang", "fr")  # refusal() falls back to French
    if live is None:
        text = refusal(lang, "unknown_event", "no such event")
        await websocket.send_text(protocol.error("unknown_event", text))
        await websocket.close(code=close_code("unknown_event"))
        return
    token = websocket.query_params.get("k")
    claims = PUBLIC
    if token:
        try:
            claims = await app.state.links.verify(token, live.event.id)
        except LinkError as exc:
            await websocket.send_text(protocol.error(exc.code, refusal(lang, exc.code, str(exc))))
            await websocket.close(code=close_code(exc.code))
            return
    settings = app.state.settings
    audience = audience_of(claims, live.event)
    client = Client(claims, settings.send_queue, settings.send_queue_bytes, audience)
    writer = direct_writer(websocket.scope)
    if writer is not None:  # under uvicorn with our protocol: events skip the send task
        client.direct = writer.write
    unwatch = app.state.links.watch(claims, client.close)
    expiry = None
    if claims.id:
        delay = max(0.0, claims.expires - time.time())
        expiry = asyncio.get_running_loop().call_later(delay, client.close, "link_expired")
    sender = asyncio.create_task(_send(websocket, client, live, lang))
    later: set[asyncio.Task[None]] = set()  # outcomes still awaited (see `_later`)
    try:
        await _receive(websocket, client, live, settings.max_message_bytes, lang, later)
    except WebSocketDisconnect:
        pass
    finally:
        for task in later:
            task.cancel()
        unwatch()
        if expiry is not None:
            expiry.cancel()
        live.clients.discard(client)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


async def _send(websocket: WebSocket, client: Client, live: Live, lang: str) -> None:
    try:
        while (frame := await client.next_frame()) is not None:
            if frame == RESYNC:
                client.behind = False
                frame = live.snapshot(audience=client.audience)
            await websocket.send_text(frame)
        reason = client.close_reason or "behind"
        if reason != "behind":  # say why before closing: the page shows it
            text = refusal(lang, reason, reason)
            await websocket.send_text(protocol.error(reason, text))
        await websocket.close(code=close_code(reason))
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass


async def _receive(
    websocket: WebSocket,
    client: Client,
    live: Live,
    max_bytes: int,
    lang: str,
    later: set[asyncio.Task[None]],
) -> None:
    """Read frames until the socket closes. Every refusal is answered, in the language of
    the page that opened the socket, with a stable code the page can act on."""
    links = websocket.app.state.links
    bucket, warned = Bucket.full(RATE, BURST, time.monotonic()), False
    while not client.closed:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        if bucket.take(time.monotonic()):
            if not warned:  # said once per burst: the replies must not flood either
                text = refusal(lang, "rate_limited", "too many messages; slow down")
                client.push_reply(protocol.error("rate_limited", text))
                warned = True
            continue
        warned = False
        try:
            msg = protocol.parse(data, max_bytes)
        except protocol.MessageError as exc:
            text = refusal(lang, exc.code, exc.message, exc.params)
            client.push_reply(protocol.error(exc.code, text, exc.id))
            continue
        if isinstance(msg, protocol.Ping):
            client.push_reply(protocol.pong(msg.t0, now_ms()))
        elif isinstance(msg, protocol.Hello):
            # Registering and queueing the catch-up in one synchronous step: no gap.
            live.clients.add(client)
            client.behind = False
            client.push_reply(live.catch_up(msg.since, msg.epoch, client.audience))
        else:
            if client not in live.clients:  # no hello yet: follow from the state as it is
                live.clients.add(client)
                client.push_reply(live.snapshot(audience=client.audience))
            try:
                links.check(client.claims)  # expired or revoked since the socket opened?
                seq = await live.command(msg.name, msg.args, client.claims, msg.id)
            except Unsettled as unsettled:
                text = refusal(lang, unsettled.code, unsettled.message)
                client.push_reply(protocol.pending(msg.id, text))
                task = asyncio.create_task(_later(client, unsettled, msg.id, lang))
                later.add(task)
                task.add_done_callback(later.discard)
            except RelaisError as exc:  # refused, unknown, stale (SeqConflict): nothing written
                text = refusal(lang, exc.code, exc.message, exc.params)
                client.push_reply(protocol.error(exc.code, text, msg.id))
            except Exception:
                log.exception("command %s failed", msg.name)
                text = refusal(lang, protocol.INTERNAL, "internal error")
                client.push_reply(protocol.error(protocol.INTERNAL, text, msg.id))
            else:
                client.push_reply(protocol.ack(msg.id, seq))


async def _later(client: Client, unsettled: Unsettled, cid: str, lang: str) -> None:
    """The outcome of a pending command, once the store answers: its ack (its event was
    broadcast just before), or the refusal if it never applied."""
    try:
        seq = await asyncio.shield(unsettled.outcome)
    except RelaisError as exc:
        text = refusal(lang, exc.code, exc.message, exc.params)
        client.push_reply(protocol.error(exc.code, text, cid))
    else:
        client.push_reply(protocol.ack(cid, seq))
