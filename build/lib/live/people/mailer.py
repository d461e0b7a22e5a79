"""E-mail to participants, when an SMTP server is configured; otherwise nothing is sent
and the organizer hands out the links from the confirmations CSV."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage

from live.model import Event
from live.people.registration import Registration

log = logging.getLogger("relais.mail")


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
            log.exception("mail to %s failed", to)
            return False
        return True

    async def registered(self, event: Event, reg: Registration, link: str, lang: str) -> bool:
        if lang == "en":
            subject = f"Registration received — {event.title}"
            body = (
                f"Hello {reg.name},\n\nYour registration is recorded. Your personal link, "
                f"to update it and to see your workshop once assigned:\n{link}\n"
            )
        else:
            subject = f"Inscription enregistrée — {event.title}"
            body = (
                f"Bonjour {reg.name},\n\nVotre inscription est enregistrée. Votre lien "
                f"personnel, pour la modifier et connaître votre atelier une fois "
                f"l'affectation faite :\n{link}\n"
            )
        return await self.send(reg.email, subject, body)

    async def confirmed(self, event: Event, reg: Registration, workshop: str, room: str,
                        link: str) -> bool:  # fmt: skip
        subject = f"Confirmation d'inscription — {event.title}"
        body = (
            f"Bonjour {reg.name},\n\nAtelier retenu : {workshop}\nSalle : {room or '—'}\n"
            f"Date : {event.date.strftime('%d/%m/%Y')}\n\n"
            f"Votre page (horaires, visio, QR code, agenda .ics) :\n{link}\n"
        )
        return await self.send(reg.email, subject, body)
