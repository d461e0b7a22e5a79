"""The people side of the app, built once: registrations, the desk's actions that reach
beyond the store (links, mail), the registration budgets. The pages (web/organize.py,
web/registration.py) parse, authorize, call a `Desk` method and reply; the rules are in
`desk`, `registration`, `rounds` and `tallies`, the records in `store`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from live.backends.base import Backend
from live.config import Settings
from live.errors import RelaisError
from live.links.signing import LinkBook, LinkError
from live.model import Event
from live.people import desk, rounds, tallies
from live.people.assignment import Summary
from live.people.desk import Refused
from live.people.limits import RegistrationLimits
from live.people.mailer import Mailer
from live.people.registration import Registration, WorkshopSettings
from live.people.store import Duplicate, People, Run


class Expired(RelaisError):
    """A registration whose address was not confirmed in time: it is gone."""

    def __init__(self) -> None:
        super().__init__("reg.unconfirmed_expired", "the address was not confirmed in time")


@dataclass
class Records:
    """What the desk's page shows, read once: registrations that count, the organizer's
    settings, the last run, how many wait for their address, attendance by site."""

    regs: list[Registration]
    settings: WorkshopSettings
    run: Run | None
    pending: int
    attendance: dict[str, int]


class Desk:
    """Built once per app with the backend, the mailer, the link book, the settings and
    the address a participant's link opens (`desk.Address`, from the app's URL builder)."""

    def __init__(
        self,
        backend: Backend,
        mailer: Mailer,
        links: LinkBook,
        settings: Settings,
        address: desk.Address,
    ) -> None:
        self.backend, self.mailer, self.links, self.settings = backend, mailer, links, settings
        self.address = address
        self.limits = RegistrationLimits(settings)

    def people(self, event: Event) -> People:
        """The registrations and records of one event."""
        return People(self.backend, event)

    @property
    def confirm_hours(self) -> int:
        """How long an unconfirmed registration waits for its person (an hour at least)."""
        return max(1, int(self.settings.confirm_hours))

    # -- links ----------------------------------------------------------------------

    async def personal_link(self, people: People, reg: Registration) -> str:
        """A fresh personal link (see desk.personal_link)."""
        return await desk.personal_link(self.links, self.address, people, reg)

    async def working_link(self, people: People, reg: Registration) -> str:
        """The person's link that still works, or a new one (see desk.working_link)."""
        return await desk.working_link(self.links, self.address, people, reg)

    async def revoke(self, event: Event, raw: str) -> None:
        """Revoke any link of this event, pasted whole or as its token; a forged or foreign
        one is refused, since its id means nothing. Its open sockets close too."""
        try:
            claims = self.links.signer.verify(desk.token_of(raw), event.id)
        except LinkError as exc:
            raise Refused("org.revoke_invalid", reason_key=exc.code) from None
        await self.links.revoke(event.id, claims.id)

    # -- the organizer's desk --------------------------------------------------------

    async def records(self, people: People) -> Records:
        return Records(
            await people.all(),
            await people.settings(),
            await people.result(),
            len(await people.pending()),
            await people.attendance(),
        )

    async def listing(self, people: People) -> tuple[list[Registration], Run | None]:
        """The registrations that count and the last run (None before any): the lists."""
        return await people.all(), await people.result()

    async def report(
        self, people: People, key: str | None = None
    ) -> tuple[Summary | None, Run | None]:
        """The report of the last run (None before any), for the people registered now;
        with several rounds, round `key`'s (the first's by default)."""
        regs, run, settings = await people.all(), await people.result(), await people.settings()
        if run is None:
            return None, None
        # Tallies over thousands of people: in a thread, the loop serves meanwhile.
        return await asyncio.to_thread(run.report, people.event, regs, settings, key), run

    async def run(self, people: People, seed: int | None, free: bool) -> tuple[int, int]:
        """Solve again (late mode once people are confirmed: they stay where they are):
        people placed in every round of theirs, and people left without a workshop in
        some. Inconsistent pins or confirmations are refused, naming which."""
        try:
            await people.run(seed, free)
        except ValueError as exc:
            raise Refused("org.run_failed", detail=str(exc)) from None
        run = await people.result()
        assert run is not None
        return tallies.run_outcome(people.event, run, await people.all())

    async def publish(self, people: People) -> tuple[int, int]:
        """Confirm every placement; newly confirmed people get their link by e-mail when
        SMTP is configured (the confirmations CSV lists the links otherwise): one mail
        with every round's workshop, time and room when there are several. People whose
        confirmation changed, and mails sent."""
        if await people.result() is None:
            raise Refused("org.no_result")
        changed = await people.publish()
        event = people.event
        sent = 0
        for reg in changed if self.mailer.enabled else []:
            if rounds.several(event):
                mine: list[tuple[str, str | None, str]] = []
                for rnd, w in rounds.confirmed_workshops(event, reg):
                    if w is not None:
                        times = rounds.workshop_times(event, reg.site, w)
                        mine.append((times, event.workshop_title(w), w.room))
                    elif rnd.step is not None:  # said plainly: no workshop in this round
                        mine.append((f"{rnd.step.start:%H:%M}", None, ""))
                link = await self.working_link(people, reg)
                sent += bool(await self.mailer.confirmed_rounds(event, reg, mine, link))
                continue
            w = event.workshop(reg.confirmed or "")
            if w is None:
                continue
            link = await self.working_link(people, reg)
            title = event.workshop_title(w)
            sent += bool(await self.mailer.confirmed(event, reg, title, w.room, link))
        return len(changed), sent

    async def send_link(self, people: People, reg: Registration, send: bool) -> tuple[str, bool]:
        """A person's own link for the organizer to read out, and, when `send`, mailed to
        them again (refused without SMTP, or when the mail fails). The link they have
        stays valid; a new one is made only if it no longer works."""
        link = await self.working_link(people, reg)
        if not send:
            return link, False
        if not self.mailer.enabled:
            raise Refused("org.no_mail")
        if not await self.mailer.registered(people.event, reg, link):
            raise Refused("org.mail_failed")
        return link, True

    async def personal_data(self, people: People, reg: Registration) -> dict[str, Any]:
        """Everything stored on a person (right of access)."""
        return await desk.personal_data(self.links, people, reg)

    async def erase(self, people: People, reg: Registration) -> None:
        """Forget a person (right to erasure): registration, placement, link; the link's
        open pages close now."""
        await people.erase(reg)
        if reg.link_id:
            self.links.revoked(people.event.id, reg.link_id)

    # -- registering -----------------------------------------------------------------

    async def register(
        self, people: People, fields: dict[str, Any]
    ) -> tuple[Registration, str] | None:
        """A valid form's registration. With SMTP, a double opt-in (`opt_in`) and None: the
        link goes by mail only. Without, the registration and its link to show; Duplicate
        for a known address."""
        if self.mailer.enabled:
            await self.opt_in(people, fields)
            return None
        reg = await people.create(fields)
        return reg, await self.personal_link(people, reg)

    async def opt_in(self, people: People, fields: dict[str, Any]) -> None:
        """Double opt-in: a new address gets the link that confirms it; a known one gets its
        person's link again, by mail only. The person who typed it learns nothing either way."""
        hours = self.confirm_hours
        try:
            reg = await people.create(fields, awaiting_email=True, valid_for=timedelta(hours=hours))
        except Duplicate as exc:
            if exc.existing is None:  # a simultaneous request is registering it and mailing
                return
            reg = exc.existing
            link = await self.working_link(people, reg)
            if reg.awaiting_email:
                await self.mailer.verify(people.event, reg, link, hours)
            else:
                await self.mailer.already(people.event, reg, link)
            return
        link = await self.personal_link(people, reg)
        await self.mailer.verify(people.event, reg, link, hours)

    async def opened(self, people: People, pid: str) -> tuple[Registration, bool] | None:
        """The registration a personal link is for (None: erased, the link no longer works),
        and whether opening it just confirmed the address (the link mailed for a double
        opt-in). One that waited too long is dropped: `Expired`."""
        reg = await people.get(pid)
        if reg is None:
            return None
        if not reg.awaiting_email:
            return reg, False
        verified = await people.verify_email(reg, timedelta(hours=self.confirm_hours))
        if verified is None:
            raise Expired()
        return verified, True

    async def update(
        self, people: People, reg: Registration, fields: dict[str, Any]
    ) -> Registration:
        """The person's own changes, checked (`registration.check`, `keep_site`) already;
        Duplicate for an address someone else registered."""
        return await people.update(reg, fields)
