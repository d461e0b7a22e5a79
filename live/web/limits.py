"""Request bodies bounded while they arrive, before any handler parses them.

Starlette reads a form to its end (a multipart file is spooled to a temporary file, an
urlencoded body is held in memory) before a handler can look at its size, so a hostile
client could make the server read, store and hold hundreds of megabytes. This ASGI
middleware refuses a body over its route's limit with 413: at once when `Content-Length`
announces it (nothing is read), else as soon as the bytes counted from the stream (chunked
bodies) cross it. The answer closes the connection, so the rest is never read either.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from live.errors import RelaisError
from live.web.common import refused

# The message a person reads on the 413 page (both catalogs).
MESSAGE = "error.body_too_large"


class TooLarge(RelaisError):
    """A request body longer than its route allows."""

    def __init__(self, limit: int) -> None:
        super().__init__("too_large", f"request body over {limit} bytes", size=limit)
        self.limit = limit


def header(scope: Scope, name: bytes) -> bytes | None:
    return next((v for k, v in scope.get("headers", ()) if k == name), None)


def declared_length(scope: Scope) -> int | None:
    """The body length the client announced, if it announced one the server accepted."""
    value = header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class BodyLimit:
    """Every HTTP request body at most `default` bytes, or the limit of the first of
    `routes` ((route path, as written in the routes: "/e/{event_id}/organize/import";
    bytes)) that matches the request's path."""

    def __init__(self, app: ASGIApp, default: int, routes: Sequence[tuple[str, int]] = ()):
        self.app = app
        self.default = default
        self.routes = [(compile_path(path)[0], limit) for path, limit in routes]

    def limit(self, path: str) -> int:
        for pattern, limit in self.routes:
            if pattern.match(path):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["path"])
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await refusal(scope, TooLarge(limit))(scope, receive, send)
            return
        received = 0
        started = False
        # A streamed body that the handler leaves unread (an unknown event, a refused link)
        # would be read to its end by the server after the answer, to keep the connection
        # open: the answer closes it instead.
        unread = declared is None and header(scope, b"transfer-encoding") is not None

        async def bounded_receive() -> Message:
            nonlocal received, unread
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge(limit)
                unread = unread and message.get("more_body", False)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if unread:
                    message.setdefault("headers", [])
                    MutableHeaders(scope=message)["Connection"] = "close"
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except TooLarge as exc:
            if started:  # a handler that answers before reading: nothing more to say
                raise
            await refusal(scope, exc)(scope, receive, send)


def refusal(scope: Scope, exc: TooLarge) -> Response:
    """413 in the request's language (a page; JSON for the API), closing the connection so
    that the rest of the body is not read."""
    return refused(Request(scope), exc, sentence=MESSAGE, headers={"Connection": "close"})
