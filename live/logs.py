"""Signed links never reach a log: `k=` values and bearer tokens are redacted.

A link's token is its whole authority (the organizer's included), and it travels in the
address: uvicorn writes that address into its access log (`GET /e/x/organize?k=…`) and
into its websocket log (`"WebSocket /ws/events/x?k=…" [accepted]`, on `uvicorn.error`),
and a Relais message may quote a link. `install()` redacts every log record of the process
when it is created, before any filter, handler or formatter sees it: a filter on the
`relais` logger alone would miss `relais.hub` and the other children (a logger's filters
see only its own records), and one on `uvicorn.access` would miss the websocket lines.
`RedactTokens` is the same thing as a filter, for a logging configuration of one's own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"
_TOKEN = re.compile(r"(?<=[?&;]k=)[^&;#\s\"'<>]+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+")


def redact(text: str) -> str:
    """`text` with the value of every `k=` query argument and bearer token replaced."""
    return _BEARER.sub(rf"\1{REDACTED}", _TOKEN.sub(REDACTED, text))


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message and its string arguments redacted (in place)."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_clean(a) for a in record.args)
    elif isinstance(record.args, Mapping):
        record.args = {k: _clean(v) for k, v in record.args.items()}
    return record


class RedactTokens(logging.Filter):
    """Redacts each record it sees and lets it through."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install() -> None:
    """Redact every log record of this process from now on (once, however many apps)."""
    make = logging.getLogRecordFactory()
    if getattr(make, "redacts_tokens", False):
        return

    def redacting(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(make(*args, **kwargs))

    redacting.redacts_tokens = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting)
