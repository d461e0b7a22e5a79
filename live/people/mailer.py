"""E-mail to participants, when an SMTP server is configured; otherwise nothing is sent
and the organizer hands out the links from the confirmations CSV.

Each mail goes to exactly one address, checked again here by the same parser as the form
(`people.address`), and given to SMTP as the only envelope recipient: nothing in a stored
address can add a recipient. And no address gets more than `per_hour` mails an hour,
whoever asks: a stranger typing someone's address in the form again and again cannot
flood their mailbox.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage

from babel.dates import format_date

from live.i18n import translator
from live.model import Event
from live.people.address import BadAddress, smtp_address
from live.people.registration import Registration
from live.ratelimit import Limiter

log = logging.getLogger("relais.mail")


def language_of(reg: Registration) -> str:
    """The language a person registered in (French for a list imported from a file):
    every mail to them is written in it, whoever triggers it."""
    return str(reg.extra.get("lang", "fr"))


class Mailer:
    def __init__(self, host: str = "", port: int = 25, sender: str = "", user: str = "",
                 password: str = "", starttls: bool = False,
                 per_hour: int = 5) -> None:  # fmt: skip
        self.host, self.port, self.sender = host, port, sender or "relais@localhost"
        self.user, self.password, self.starttls = user, password, starttls
        self.quota = Limiter(per_hour, 3600)  # mails per recipient address

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def _send(self, to: str, subject: str, body: str) -> None:
        """One message to one recipient: `to` must be one valid address (BadAddress
        otherwise), and it is the only envelope recipient whatever the headers say."""
        recipient = smtp_address(to)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, recipient, subject
        msg.set_content(body)
        assert msg.get_all("To") == [recipient], "exactly one recipient"
        with smtplib.SMTP(self.host, self.port, timeout=20) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(msg, to_addrs=[recipient])

    async def send(self, to: str, subject: str, body: str) -> bool:
        """Send in a thread; a failure is logged, never raised at the person registering.
        False too for an invalid address and past the address's hourly quota."""
        if not self.enabled:
            return False
        if self.quota.hit(to.lower()):
            log.warning("a mail was not sent: its address had its quota this hour")
            return False
        try:
            await asyncio.to_thread(self._send, to, subject, body)
        except BadAddress:
            log.warning("a mail was not sent: its address is not one valid address")
            return False
        except (OSError, smtplib.SMTPException):
            log.exception("a mail could not be sent")  # no address in logs: personal data
            return False
        return True

    async def verify(self, event: Event, reg: Registration, link: str, hours: int) -> bool:
        """Double opt-in: the link that confirms the address (its first use does) and then
        stays the person's own link; nothing counts until it is opened.

        Anyone may type any address into the public form, so until its owner confirms it
        this mail carries nothing a stranger typed (no name, no accessibility need): only
        the event's title, written by its organizer, and the link. Otherwise the form
        would carry a stranger's text to any mailbox, five times an hour each."""
        t = translator(language_of(reg))
        subject = t("mail.verify.subject").format(event=event.title)
        body = t("mail.opt_in.body").format(event=event.title, link=link, hours=hours)
        return await self.send(reg.email, subject, body)

    async def already(self, event: Event, reg: Registration, link: str) -> bool:
        """Someone registered an address already registered (its owner, who forgot, or a
        stranger): the answer goes to the address, never to the form."""
        t = translator(language_of(reg))
        subject = t("mail.already.subject").format(event=event.title)
        body = t("mail.already.body").format(name=reg.name, link=link)
        return await self.send(reg.email, subject, body)

    async def registered(self, event: Event, reg: Registration, link: str) -> bool:
        """The receipt of a registration, with the person's own link; also what the
        organizer sends again to someone who lost it, so it follows the person's language,
        not the language of the desk that sends it."""
        t = translator(language_of(reg))
        subject = t("mail.registered.subject").format(event=event.title)
        body = t("mail.registered.body").format(name=reg.name, link=link)
        return await self.send(reg.email, subject, body)

    async def confirmed(self, event: Event, reg: Registration, workshop: str, room: str,
                        link: str) -> bool:  # fmt: skip
        """The confirmed workshop, in the language the person registered in."""
        lang = language_of(reg)
        t = translator(lang)
        subject = t("mail.confirmed.subject").format(event=event.title)
        date = format_date(event.date, format="long", locale=lang)
        body = t("mail.confirmed.body").format(
            name=reg.name, workshop=workshop, room=room or "—", date=date, link=link
        )
        return await self.send(reg.email, subject, body)

    async def confirmed_rounds(
        self,
        event: Event,
        reg: Registration,
        workshops: list[tuple[str, str | None, str]],
        link: str,
    ) -> bool:
        """Several rounds: every confirmed workshop as (times, title, room), one line each,
        in the language the person registered in; a round without a workshop as (its
        start, None, ""), said plainly rather than left out."""
        lang = language_of(reg)
        t = translator(lang)
        subject = t("mail.confirmed.subject").format(event=event.title)
        date = format_date(event.date, format="long", locale=lang)
        lines = "\n".join(
            t("mail.confirmed_round").format(times=times, workshop=title, room=room or "—")
            if title is not None
            else t("mail.no_workshop_round").format(time=times)
            for times, title, room in workshops
        )
        body = t("mail.confirmed_rounds.body").format(
            name=reg.name, workshops=lines, date=date, link=link
        )
        return await self.send(reg.email, subject, body)
