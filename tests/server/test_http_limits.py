"""Request bodies are bounded while they arrive (live/web/limits.py), on the real server: a
hostile client cannot make it read, spool to disk or hold more than a form's worth, and
people filling in forms or importing a list see no difference."""

from __future__ import annotations

import html
import re
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from live.config import Settings
from live.web.organize import MAX_UPLOAD
from tests.people.test_registration import GOOD
from tests.support.servers import LiveServer

EVENT = "ariege-2020"
MiB = 1024 * 1024
HUGE = 600 * MiB  # what the tester sent; never allocated here, only announced or streamed
# What may be in flight when the answer comes: the client's and the server's socket buffers
# on loopback (a few MiB). The server reads 64 KiB of it.
IN_FLIGHT = 32 * MiB
BOUNDARY = "relais-test-boundary"


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    """The server's temporary directory (TMPDIR), where a multipart file would be spooled."""
    folder = tmp_path / "spool"
    folder.mkdir()
    return folder


@pytest.fixture
def server(tmp_path: Path, spool: Path) -> Iterator[LiveServer]:
    s = LiveServer(tmp_path / "data", env={"TMPDIR": str(spool)})
    s.start()
    try:
        yield s
    finally:
        s.stop()


class Answer:
    """What a raw client saw: how much body it had sent when the answer came, and it."""

    def __init__(self, sent: int, raw: bytes) -> None:
        self.sent = sent
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {
            k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])
        }
        self.text = html.unescape(body.decode("utf-8", "replace"))


def send_until_answered(
    server: LiveServer, path: str, headers: dict[str, str], body: Iterator[bytes]
) -> Answer:
    """POST `body`, a piece at a time, and stop sending as soon as the server answers (a
    real socket: an HTTP client library sends the whole body before it reads)."""
    chunked = "Content-Length" not in headers
    head = {"Host": "relais", **headers} | ({"Transfer-Encoding": "chunked"} if chunked else {})
    request = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items())
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request.encode("latin-1") + b"\r\n")
        try:
            for piece in body:
                if select.select([sock], [], [], 0)[0]:
                    break  # the answer is there
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
            else:
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while we were sending
        return Answer(sent, read_answer(sock))


def read_answer(sock: socket.socket) -> bytes:
    """Everything the server sent until it closed (a reset after the answer is expected:
    it closes with the rest of the body unread)."""
    raw = b""
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        raw += data
        if (answer := complete(raw)) is not None:
            return answer
    return raw


def complete(raw: bytes) -> bytes | None:
    head, sep, body = raw.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if sep and length and len(body) >= int(length.group(1)):
        return raw
    return None


def multipart_file(size: int, piece: int = 64 * 1024) -> Iterator[bytes]:
    """A form with one file of `size` bytes, generated a piece at a time."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    block = b"x" * piece
    for _ in range(size // piece):
        yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def urlencoded(size: int, piece: int = 64 * 1024) -> Iterator[bytes]:
    yield b"name=Camille&comment="
    block = b"y" * piece
    for _ in range(size // piece):
        yield block


def spooled_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def rss_bytes(server: LiveServer) -> int:
    assert server.proc is not None
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match
    return int(match.group(1)) * 1024


def register(server: LiveServer, client: httpx.Client, **fields: str) -> httpx.Response:
    return client.post(f"{server.url}/e/{EVENT}/register", data=GOOD | fields)


def register_raw(server: LiveServer, **fields: str) -> Answer:
    """The form posted as a browser does (with its length), read even if refused early."""
    body = urlencode(GOOD | fields).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(len(body)),
    }
    pieces = (body[i : i + 65536] for i in range(0, len(body), 65536))
    return send_until_answered(server, f"/e/{EVENT}/register", headers, pieces)


# -- public forms ------------------------------------------------------------------------


def test_a_600_mib_upload_to_the_registration_form_is_refused_before_it_is_sent(
    server: LiveServer, spool: Path
) -> None:
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(HUGE + 512),
    }
    answer = send_until_answered(server, f"/e/{EVENT}/register", headers, multipart_file(HUGE))
    assert answer.status == 413
    assert answer.sent < IN_FLIGHT, "answered before the client had sent its body"
    assert answer.headers["connection"] == "close", "the rest is never read"
    assert spooled_bytes(spool) < MiB, "nothing was spooled to disk"


def test_a_streamed_body_without_a_length_is_refused_once_past_the_limit(
    server: LiveServer, spool: Path
) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    send_until_answered(server, f"/e/{EVENT}/register", headers, urlencoded(MiB))  # warm up
    before = rss_bytes(server)
    answer = send_until_answered(server, f"/e/{EVENT}/register", headers, urlencoded(300 * MiB))
    assert answer.status == 413
    assert answer.sent < IN_FLIGHT
    assert rss_bytes(server) - before < 16 * MiB, "the body was not held in memory"
    multipart = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    answer = send_until_answered(server, f"/e/{EVENT}/register", multipart, multipart_file(HUGE))
    assert answer.status == 413 and answer.sent < IN_FLIGHT
    assert spooled_bytes(spool) < MiB


def test_a_streamed_body_that_no_handler_reads_is_not_read_to_its_end(
    server: LiveServer,
) -> None:
    """An unknown event answers 404 without reading the form: the server does not go on
    reading (and throwing away) a body that never ends."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = send_until_answered(server, "/e/no-such-event/register", headers, urlencoded(HUGE))
    assert answer.status == 404
    assert answer.headers["connection"] == "close" and answer.sent < IN_FLIGHT


def test_the_refusal_is_a_page_in_the_request_language(server: LiveServer) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "999999"}
    french = send_until_answered(server, f"/e/{EVENT}/register", headers, iter(()))
    assert french.status == 413 and "Envoi trop volumineux" in french.text
    english = send_until_answered(server, f"/e/{EVENT}/register?lang=en", headers, iter(()))
    assert english.status == 413 and "Request too large" in english.text
    assert "text/html" in english.headers["content-type"]


def test_the_api_refuses_with_json(server: LiveServer) -> None:
    headers = {"Content-Type": "application/json", "Content-Length": str(HUGE)}
    answer = send_until_answered(server, f"/api/events/{EVENT}/state", headers, iter(()))
    assert answer.status == 413
    assert answer.headers["content-type"] == "application/json"
    assert '"too_large"' in answer.text


def test_a_normal_registration_still_works_and_a_refused_one_stores_nothing(
    server: LiveServer,
) -> None:
    long_note = "x" * (Settings().max_form_bytes + 1)
    assert register_raw(server, email="big@example.fr", accessibility=long_note).status == 413
    with httpx.Client(timeout=30) as client:
        ok = register(server, client)
        assert ok.status_code == 200, ok.text
        again = register(server, client, email="big@example.fr")
        assert again.status_code == 200, "the refused one left no registration behind"


def test_the_form_limit_is_a_setting(tmp_path: Path) -> None:
    s = LiveServer(tmp_path / "data", env={"RELAIS_MAX_FORM_BYTES": "300"})
    s.start()
    try:
        with httpx.Client(timeout=30) as client:
            assert register(s, client).status_code == 200
        assert register_raw(s, email="b@example.fr", accessibility="x" * 300).status == 413
    finally:
        s.stop()


# -- the organizer's CSV import ------------------------------------------------------------


def import_file(server: LiveServer, client: httpx.Client, data: bytes) -> httpx.Response:
    return client.post(
        f"{server.url}/e/{EVENT}/organize/import",
        params={"k": server.link(EVENT, "organizer")},
        files={"file": ("liste.csv", data, "text/csv")},
    )


def test_the_csv_import_takes_a_1_mib_list_and_refuses_a_larger_file_than_its_limit(
    server: LiveServer, spool: Path
) -> None:
    rows = "name;email;category;site;wish1\nBruno Petit;bruno@example.fr;parent;foix;\n"
    padded = (rows + "\n" * MiB).encode()  # blank lines: a list of 1 MiB, one person in it
    with httpx.Client(timeout=60) as client:
        r = import_file(server, client, padded)
        assert r.status_code == 200, html.unescape(r.text)[:2000]
        assert "1 inscription ajoutée" in html.unescape(r.text)
    limit = Settings().max_import_bytes
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(limit + 1),
    }
    k = server.link(EVENT, "organizer")
    path = f"/e/{EVENT}/organize/import?k={k}"
    answer = send_until_answered(server, path, headers, multipart_file(limit))
    assert answer.status == 413
    streamed = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    answer = send_until_answered(server, path, streamed, multipart_file(HUGE))
    assert answer.status == 413 and answer.sent < IN_FLIGHT
    assert spooled_bytes(spool) < limit + MiB


def test_the_import_limit_holds_on_the_import_only(server: LiveServer) -> None:
    """A body the import accepts is still far too large for a public form."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(MiB)}
    answer = send_until_answered(server, f"/e/{EVENT}/register", headers, urlencoded(MiB))
    assert answer.status == 413


def test_the_import_limit_leaves_room_for_the_largest_list_and_its_envelope() -> None:
    """A file the desk accepts (MAX_UPLOAD) passes, with its multipart envelope; a larger
    one reaches the desk, which explains its own limit; nothing much larger is read."""
    limit = Settings().max_import_bytes
    assert MAX_UPLOAD + 16 * 1024 <= limit <= MAX_UPLOAD + 256 * 1024


@pytest.mark.browser
def test_an_organizer_who_picks_a_huge_file_reads_why_in_chromium(
    server: LiveServer, spool: Path, tmp_path: Path, browser: Any
) -> None:
    """Chromium reads the answer that comes while it is still sending, and shows it."""
    huge = tmp_path / "liste.csv"
    with huge.open("wb") as f:
        f.truncate(200 * MiB)  # sparse: nothing written here either
    page = browser.new_page()
    page.goto(f"{server.url}/e/{EVENT}/organize?k={server.link(EVENT, 'organizer')}&lang=en")
    page.get_by_label("CSV file").set_input_files(str(huge))
    with page.expect_navigation():
        page.get_by_role("button", name="Import").click()
    assert "Request too large: nothing was saved." in page.locator("main").inner_text()
    assert spooled_bytes(spool) < MiB
    page.close()
