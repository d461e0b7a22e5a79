"""E-mail to participants, when an SMTP server is configured; otherwise nothing is sent
and the organizer hands out the links from the confirmations CSV."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage

from babel.dates import format_date

from live.i18n import translator
from live.model import Event
from live.people.registration import Registration

log = logging.getLogger("relais.mail")


def language_of(reg: Registration) -> str:
    """The language a person registered in (French for a list imported from a file):
    every mail to them is written in it, whoever triggers it."""
    return str(reg.extra.get("lang", "fr"))


class Mailer:
    def __init__(self, host: str = "", port: int = 25, sender: str = "", user: str = "",
                 password: str = "", starttls: bool = False) -> None:  # fmt: skip
        self.host, self.port, self.sender = host, port, sender or "relais@localhost"
        self.user, self.password, self.starttls = user, password, starttls

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def _send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=20) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)

    async def send(self, to: str, subject: str, body: str) -> bool:
        """Send in a thread; a failure is logged, never raised at the person registering."""
        if not self.enabled:
            return False
        try:
            await asyncio.to_thread(self._send, to, subject, body)
        except (OSError, smtplib.SMTPException):
            log.exception("a mail could not be sent")  # no address in logs: personal data
            return False
        return True

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
