"""Which links an event has, and the ones kept for it.

`relais links` signs new links each time it runs; a sheet that did so would show other
links on every load. So a link is issued once per role and place (a "slot": the console,
a site's screen, a workshop's rapporteur...) and kept in the record `links/{event}:{slot}`
with the links it replaced; the sheet shows the same link until the organizer asks for a
new one. A new link does not end the old one (people already holding it keep working):
revoking does (`LinkBook.revoke`, which closes the pages open with it).

The studio opened with an administrator's link hands out an organizer link too: it is
kept like the others, in its own slot (`ADMIN_SLOT`), and revoked with the admin links
(`KeptLinks.revoke_admin_handouts`): no page mints a link the organizer cannot see.

`KeptLinks` is the only code that reads or writes the `links` records. Plain Python over
a backend: the links sheet (web/links_sheet.py), the screens and the studio call it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Container, Iterable
from dataclasses import dataclass
from typing import Any

from live.backends.base import Backend
from live.errors import RelaisError
from live.links.signing import Claims, LinkError, Revocations, Role, Signer
from live.model import Event

KIND = "links"  # records `links/{event}:{slot key}`
EARLIER_KEPT = 50  # links replaced by a new one, kept on the sheet to be revoked

Revoke = Callable[[str, str], Awaitable[None]]  # (event, link id): `LinkBook.revoke`


# -- who gets which link --------------------------------------------------------------------


@dataclass(frozen=True)
class LinkSlot:
    """One role at one place: what a link is issued for, and kept for."""

    key: str  # "facilitator", "screen:niort", "rapporteur:acces-poitiers", "speaker:Nom"
    role: Role
    site: str | None = None
    workshop: str | None = None
    speaker: str | None = None

    def sign(self, signer: Signer, event: Event, until: int | float | None = None) -> str:
        """A link for this slot, valid until `until`, else by default for this event."""
        expires = signer.until(event) if until is None else int(until)
        return signer.sign(
            event.id, self.role, site=self.site, workshop=self.workshop, until=expires
        )

    @property
    def anchor(self) -> str:
        """An HTML id for this slot (keys hold names, which ids cannot)."""
        return "l-" + hashlib.sha256(self.key.encode()).hexdigest()[:10]


def speaker_names(event: Event) -> list[str]:
    """Who speaks on a plenary video step, once each: each gets a link of their own,
    revocable on its own."""
    return list(dict.fromkeys(p.name for s in event.agenda if s.video for p in s.speakers))


def participants(site_id: str) -> LinkSlot:
    """The participants' link of a site (what its screen's QR code gives)."""
    return LinkSlot(f"participant:{site_id}", "participant", site=site_id)


def slots(event: Event) -> list[LinkSlot]:
    """Every link of the event, the one list (the sheet and `relais links`): console and
    desk; per site its screen, host and participants; per workshop its rapporteur; per
    plenary speaker their link (one for whoever speaks when the programme names nobody)."""
    out = [LinkSlot("facilitator", "facilitator"), LinkSlot("organizer", "organizer")]
    for s in event.sites:
        out += [
            LinkSlot(f"screen:{s.id}", "screen", site=s.id),
            LinkSlot(f"host:{s.id}", "host", site=s.id),
            participants(s.id),
        ]
    for w in event.workshops:
        out.append(LinkSlot(f"rapporteur:{w.id}", "rapporteur", site=w.site, workshop=w.id))
    names = speaker_names(event)
    out += [LinkSlot(f"speaker:{n}", "speaker", speaker=n) for n in names] or [
        LinkSlot("speaker", "speaker")
    ]
    return out


# The organizer link the studio gives whoever opens it with an admin link. Not in `slots`:
# the sheet shows it once an admin was given it, not before.
ADMIN_SLOT = LinkSlot("organizer:admin", "organizer")
ACCOUNT_PREFIX = "organizer:account-"


def account_slot(email: str) -> LinkSlot:
    """The organizer link handed to a signed-in account (its address's hash in the key:
    the sheet lists it, revocable, and withdrawing the account revokes it everywhere)."""
    return LinkSlot(ACCOUNT_PREFIX + hashlib.sha256(email.encode()).hexdigest()[:12], "organizer")


def handout_slots(kept: Iterable[str]) -> list[LinkSlot]:
    """The handed-out organizer slots among an event's kept records: the admins' and the
    signed-in accounts'."""
    keys = [k for k in kept if k == ADMIN_SLOT.key or k.startswith(ACCOUNT_PREFIX)]
    return [LinkSlot(k, "organizer") for k in sorted(keys)]


def slot_named(event: Event, key: str) -> LinkSlot | None:
    """The slot with this key, the handed-out ones included."""
    if key == ADMIN_SLOT.key or key.startswith(ACCOUNT_PREFIX):
        return LinkSlot(key, "organizer")
    return next((s for s in slots(event) if s.key == key), None)


def speaker_site(event: Event, name: str) -> str | None:
    """The site a speaker speaks from, if the programme says so (not remote)."""
    for step in event.agenda:
        for p in step.speakers:
            if p.name == name and p.site and not p.remote:
                return p.site
    return None


def at_site(event: Event, slot: LinkSlot, site_id: str) -> bool:
    """Is this link for people at this site (its printed sheet)?"""
    if slot.role == "speaker":
        return slot.speaker is not None and speaker_site(event, slot.speaker) == site_id
    return slot.site == site_id


class NotKept(RelaisError):
    """A slot the event has not, a link its slot never held, or the organizer's own link
    to revoke: nothing changed. `code` is the message key (`links.*`, in errors.py)."""


def slot_of(event: Event, key: str) -> LinkSlot:
    """The slot with this key, or NotKept `links.unknown_slot`."""
    found = slot_named(event, key)
    if found is None:
        raise NotKept("links.unknown_slot")
    return found


# -- issued links, kept --------------------------------------------------------------------


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def claims_of(signer: Signer, token: str, event_id: str) -> Claims | None:
    """What a kept token says, valid or not (revoked and expired ones are shown as such);
    None if this server's secret did not sign it."""
    try:
        return signer.verify(token, event_id, now=0.0)  # at time 0 nothing has expired
    except LinkError:
        return None


def fresh(signer: Signer, event: Event, slot: LinkSlot, until: int | None = None) -> dict[str, Any]:
    """A new kept record for a slot: its link, when it was issued, nothing earlier."""
    return {"token": slot.sign(signer, event, until), "issued": _now(), "earlier": []}


def to_issue(
    signer: Signer, event: Event, kept: dict[str, dict[str, Any]]
) -> list[tuple[LinkSlot, dict[str, Any]]]:
    """The slots with no readable kept link, each with a fresh record (sixty signatures
    and checks on a large day: run in a thread)."""
    out = []
    for slot in slots(event):
        token = (kept.get(slot.key) or {}).get("token")
        if isinstance(token, str) and claims_of(signer, token, event.id) is not None:
            continue
        out.append((slot, fresh(signer, event, slot)))
    return out


def tokens_of(record: dict[str, Any]) -> list[str]:
    """The current token of a kept record, then the earlier ones."""
    earlier = [e.get("token") for e in record.get("earlier") or [] if isinstance(e, dict)]
    return [t for t in [record.get("token"), *earlier] if isinstance(t, str)]


class KeptLinks:
    """The kept links of every event, in the `links` records of `backend`, signed by
    `signer`: the only code that reads or writes them."""

    def __init__(self, backend: Backend, signer: Signer) -> None:
        self.backend = backend
        self.signer = signer

    async def issued(self, event: Event) -> dict[str, dict[str, Any]]:
        """The kept record of every slot, by slot key, issuing the missing ones. A kept link
        this server cannot read (its secret was replaced) is replaced too."""
        prefix = f"{event.id}:"
        kept = {
            key.removeprefix(prefix): value
            for key, value in (await self.backend.list_records(KIND, prefix)).items()
        }
        for slot, record in await asyncio.to_thread(to_issue, self.signer, event, kept):
            if slot.key not in kept:
                # Two organizers opening the sheet at once keep one link, not two.
                if not await self.backend.create_record(KIND, prefix + slot.key, record):
                    kept[slot.key] = await self.record(event, slot) or record
                    continue
            else:
                await self.backend.put_record(KIND, prefix + slot.key, record)
            kept[slot.key] = record
        return kept

    async def record(self, event: Event, slot: LinkSlot) -> dict[str, Any] | None:
        """One slot's kept record as stored (None before its first link)."""
        return await self.backend.get_record(KIND, f"{event.id}:{slot.key}")

    async def kept(self, event: Event, slot: LinkSlot, revoked: Container[str]) -> str:
        """The link kept for one slot, issued on first use (or when the kept one was
        revoked): what a site screen's QR code gives is the participants' link of the
        sheet, reissued and revoked there."""
        key = f"{event.id}:{slot.key}"
        record = await self.backend.get_record(KIND, key)
        token = (record or {}).get("token")
        claims = claims_of(self.signer, token, event.id) if isinstance(token, str) else None
        if isinstance(token, str) and claims is not None and claims.id not in revoked:
            return token
        if record is None:
            first = fresh(self.signer, event, slot)
            if await self.backend.create_record(KIND, key, first):
                return str(first["token"])
        else:  # revoked (or unreadable): a new one, the old kept on the sheet
            await self.reissue(event, slot)
        return await self.kept(event, slot, revoked)  # what was stored, maybe meanwhile

    async def reissue(self, event: Event, slot: LinkSlot, until: int | None = None) -> None:
        """A new link for this slot (valid until `until`, else by default); the one it
        replaces goes to `earlier`, still valid."""
        key = f"{event.id}:{slot.key}"
        record = await self.backend.get_record(KIND, key) or {}
        earlier = list(record.get("earlier") or [])
        if isinstance(record.get("token"), str):
            earlier.insert(0, {"token": record["token"], "issued": record.get("issued", "")})
        new = fresh(self.signer, event, slot, until)
        await self.backend.put_record(KIND, key, new | {"earlier": earlier[:EARLIER_KEPT]})

    async def revoke(
        self, event: Event, slot: LinkSlot, link_id: str, viewer: str, revoke: Revoke
    ) -> None:
        """Revoke one of a slot's links, current or earlier, with `revoke` (`LinkBook.revoke`,
        which closes its open pages). NotKept for a link the slot never held, or for
        `viewer`, the link the organizer is using."""
        record = await self.record(event, slot) or {}
        known = (claims_of(self.signer, t, event.id) for t in tokens_of(record))
        if not link_id or link_id not in [c.id for c in known if c is not None]:
            raise NotKept("links.unknown_link")
        if link_id == viewer:
            raise NotKept("links.revoke_own")
        await revoke(event.id, link_id)

    async def revoke_admin_handouts(self, revoke: Revoke) -> None:
        """Revoke, in every event, the organizer links the studio gave administrators (the
        `ADMIN_SLOT` records): admin links were revoked, what they handed out goes with
        them. `revoke(event, link id)` records one (`LinkBook.revoke`)."""
        await self.revoke_handouts(ADMIN_SLOT.key, revoke)

    async def revoke_handouts(
        self, slot_key: str, revoke: Revoke, keep: Callable[[str], bool] = lambda e: False
    ) -> None:
        """Revoke every link, current and earlier, kept in this slot, in every event but
        those `keep(event id)` spares: an account withdrawn loses its links everywhere, an
        account that lost one territory loses those of its events."""
        for key, record in (await self.backend.list_records(KIND, "")).items():
            event_id, _, slot = key.partition(":")
            if slot != slot_key or keep(event_id):
                continue
            revoked = await Revocations(self.backend).of(event_id)
            for token in tokens_of(record):
                claims = claims_of(self.signer, token, event_id)
                if claims is not None and claims.id not in revoked:
                    await revoke(event_id, claims.id)


# The names the screen (web/pages.py) and the studio (web/studio.py) call.
