"""The people desk (live/people/service.py) without a server: the run's outcome, the
confirmations and their mails, a link sent again, the double opt-in, opening a personal
link, revoking and erasing. A mailer that records instead of sending."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from live.backends.memory import MemoryBackend
from live.config import Settings
from live.links.signing import LinkBook, Signer
from live.people.desk import Refused
from live.people.mailer import Mailer
from live.people.service import Desk, Expired
from live.people.store import Duplicate
from live.web.routes import urls
from tests.people.test_desk_rules import ONE, TWO


class Outbox(Mailer):
    """Records each mail as (kind, address, details) and says it was sent."""

    def __init__(self, on: bool = True) -> None:
        super().__init__()
        self.on = on
        self.sent: list[tuple[str, str, Any]] = []

    @property
    def enabled(self) -> bool:
        return self.on

    async def confirmed(self, event: Any, reg: Any, workshop: str, room: str, link: str) -> bool:
        self.sent.append(("confirmed", reg.email, workshop))
        return True

    async def confirmed_rounds(self, event: Any, reg: Any, workshops: Any, link: str) -> bool:
        self.sent.append(("rounds", reg.email, workshops))
        return True

    async def registered(self, event: Any, reg: Any, link: str) -> bool:
        self.sent.append(("registered", reg.email, link))
        return True

    async def verify(self, event: Any, reg: Any, link: str, hours: int) -> bool:
        self.sent.append(("verify", reg.email, hours))
        return True

    async def already(self, event: Any, reg: Any, link: str) -> bool:
        self.sent.append(("already", reg.email, link))
        return True


def make(mail: bool = True) -> tuple[Desk, Outbox]:
    backend = MemoryBackend()
    outbox = Outbox(on=mail)
    settings = Settings(base_url="https://relais.test", confirm_hours=0)
    addresses = urls(settings.base_url)  # as the app's URL builder gives them

    def address(event_id: str, token: str) -> str:
        return addresses.link_url(event_id, "participant", token)

    links = LinkBook(Signer("secret"), backend)
    return Desk(backend, outbox, links, settings, address), outbox


def fields(name: str, *wishes: str) -> dict[str, Any]:
    return {"name": name, "email": f"{name.lower()}@example.fr", "category": "prof",
            "site": "foix", "wishes": list(wishes)}  # fmt: skip


def test_a_run_and_its_confirmations_mail_each_round_at_once() -> None:
    async def scenario() -> None:
        service, outbox = make()
        people = service.people(TWO)
        with pytest.raises(Refused) as caught:
            await service.publish(people)  # nothing to confirm before a run
        assert caught.value.key == "org.no_result"
        for name in ("Ana", "Bea"):
            await people.create(fields(name, "acces-matin", "enseigner-aprem"))
        assert await service.run(people, 3, False) == (2, 0)
        assert await service.publish(people) == (2, 2)
        kinds = {kind for kind, _, _ in outbox.sent}
        assert kinds == {"rounds"}  # one mail with both rounds, not one per round
        _, _, workshops = outbox.sent[0]
        assert [times for times, _, _ in workshops] == ["10:30–12:00", "14:00–15:30"]
        assert await service.publish(people) == (0, 0)  # nobody's confirmation changed

    asyncio.run(scenario())


def test_one_round_confirmations_without_smtp_send_nothing() -> None:
    async def scenario() -> None:
        service, outbox = make(mail=False)
        people = service.people(ONE)
        await people.create(fields("Ana", "atelier-acces"))
        await service.run(people, None, False)
        assert await service.publish(people) == (1, 0) and outbox.sent == []
        reg = (await people.all())[0]
        link, sent = await service.send_link(people, reg, send=False)
        assert link.startswith("https://relais.test/") and not sent
        with pytest.raises(Refused) as caught:
            await service.send_link(people, reg, send=True)
        assert caught.value.key == "org.no_mail"
        assert (await service.send_link(people, reg, send=False))[0] == link  # still works

    asyncio.run(scenario())


def test_the_double_opt_in_tells_nothing_and_mails_the_owner() -> None:
    async def scenario() -> None:
        service, outbox = make()
        people = service.people(ONE)
        assert await service.register(people, fields("Ana")) is None
        assert await service.register(people, fields("Ana")) is None  # same answer again
        assert [kind for kind, _, _ in outbox.sent] == ["verify", "verify"]
        assert await people.all() == []  # counts once its person opens the link
        (pending,) = await people.pending()
        reg, verified = await service.opened(people, pending.id) or (None, False)
        assert reg is not None and verified and not reg.awaiting_email
        await service.register(people, fields("Ana"))
        assert outbox.sent[-1][0] == "already"
        assert await service.opened(people, "nobody") is None

    asyncio.run(scenario())


def test_without_smtp_the_link_is_shown_and_a_known_address_refused() -> None:
    async def scenario() -> None:
        service, _ = make(mail=False)
        people = service.people(ONE)
        shown = await service.register(people, fields("Ana"))
        assert shown is not None and shown[1].startswith("https://relais.test/")
        with pytest.raises(Duplicate):
            await service.register(people, fields("Ana"))

    asyncio.run(scenario())


def test_an_address_never_confirmed_in_time_is_gone() -> None:
    async def scenario() -> None:
        service, _ = make()
        people = service.people(ONE)
        reg = await people.create(fields("Ana"), awaiting_email=True)
        reg.created = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
        await people.save(reg)
        with pytest.raises(Expired):
            await service.opened(people, reg.id)  # confirm_hours 0 reads as one hour
        assert await people.get(reg.id) is None

    asyncio.run(scenario())


def test_revoke_refuses_a_forged_link_and_erase_forgets_the_person() -> None:
    async def scenario() -> None:
        service, _ = make(mail=False)
        people = service.people(ONE)
        with pytest.raises(Refused) as caught:
            await service.revoke(ONE, "https://relais.test/e/x?k=forged")
        assert caught.value.key == "org.revoke_invalid"
        shown = await service.register(people, fields("Ana"))
        assert shown is not None
        reg, link = shown
        await service.revoke(ONE, link)
        assert reg.link_id in await service.links.revocations.of(ONE.id)
        await service.erase(people, reg)
        assert await people.get(reg.id) is None

    asyncio.run(scenario())
