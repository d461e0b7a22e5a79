"""Signed role links: who may do what, and where.

A link carries its claims (event, role, and the site, workshop or person it is for),
an expiry and a short id, signed with the server's secret. Nothing is stored to check
one; revoking a link records its id.

An event's link is valid by default through the event's day and a margin after it, and at
least some days from issue (`Validity`): it is the event's date, not the day the link was
made, that says how long a link must work. The default lives here, in the `Signer`, so
every place that signs (the links sheet, the desk, `relais links`) gives the same one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Literal, Protocol

from itsdangerous import BadSignature, URLSafeSerializer

from live.backends.base import RESUBSCRIBED, Backend
from live.errors import RelaisError

log = logging.getLogger("relais.links")

Role = Literal[
    "organizer",
    "facilitator",
    "screen",
    "rapporteur",
    "participant",
    "public",
    "speaker",
    "host",
    "admin",  # the instance's administrator: no event (see Signer.sign_admin)
]
# The roles of an event's links; `admin` is not one: an admin link is signed under
# another salt and checked by `verify_admin` only, so it never opens an event's page.
ROLES: tuple[Role, ...] = (
    "organizer",
    "facilitator",
    "screen",
    "rapporteur",
    "participant",
    "public",
    "speaker",  # publishes the plenary (live/plenary)
    "host",  # a site's host: its room camera, the mosaic, asking for the floor
)
COMMANDERS: frozenset[str] = frozenset({"organizer", "facilitator"})


class LinkError(RelaisError):
    """A missing, forged, expired, revoked or misdirected link."""


@dataclass(frozen=True)
class Claims:
    event: str
    role: Role
    site: str | None = None
    workshop: str | None = None
    person: str | None = None
    expires: int = 0
    id: str = ""
    issued: int = 0  # ms; admin links only (links issued before a revocation are refused)


PUBLIC = Claims(event="", role="public")


ADMIN_DAYS = 365  # an admin link's validity; the admin page renews it before it ends
DAY = 86400
LINK_DAYS = 60  # RELAIS_LINK_DAYS: an event's link is valid at least this long from issue...
MARGIN_DAYS = 7  # RELAIS_LINK_MARGIN_DAYS: ...and through the event's day and this margin
MAX_DAYS = 366  # the longest validity an organizer may choose for a link


class Dated(Protocol):
    """What the validity of an event's links depends on: its day, in its timezone (an
    `Event` is one; signing.py needs nothing else of it)."""

    @property
    def date(self) -> date: ...

    @property
    def tz(self) -> tzinfo: ...


def day_end(day: date, tz: tzinfo) -> int:
    """The last second of `day` where the event takes place (the next local midnight,
    less one second; a DST change that day is accounted for)."""
    midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return int(midnight.timestamp()) - 1


def local_day(seconds: float, tz: tzinfo) -> date:
    """The day it is at `seconds` where the event takes place."""
    return datetime.fromtimestamp(seconds, tz).date()


@dataclass(frozen=True)
class Validity:
    """How long an event's link is valid when nobody chose: through the event's day and
    a margin after it (the synthesis, late questions), and never less than `days` from
    issue, so that a link made after the event, or for one days away, still works a while.
    A sheet printed months ahead is thereby valid on the day. Expiries fall at the end of
    a local day: a printed "valable jusqu'au 23/06/2027" means the whole of that day."""

    days: float = LINK_DAYS
    margin_days: float = MARGIN_DAYS

    def until(self, event: Dated | None, now: float) -> int:
        """The default expiry (epoch seconds) of a link of `event` issued at `now`; without
        an event (unknown to this signer), `days` from now."""
        floor = now + DAY * self.days
        if event is None:
            return int(floor)
        after_event = day_end(event.date, event.tz) + DAY * self.margin_days
        return day_end(local_day(max(floor, after_event), event.tz), event.tz)


def chosen_until(event: Dated, chosen: date, now: float) -> int:
    """The expiry of a link the organizer made valid through `chosen` (a day where the
    event is), or LinkError `link_validity` if that day is past or more than `MAX_DAYS`
    away: nothing is signed then."""
    today = local_day(now, event.tz)
    if not today <= chosen <= today + timedelta(days=MAX_DAYS):
        raise LinkError(
            "link_validity",
            "a link's validity must end between today and a year from now",
            first=today.isoformat(),
            last=(today + timedelta(days=MAX_DAYS)).isoformat(),
        )
    return day_end(chosen, event.tz)


def ends_before_event(claims: Claims, event: Dated) -> bool:
    """Would this link stop working before the event's day is over (a sheet warns)?"""
    return claims.expires < day_end(event.date, event.tz)


class Signer:
    """Signs and reads links. `events` tells which event an id names (the server's events,
    or the one `relais links` prints), so that an event's links default to its
    `Validity`; an id it does not know gets `days` from issue."""

    def __init__(
        self,
        secret: str,
        days: float = LINK_DAYS,
        *,
        margin_days: float = MARGIN_DAYS,
        events: Callable[[str], Dated | None] | None = None,
    ) -> None:
        self._s = URLSafeSerializer(secret, salt="relais.link")
        # Another salt: an admin token is no event link's signature, and no event token
        # is an admin link's, whatever the payload says.
        self._admin = URLSafeSerializer(secret, salt="relais.admin")
        self.validity = Validity(days, margin_days)
        self.events = events

    def until(self, event: str | Dated | None, now: float | None = None) -> int:
        """The default expiry of a link of `event` (its id, or the event) issued `now`."""
        now = time.time() if now is None else now
        if isinstance(event, str):
            event = self.events(event) if self.events is not None and event else None
        return self.validity.until(event, now)

    def sign(
        self,
        event: str,
        role: Role,
        *,
        site: str | None = None,
        workshop: str | None = None,
        person: str | None = None,
        days: float | None = None,
        until: float | None = None,
        now: float | None = None,
    ) -> str:
        """A link of `event` for `role`: valid until `until` (epoch seconds), else for
        `days` from now, else by default (`until`: through the event's day and its margin)."""
        now = time.time() if now is None else now
        if until is not None:
            expires = int(until)
        elif days is not None:
            expires = int(now + DAY * days)
        else:
            expires = self.until(event, now)
        payload = {"e": event, "r": role, "x": expires, "i": secrets.token_urlsafe(6)}
        for key, value in (("s", site), ("w", workshop), ("p", person)):
            if value is not None:
                payload[key] = value
        return str(self._s.dumps(payload))

    def verify(
        self,
        token: str | None,
        event: str,
        *,
        now: float | None = None,
        revoked: frozenset[str] = frozenset(),
    ) -> Claims:
        if not token:
            raise LinkError("link_missing", "this page needs a personal link")
        try:
            p = self._s.loads(token)
        except BadSignature:
            raise LinkError("link_invalid", "this link is not valid (altered or forged)") from None
        if not isinstance(p, dict) or p.get("r") not in ROLES:
            raise LinkError("link_invalid", "this link is not valid")
        if p.get("e") != event:
            raise LinkError("link_wrong_event", "this link belongs to another event")
        claims = Claims(
            event=p["e"],
            role=p["r"],
            site=p.get("s"),
            workshop=p.get("w"),
            person=p.get("p"),
            expires=int(p.get("x", 0)),
            id=str(p.get("i", "")),
        )
        still_valid(claims, revoked, now)
        return claims

    def sign_admin(self, *, days: float | None = None, now: float | None = None) -> str:
        """An administrator link of this instance: it creates, archives and deletes
        events and edits any of them; it belongs to no event."""
        now = time.time() if now is None else now
        expires = int(now + 86400 * (ADMIN_DAYS if days is None else days))
        payload = {"r": "admin", "x": expires, "i": secrets.token_urlsafe(6), "t": int(now * 1000)}
        return str(self._admin.dumps(payload))

    def verify_admin(self, token: str | None, *, now: float | None = None) -> Claims:
        """The claims of a valid admin link (event "", role "admin"), or LinkError. An
        event's link, whatever its role, is refused here (`link_invalid`)."""
        if not token:
            raise LinkError("link_missing", "this page needs a personal link")
        try:
            p = self._admin.loads(token)
        except BadSignature:
            raise LinkError("link_invalid", "this link is not valid (altered or forged)") from None
        if not isinstance(p, dict) or p.get("r") != "admin" or "e" in p:
            raise LinkError("link_invalid", "this link is not valid")
        issued = p.get("t", 0)  # links made before admin revocations existed: 0
        claims = Claims(
            event="",
            role="admin",
            expires=int(p.get("x", 0)),
            id=str(p.get("i", "")),
            issued=issued if isinstance(issued, int) else 0,
        )
        still_valid(claims, (), now)
        return claims


def still_valid(claims: Claims, revoked: Container[str], now: float | None = None) -> None:
    """LinkError (`link_expired`, `link_revoked`) unless the link is valid at `now`: the
    check at first use (`Signer.verify`) and at every use after (`LinkBook.check`)."""
    if claims.expires < (time.time() if now is None else now):
        raise LinkError("link_expired", "this link has expired; ask the organizer for a new one")
    if claims.id in revoked:
        raise LinkError("link_revoked", "this link has been revoked")


class Revocations:
    """Revoked links, as records `revoked/{event}:{link id}`: the only code that reads or
    writes them (the organizer's desk revokes; erasing a person revokes their link)."""

    KIND = "revoked"

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def of(self, event: str) -> frozenset[str]:
        records = await self.backend.list_records(self.KIND, f"{event}:")
        return frozenset(key.split(":", 1)[1] for key in records)

    async def revoke(self, event: str, link_id: str) -> None:
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        await self.backend.put_record(self.KIND, f"{event}:{link_id}", {"at": at})


class AdminLinks:
    """Admin links are not listed anywhere (each is a signature), so they are revoked by
    date: every admin link issued before the record `admin-links/since` is refused. An
    administrator who fears a link has leaked takes a new one and revokes all the others
    (the admin page, or `relais admin-link --revoke-others` when no link is at hand)."""

    KIND, KEY = "admin-links", "since"

    def __init__(self, signer: Signer, backend: Backend) -> None:
        self.signer = signer
        self.backend = backend

    async def verify(self, token: str | None) -> Claims:
        """The claims of a valid admin link, or LinkError (forged, expired, revoked)."""
        claims = self.signer.verify_admin(token)
        record = await self.backend.get_record(self.KIND, self.KEY)
        if record is not None and claims.issued < int(record.get("t", 0)):
            raise LinkError("link_revoked", "this link has been revoked")
        return claims

    async def renew(self, *, revoke_others: bool, days: float | None = None) -> str:
        """A new admin link; with `revoke_others`, every admin link issued before it stops
        working, on every process sharing the store."""
        token = self.signer.sign_admin(days=days)
        if revoke_others:
            await self.revoke_before(self.backend, self.signer.verify_admin(token).issued)
        return token

    @classmethod
    async def revoke_before(cls, backend: Backend, issued: int) -> None:
        """Refuse from now on every admin link issued before `issued` (ms)."""
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        await backend.put_record(cls.KIND, cls.KEY, {"t": issued, "at": at})


class LinkBook:
    """Links as the server checks them, everywhere (pages, both websockets, the desk): the
    signature and expiry (`Signer`), then the event's revocations.

    A link is checked on every use, not once per connection. `verify` reads the event's
    revocations from the backend (pages, a socket's first frame, every agenda command);
    `check` is the synchronous re-check for hot paths (each notes update), against what
    the last `verify` read plus every revocation made since through this book. And a
    revocation reaches the sockets already open with that link at once: `watch` registers
    a connection's callback, which `revoke` calls with the refusal code, so the socket
    closes itself instead of waiting for its next frame.
    """

    CHANNEL = "revoked"  # announcements `{event}:{link id}` between processes

    def __init__(self, signer: Signer, backend: Backend) -> None:
        self.signer = signer
        self.backend = backend
        self.revocations = Revocations(backend)
        self._announcing: set[asyncio.Task[None]] = set()
        self._revoked: dict[str, set[str]] = {}  # event -> link ids known revoked
        self._watchers: dict[tuple[str, str], set[Callable[[str], None]]] = {}

    async def verify(self, token: str | None, event: str) -> Claims:
        """The claims of a valid link of `event`, or LinkError saying why not."""
        revoked = await self.revocations.of(event)
        self._revoked.setdefault(event, set()).update(revoked)
        return self.signer.verify(token, event, revoked=revoked)

    def check(self, claims: Claims, now: float | None = None) -> None:
        """Still valid now? LinkError (`link_expired`, `link_revoked`) if not. Public
        claims (no link) never expire."""
        if claims.id:
            still_valid(claims, self._revoked.get(claims.event, set()), now)

    def watch(self, claims: Claims, on_revoked: Callable[[str], None]) -> Callable[[], None]:
        """Call `on_revoked(code)` when this link is revoked; returns the unwatch function.
        The callback runs in the revoking task: it must only signal (close an outbox,
        set an event), never await."""
        if not claims.id:
            return lambda: None
        key = (claims.event, claims.id)
        self._watchers.setdefault(key, set()).add(on_revoked)

        def unwatch() -> None:
            callbacks = self._watchers.get(key)
            if callbacks is not None:
                callbacks.discard(on_revoked)
                if not callbacks:
                    del self._watchers[key]

        return unwatch

    async def revoke(self, event: str, link_id: str) -> None:
        """Record the revocation, then close every connection open with that link."""
        await self.revocations.revoke(event, link_id)
        self.revoked(event, link_id)

    def revoked(self, event: str, link_id: str) -> None:
        """A revocation was recorded (here or by the people store): apply it to open
        connections and to `check`, here and in every process sharing the store."""
        self._apply(event, link_id)
        if self.backend.shared:
            task = asyncio.get_running_loop().create_task(self._announce(event, link_id))
            self._announcing.add(task)
            task.add_done_callback(self._announcing.discard)

    async def settle(self) -> None:
        """Wait for the announcements under way: a command (`relais admin-link`) exits
        only once the other processes were told."""
        if self._announcing:
            await asyncio.gather(*self._announcing, return_exceptions=True)

    async def _announce(self, event: str, link_id: str) -> None:
        try:
            await self.backend.announce(self.CHANNEL, f"{event}:{link_id}".encode())
        except Exception as exc:  # the others still find it in the store at next use
            log.warning("a revocation was not announced to the other processes (%s)", exc)

    async def follow_others(self) -> None:
        """Apply the revocations other processes record (a task of the app on a shared
        store): their open connections with that link close here too. After a
        reconnection, the revocations of every watched event are reread."""
        async for message in self.backend.announcements(self.CHANNEL):
            if message == RESUBSCRIBED:
                for event in {e for e, _ in self._watchers}:
                    try:
                        for link_id in await self.revocations.of(event):
                            self._apply(event, link_id)
                    except Exception as exc:
                        log.warning("revocations of %s cannot be reread (%s)", event, exc)
                continue
            event, _, link_id = message.decode(errors="replace").partition(":")
            if event and link_id:
                self._apply(event, link_id)

    def _apply(self, event: str, link_id: str) -> None:
        self._revoked.setdefault(event, set()).add(link_id)
        for callback in list(self._watchers.get((event, link_id), ())):
            try:
                callback("link_revoked")
            except Exception:  # one connection's failure must not spare the others
                log.exception("closing a revoked link's connection failed")

    @property
    def watched(self) -> int:
        """How many connections are watched (tests check none are left behind)."""
        return sum(len(c) for c in self._watchers.values())
