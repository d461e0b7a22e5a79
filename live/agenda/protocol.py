"""Every message of the live websocket: parsing, building, and the error codes.

One schema, validated at the edge. A frame that cannot be used raises `MessageError`
with a code the client can act on; the connection stays open.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from live.agenda.state import EVERYONE
from live.errors import RelaisError
from live.eventlog import OUTCOME_UNKNOWN
from live.model import Event

# Error codes sent in `error{code}`; the state machine adds its own (see Rejected).
BAD_JSON = "bad_json"
TOO_DEEP = "too_deep"
TOO_LARGE = "too_large"
INVALID = "invalid_message"
UNKNOWN_COMMAND = "unknown_command"
INVALID_ARGS = "invalid_args"
FORBIDDEN = "forbidden"
INTERNAL = "internal"
# CONFLICT (the log stayed busy) and OUTCOME_UNKNOWN (not a refusal: the store has not
# confirmed the command yet, `pending`; an `ack` or an `error` follows once it answers)
# are the event log's (live/eventlog.py).


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hello(_Msg):
    type: Literal["hello"]
    since: int | None = Field(default=None, ge=0)
    epoch: str | None = Field(default=None, max_length=64)


class Command(_Msg):
    type: Literal["command"]
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=64)
    args: dict[str, Any] = Field(default_factory=dict)


class Ping(_Msg):
    type: Literal["ping"]
    t0: float = Field(allow_inf_nan=False)  # echoed back: must stay valid JSON


ClientMessage = Annotated[Hello | Command | Ping, Field(discriminator="type")]
_client = TypeAdapter(ClientMessage)


class MessageError(RelaisError):
    """A frame of the live websocket that cannot be used; `id` names the command, if any."""

    def __init__(self, code: str, message: str, id: str | None = None, **params: Any) -> None:
        super().__init__(code, message, **params)
        self.id = id


def parse(text: str | bytes, max_bytes: int) -> Hello | Command | Ping:
    """Parse one client frame, or raise MessageError saying what is wrong with it."""
    if len(text) > max_bytes:
        raise MessageError(TOO_LARGE, f"message over {max_bytes} bytes", size=max_bytes)
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise MessageError(BAD_JSON, "message is not valid JSON") from None
    except RecursionError:  # `[[[[...` thousands deep: the parser gives up, so do we
        raise MessageError(TOO_DEEP, "message nested too deeply") from None
    msg_id = data.get("id") if isinstance(data, dict) else None
    try:
        return _client.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise MessageError(
            INVALID,
            f"{where}: {first['msg']}",
            msg_id if isinstance(msg_id, str) else None,
            field=where,
        ) from None


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def ack(id: str, seq: int) -> str:
    return dumps({"type": "ack", "id": id, "seq": seq})


def pending(id: str, message: str) -> str:
    """The command may still be applied: its `ack` (or `error`) follows when the store
    answers. Never a refusal: nothing can be said yet about what it changed."""
    return dumps({"type": "pending", "id": id, "code": OUTCOME_UNKNOWN, "message": message})


def error(code: str, message: str, id: str | None = None) -> str:
    return dumps({"type": "error", "id": id, "code": code, "message": message})


def pong(t0: float, t1: int) -> str:
    return dumps({"type": "pong", "t0": t0, "t1": t1})


def private_to(entry: dict[str, Any]) -> str | None:
    """The site whose clients alone may read this entry's text (a message to one site)."""
    if entry.get("name") == "message.show":
        site = (entry.get("args") or {}).get("site")
        return site if isinstance(site, str) else None
    return None


def public(entry: dict[str, Any], audience: str = EVERYONE) -> dict[str, Any]:
    """What a client may see of a log entry: not who sent it (the role, the link id in
    the command id), which the log keeps for retries and audit; nor the text of a message
    to another site than the client's (`audience`: its site, "" for none)."""
    out: dict[str, Any] = {k: entry[k] for k in ("seq", "t", "name", "args") if k in entry}
    site = private_to(entry)
    if site is not None and audience not in (EVERYONE, site):
        out["args"] = {"site": site}
    return out


def event(entry: dict[str, Any], state: dict[str, Any], audience: str = EVERYONE) -> str:
    """A pushed change: the log entry and the whole (small) state after it."""
    return dumps({"type": "event", **public(entry, audience), "state": state})


def events(
    entries: list[dict[str, Any]],
    state: dict[str, Any],
    epoch: str,
    now: int,
    audience: str = EVERYONE,
    rev: str = "",
) -> str:
    """The reply to `hello{since}`: exactly what the client missed, and where it leads.
    `rev` is the event's fingerprint (`revision`): a page holding another fetches it."""
    return dumps(
        {
            "type": "events",
            "epoch": epoch,
            "events": [public(e, audience) for e in entries],
            "seq": state["seq"],
            "state": state,
            "server_time": now,
            "rev": rev,
        }
    )


def snapshot(state: dict[str, Any], epoch: str, now: int, rev: str = "") -> str:
    """The whole picture, for a first connection or a client too far behind."""
    return dumps(
        {
            "type": "snapshot",
            "epoch": epoch,
            "seq": state["seq"],
            "state": state,
            "server_time": now,
            "rev": rev,
        }
    )


# -- the event as pages see it -------------------------------------------------------------


def event_info(event: Event) -> dict[str, Any]:
    """What page scripts need of the event: titles, planned times, workshops, reports.

    Pages receive it in their configuration, and again in a `definition` frame when it
    changes while they are open (a live edit of the run-of-show, a new definition)."""
    return {
        "id": event.id,
        "title": event.title,
        "date": event.date.isoformat(),
        "timezone": event.timezone,
        # null = relative to each countdown's length (model.Timers.for_duration)
        "timers": {"warning": event.timers.warning, "danger": event.timers.danger},
        "sites": [{"id": s.id, "name": s.name, "hub": s.hub} for s in event.sites],
        "agenda": [
            {
                "id": s.id,
                "kind": s.kind,
                "title": s.title,
                "start": s.start.strftime("%H:%M"),
                "planned_ms": event.planned_start_ms(i),
                "duration": s.duration,
                "speaker": s.speaker,
                "speakers": [
                    {"name": p.name, "role": p.role, "site": p.site, "remote": p.remote}
                    for p in s.speakers
                ],
                "rooms": dict(s.rooms),
                "sites": list(s.sites),
                "video": s.video,
            }
            for i, s in enumerate(event.agenda)
        ],
        "workshops": {
            w.id: {
                "title": event.workshop_title(w),
                "short": event.workshop_short_title(w),
                "theme": w.theme,
                "site": w.site,
                "room": w.room,
                "visio_url": w.visio_url,
            }
            for w in event.workshops
        },
        # Experience reports by id: what a queue's slot (`slot.report`) names.
        "reports": {
            r.id: {
                "title": r.title,
                "presenters": list(r.presenters),
                "site": r.site,
                "minutes": r.minutes,
                "workshop": owner.id if owner else None,
            }
            for r, owner in event.all_reports()
        },
    }


def revision(info: dict[str, Any]) -> str:
    """A short fingerprint of `event_info`: a page holding another one fetches the new."""
    return hashlib.sha256(dumps(info).encode()).hexdigest()[:16]


def definition(info: dict[str, Any], rev: str) -> str:
    """The event as pages see it, pushed when it changes while they are open."""
    return dumps({"type": "definition", "rev": rev, "event": info})
