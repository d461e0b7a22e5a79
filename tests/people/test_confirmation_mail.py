"""The mail that asks to confirm an address (double opt-in) carries nothing a stranger
typed: anyone may type any address into the public form, so until the address's owner
confirms it, the mail says only that someone asked to register it to the event, and
gives the link. Otherwise the form would carry a stranger's text to any mailbox."""

from __future__ import annotations

import html
import re

import httpx

from tests.people.test_registration import GOOD as FORM
from tests.people.test_registration_abuse import mailed
from tests.support.servers import LiveServer
from tests.support.smtpsink import SMTPSink

__all__ = ["mailed"]  # a fixture, used by name

EVENT = "ariege-2020"
SPAM = {"name": "Gagnez 1000 euros sur spam.example", "accessibility": "Cliquez ici vite"}


def test_the_mail_to_an_unconfirmed_address_carries_no_text_typed_in_the_form(
    mailed: tuple[LiveServer, SMTPSink],
) -> None:
    server, sink = mailed
    with httpx.Client(timeout=30) as client:
        assert client.post(f"{server.url}/e/{EVENT}/register", data=FORM | SPAM).status_code == 200
        (mail,) = sink.deliveries
        assert mail.recipients == [FORM["email"]]
        text = mail.message["Subject"] + mail.body
        assert "spam.example" not in text and "Gagnez" not in text and "Cliquez" not in text
        assert "Quelqu'un a demandé à inscrire cette adresse" in mail.body
        assert "Ariège" in mail.body, "the event's title, written by its organizer"
        link = re.search(r"https?://\S+/me\?k=\S+", mail.body)
        assert link, "and the link that confirms the address"
        page = client.get(link.group(0))
    assert "Votre adresse est confirmée" in html.unescape(page.text)


def test_in_english_the_mail_says_the_same_and_no_more(
    mailed: tuple[LiveServer, SMTPSink],
) -> None:
    server, sink = mailed
    url = f"{server.url}/e/{EVENT}/register?lang=en"
    assert httpx.post(url, data=FORM | SPAM, timeout=30).status_code == 200
    (mail,) = sink.deliveries
    assert mail.message["Subject"].startswith("Confirm your registration")
    assert "Someone asked to register this address" in mail.body
    assert "spam.example" not in mail.body and "Cliquez" not in mail.body


def test_registering_an_unconfirmed_address_again_mails_no_typed_text_either(
    mailed: tuple[LiveServer, SMTPSink],
) -> None:
    server, sink = mailed
    url = f"{server.url}/e/{EVENT}/register"
    httpx.post(url, data=FORM, timeout=30)
    httpx.post(url, data=FORM | SPAM, timeout=30)  # while the first waits for confirmation
    assert [d.recipients for d in sink.deliveries] == [[FORM["email"]]] * 2
    for mail in sink.deliveries:
        assert FORM["name"] not in mail.body and "spam.example" not in mail.body
