"""Signed links never reach a log (live/logs.py): a link's token is its whole authority, and
the access log of the real server, its websocket lines and Relais' own lines all quote
addresses."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from live.logs import REDACTED, install, redact
from tests.support.servers import LiveServer

EVENT = "ariege-2020"


@pytest.fixture
def logged_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The server as `relais serve` runs it: info level, access log on."""
    server = LiveServer(tmp_path / "data", log_level="info")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_access_log_names_the_pages_but_not_their_links(logged_server: LiveServer) -> None:
    organizer = logged_server.link(EVENT, "organizer")
    facilitator = logged_server.link(EVENT, "facilitator")
    with httpx.Client(timeout=30) as client:
        base = f"{logged_server.url}/e/{EVENT}"
        assert client.get(f"{base}/organize", params={"k": organizer}).status_code == 200
        assert client.get(f"{base}/console?lang=en&k={facilitator}").status_code == 200
        assert client.get(f"{base}/organize", params={"k": "forged.token"}).status_code == 401
    with connect(f"{logged_server.ws_url}/ws/events/{EVENT}?k={facilitator}") as ws:
        ws.send('{"type": "hello", "since": 0}')
        ws.recv(timeout=10)
    with httpx.Client(timeout=30) as client:  # a request after them: their lines are out
        client.get(f"{logged_server.url}/healthz")
    log = logged_server.log()
    assert f'"GET /e/{EVENT}/organize?k={REDACTED} HTTP/1.1" 200' in log
    assert f"/console?lang=en&k={REDACTED}" in log
    assert f"/ws/events/{EVENT}?k={REDACTED}" in log
    for token in (organizer, facilitator, "forged.token"):
        assert token not in log
        assert token.split(".")[-1] not in log, "not even the signature"


def test_a_relais_log_line_quoting_a_link_shows_no_token(caplog: pytest.LogCaptureFixture) -> None:
    install()
    with caplog.at_level(logging.INFO):
        logging.getLogger("relais.mail").info("sent %s", "http://h/e/x/me?k=secret.sig&lang=fr")
        logging.getLogger("relais").warning("link http://h/e/x/console?k=other.sig refused")
        logging.getLogger("relais.api").info("%(auth)s", {"auth": "Authorization: Bearer abc.d"})
    text = caplog.text
    assert "secret" not in text and "other.sig" not in text and "abc.d" not in text
    assert f"me?k={REDACTED}&lang=fr" in text and f"Bearer {REDACTED}" in text


def test_redaction_keeps_everything_but_the_token() -> None:
    line = '127.0.0.1:5 - "GET /e/x/notes/w?lang=en&k=a.b-c_d HTTP/1.1" 200'
    assert redact(line) == f'127.0.0.1:5 - "GET /e/x/notes/w?lang=en&k={REDACTED} HTTP/1.1" 200'
    assert redact("/e/x?book=1&kk=2") == "/e/x?book=1&kk=2"
