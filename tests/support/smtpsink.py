"""A real SMTP server for tests, small enough to read: it accepts every message and keeps
it with its envelope (the recipients SMTP was asked to deliver to, whatever the headers
say), so a test sees exactly what a mail server would have delivered, and to whom."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any


@dataclass
class Delivery:
    recipients: list[str]  # RCPT TO: who would receive it
    message: EmailMessage

    @property
    def body(self) -> str:
        return str(self.message.get_content())


@dataclass
class _Envelope:
    recipients: list[str] = field(default_factory=list)


class _Handler(socketserver.StreamRequestHandler):
    server: Any

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink")
        envelope = _Envelope()
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-sink")
                self.reply("250-SMTPUTF8")
                self.reply("250 8BITMIME")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip()
                envelope.recipients.append(address.split()[0].strip("<>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                raw = b"".join(iter(self.rfile.readline, b".\r\n"))
                message = email.message_from_bytes(raw, policy=email.policy.default)
                assert isinstance(message, EmailMessage)
                self.server.deliveries.append(Delivery(envelope.recipients, message))
                envelope = _Envelope()
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL FROM, RSET, NOOP
                self.reply("250 ok")


class SMTPSink:
    """`with SMTPSink() as sink:` a server on a free port; `sink.deliveries` fills up."""

    def __init__(self) -> None:
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self.deliveries: list[Delivery] = []
        self._server.deliveries = self.deliveries  # type: ignore[attr-defined]
        self.port = int(self._server.server_address[1])

    def __enter__(self) -> SMTPSink:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def env(self) -> dict[str, str]:
        """The server settings that make Relais send its mail here."""
        return {"RELAIS_SMTP_HOST": "127.0.0.1", "RELAIS_SMTP_PORT": str(self.port)}
