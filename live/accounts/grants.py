"""Roles given by an administrator to a professional e-mail address: administrator of
the instance, or organizer of a territory (and everything below it) or of one event.

An account is nothing but its grants: there is no password and no profile. The address
is the one the identity provider vouches for at sign-in (ProConnect's `email`), so a role
can be granted before its holder ever signed in. Plain Python; `store.Accounts` keeps them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from email_validator import EmailNotValidError, validate_email

from live.errors import RelaisError
from live.model import SLUG, Event

Role = Literal["admin", "organizer"]
ROLES: tuple[Role, ...] = ("admin", "organizer")
MAX_EMAIL = 254  # RFC 5321's path limit
MAX_GRANTS = 50  # per address: more is a mistake, or an attack on the page that lists them

Within = Callable[[str, str], bool]  # is territory `a` within (or equal to) territory `b`?


class GrantError(RelaisError):
    """A grant that cannot be: a malformed address, an unknown role, territory or event,
    or an organizer grant naming neither or both. Nothing was changed."""


def normalize_email(raw: str) -> str:
    """The address as a key: syntax checked, domain lower-cased (no DNS lookup: the
    provider vouches for it at sign-in), local part lower-cased too, as every French
    administration's directory treats it."""
    raw = raw.strip()
    if not raw or len(raw) > MAX_EMAIL:
        raise GrantError("account.email", "not an e-mail address")
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        raise GrantError("account.email", "not an e-mail address") from None
    return checked.normalized.lower()


@dataclass(frozen=True)
class Grant:
    email: str
    role: Role
    territory: str | None = None  # organizer of this territory and those below it
    event: str | None = None  # organizer of this one event
    by: str = ""  # who granted it: an administrator's address, "link" or "cli"
    at: int = 0  # when (seconds)

    @property
    def key(self) -> str:
        """One grant per address and scope: granting it twice changes nothing."""
        if self.role == "admin":
            return "admin"
        return f"territory:{self.territory}" if self.territory else f"event:{self.event}"

    def as_record(self) -> dict[str, object]:
        return {
            "role": self.role,
            "territory": self.territory,
            "event": self.event,
            "by": self.by,
            "at": self.at,
        }

    @classmethod
    def from_record(cls, email: str, record: dict[str, object]) -> Grant | None:
        role = record.get("role")
        if role not in ROLES:
            return None
        territory, event = record.get("territory"), record.get("event")
        return cls(
            email=email,
            role=role,  # checked just above
            territory=territory if isinstance(territory, str) else None,
            event=event if isinstance(event, str) else None,
            by=str(record.get("by") or ""),
            at=int(record.get("at") or 0),  # type: ignore[call-overload]
        )


def make_grant(
    email: str,
    role: str,
    *,
    territory: str | None = None,
    event: str | None = None,
    known_territory: Callable[[str], bool],
    known_event: Callable[[str], bool],
    by: str,
    at: int,
) -> Grant:
    """A checked grant, or GrantError. An organizer is given one scope: a territory the
    reference knows, or an event the instance serves."""
    address = normalize_email(email)
    territory = (territory or "").strip() or None
    event = (event or "").strip() or None
    if role == "admin":
        if territory or event:
            raise GrantError("account.admin_scope", "an administrator has no scope")
        return Grant(address, "admin", by=by, at=at)
    if role != "organizer":
        raise GrantError("account.role", f"unknown role {role!r}")
    if bool(territory) == bool(event):
        raise GrantError("account.scope", "an organizer has a territory or an event")
    if territory and (not re.match(SLUG, territory) or not known_territory(territory)):
        raise GrantError("account.territory", "unknown territory", territory=territory)
    if event and (not re.match(SLUG, event) or not known_event(event)):
        raise GrantError("account.event", "unknown event", event=event)
    return Grant(address, "organizer", territory=territory, event=event, by=by, at=at)


@dataclass(frozen=True)
class Access:
    """What one signed-in address may do, from its grants."""

    email: str
    grants: tuple[Grant, ...]

    @property
    def is_admin(self) -> bool:
        return any(g.role == "admin" for g in self.grants)

    @property
    def any(self) -> bool:
        """Has this address any role (else its sign-in is refused)?"""
        return bool(self.grants)

    def may_run(self, event: Event, within: Within) -> bool:
        """An administrator runs every event; an organizer, the events of their territory
        and those below it, and the events they were given by name."""
        for grant in self.grants:
            if grant.role == "admin" or grant.event == event.id:
                return True
            if grant.territory and event.territory and within(event.territory, grant.territory):
                return True
        return False

    def events(self, events: Iterable[Event], within: Within) -> list[Event]:
        """The events this address runs, by date then id."""
        mine = [e for e in events if self.may_run(e, within)]
        return sorted(mine, key=lambda e: (e.date, e.id))
