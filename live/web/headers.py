"""Security headers on every HTTP answer: what a browser may run, frame, send and keep.

Every screen shows a QR code and most pages carry a signed link in their address, so a
page must not run injected script (the notes are user-written Markdown), be framed by
another site, leak its address in a `Referer`, be sniffed into another type, or be kept
on disk by a browser or a proxy once it shows a link or personal data.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from live.notes.synthesis import CSS as SYNTHESIS_CSS


def style_hash(css: str) -> str:
    """The CSP source that allows one `<style>` element with exactly this content."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def websocket_origin(base_url: str) -> str:
    """`ws://host:port` (or `wss://`) of the public address: `'self'` already allows the
    same origin's websockets in current browsers; older Safari needs it named."""
    url = urlsplit(base_url)
    scheme = "wss" if url.scheme == "https" else "ws"
    return f"{scheme}://{url.netloc}" if url.netloc else ""


def content_security_policy(
    base_url: str = "", inline_styles: bool = False, form_targets: Sequence[str] = ()
) -> str:
    """Only this origin's scripts, styles, images and connections; no inline script
    (pages pass data in `<script type="application/json">` blocks, which never run);
    the inline `<style>` of the HTML synthesis by its hash; no framing, no plugins.

    `inline_styles` is for the notes editor: CodeMirror writes its theme into a `<style>`
    element and y-codemirror colours each writer's cursor with a `style` attribute. A style
    runs no script, and with every fetch at 'self' an injected one could send nothing out.

    `form_targets`: other origins a form's answer may redirect to — the identity
    provider's, which sign-out continues to (its own logout), and nothing else."""
    connect = " ".join(filter(None, ("'self'", websocket_origin(base_url))))
    styles = "'unsafe-inline'" if inline_styles else style_hash(SYNTHESIS_CSS)
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self' {styles}",
            "img-src 'self'",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            " ".join(("form-action 'self'", *form_targets)),
            "frame-ancestors 'none'",
        )
    )


def carries_token(scope: Scope) -> bool:
    """A request whose address holds a signed link (`?k=`)."""
    query = scope.get("query_string", b"").decode("latin-1")
    return any(key == "k" and value for key, value in parse_qsl(query))


class SecurityHeaders:
    """Adds the headers to every HTTP response (a header a handler set itself is kept).

    `Cache-Control: no-store` goes on everything but the static files and the pages that
    declare themselves `public` (the territorial space, with no link): pages with a link
    in their address, the page that shows a new registration its link, downloads
    (CSV, JSON, .ics, PDF, synthesis) and live state alike. The pages of `inline_styles`
    (route paths, "/e/{event_id}/notes") get the policy that lets the editor style."""

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "",
        inline_styles: Sequence[str] = (),
        form_targets: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.fixed = {
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        }
        self.policy = content_security_policy(base_url, form_targets=form_targets)
        self.editor_policy = content_security_policy(
            base_url, inline_styles=True, form_targets=form_targets
        )
        self.editors = [compile_path(path)[0] for path in inline_styles]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = carries_token(scope) or not scope["path"].startswith("/static/")
        editor = any(pattern.match(scope["path"]) for pattern in self.editors)
        policy = self.editor_policy if editor else self.policy

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in self.fixed.items():
                    headers.setdefault(name, value)
                # A public page that says how long it may be kept (the territorial space:
                # `public, max-age=60` with an ETag) keeps it, unless its address holds a link.
                public = headers.get("cache-control", "").startswith("public")
                if private and (carries_token(scope) or not public):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
