"""The public registration form and the person's own page, on the real server."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from live.event_file import parse_event
from live.people.registration import Invalid, WorkshopSettings, check, read_csv
from tests.model.test_model import DEMO
from tests.support.servers import LiveServer

EVENT = "ariege-2020"
GOOD = {
    "name": "Camille Martin",
    "email": "camille@example.fr",
    "category": "professeur",
    "site": "foix",
    "wish1": "atelier-enseigner",
    "wish2": "atelier-acces",
    "wish3": "",
    "accessibility": "",
    "consent": "on",
}


def post(url: str, data: dict[str, str]) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body)) as r:
            return int(r.status), html.unescape(r.read().decode())
    except urllib.error.HTTPError as exc:
        return exc.code, html.unescape(exc.read().decode())


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url) as r:
            return int(r.status), html.unescape(r.read().decode())
    except urllib.error.HTTPError as exc:
        return exc.code, html.unescape(exc.read().decode())


def personal_link(page: str) -> str:
    match = re.search(r'id="personal-link" href="([^"]+)"', page)
    assert match, "the confirmation page shows the personal link"
    return match.group(1)


def registered_count(server: LiveServer) -> int:
    """How many people the store holds, read back through the organizer's CSV-free API."""
    import asyncio

    from live.backends.sqlite import SQLiteBackend

    async def count() -> int:
        b = SQLiteBackend(server.data_dir / "relais.sqlite3")
        await b.open()
        try:
            return len(await b.list_records("registration", f"{EVENT}:"))
        finally:
            await b.close()

    return asyncio.run(count())


def test_a_person_registers_and_gets_a_personal_link(live_server: LiveServer) -> None:
    status, page = post(f"{live_server.url}/e/{EVENT}/register", GOOD)
    assert status == 200 and "Inscription enregistrée" in page
    status, page = get(personal_link(page))
    assert status == 200 and "Camille Martin" in page
    assert "L'affectation n'est pas encore faite" in page
    assert registered_count(live_server) == 1


@pytest.mark.parametrize(
    ("change", "field_message"),
    [
        ({"name": ""}, "Ce champ est obligatoire."),
        ({"email": "camille"}, "Adresse électronique invalide."),
        ({"category": "astronaute"}, "Choisissez une catégorie de la liste."),
        ({"site": "lyon"}, "Choisissez un site de la liste."),
        ({"wish2": "atelier-enseigner"}, "Le même atelier est choisi deux fois."),
        ({"wish1": "atelier-cuisine"}, "Atelier inconnu."),
        ({"consent": ""}, "Votre accord est nécessaire pour vous inscrire."),
    ],
)
def test_bad_input_gets_a_clear_message_and_nothing_is_stored(
    live_server: LiveServer, change: dict[str, str], field_message: str
) -> None:
    status, page = post(f"{live_server.url}/e/{EVENT}/register", GOOD | change)
    assert status == 422
    assert "rien n'a été enregistré" in page and field_message in page
    assert 'aria-invalid="true"' in page
    assert registered_count(live_server) == 0


def test_a_second_registration_with_the_same_email_does_not_duplicate(
    live_server: LiveServer,
) -> None:
    post(f"{live_server.url}/e/{EVENT}/register", GOOD)
    status, page = post(f"{live_server.url}/e/{EVENT}/register", GOOD | {"name": "Other"})
    assert status == 409 and "déjà inscrite" in page
    assert registered_count(live_server) == 1


def test_the_person_updates_their_wishes_through_their_own_link(
    live_server: LiveServer,
) -> None:
    _, page = post(f"{live_server.url}/e/{EVENT}/register", GOOD)
    link = personal_link(page)
    status, page = post(link, GOOD | {"wish1": "atelier-gouvernance", "wish2": ""})
    assert status == 200 and "Vos modifications sont enregistrées." in page
    assert 'value="atelier-gouvernance" data-site="foix" selected' in page
    status, page = post(link, GOOD | {"wish1": "x"})
    assert status == 422 and "Atelier inconnu." in page
    assert registered_count(live_server) == 1


def test_a_forged_or_foreign_personal_link_is_refused(live_server: LiveServer) -> None:
    _, page = post(f"{live_server.url}/e/{EVENT}/register", GOOD)
    link = personal_link(page)
    assert get(link[:-4] + "AAAA")[0] == 401
    other = live_server.link(EVENT, "participant", site="foix", person="nobody")
    assert get(f"{live_server.url}/e/{EVENT}/me?k={other}")[0] == 401
    assert get(f"{live_server.url}/e/{EVENT}/me.ics?k={other}")[0] == 401


def test_the_ics_holds_the_right_times_in_europe_paris(live_server: LiveServer) -> None:
    _, page = post(f"{live_server.url}/e/{EVENT}/register", GOOD)
    link = personal_link(page)
    status, body = get(link.replace("/me?", "/me.ics?"))
    assert status == 200
    cal = icalendar.Calendar.from_ical(body)
    assert [tz.tz_name for tz in cal.timezones] == ["Europe/Paris"]
    starts = {str(e["SUMMARY"]): e["DTSTART"].dt for e in cal.walk("VEVENT")}
    plenary = next(v for k, v in starts.items() if k.startswith("Plénière"))
    assert plenary == datetime(2020, 9, 30, 13, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert plenary.utcoffset().total_seconds() == 2 * 3600  # type: ignore[union-attr]
    workshops = next(v for k, v in starts.items() if k.startswith("Ateliers"))
    assert workshops.hour == 14 and workshops.minute == 15


def test_the_agenda_is_published_as_icalendar(live_server: LiveServer) -> None:
    status, body = get(f"{live_server.url}/e/poitiers-2020/agenda.ics")
    cal = icalendar.Calendar.from_ical(body)
    events = cal.walk("VEVENT")
    assert status == 200 and len(events) == 9
    assert events[0]["DTSTART"].dt == datetime(2020, 10, 14, 8, 30, tzinfo=ZoneInfo("Europe/Paris"))


def test_the_agenda_of_an_unknown_event_is_the_not_found_page(live_server: LiveServer) -> None:
    status, body = get(f"{live_server.url}/e/nulle-part/agenda.ics")
    assert status == 404 and "Événement introuvable" in body and "<html" in body


# -- the rules themselves, without a server ------------------------------------------


ARIEGE = parse_event((DEMO / "ariege-2020.yaml").read_text())
NOW = datetime(2020, 9, 20, tzinfo=ZoneInfo("Europe/Paris"))


def test_closed_registration_is_refused() -> None:
    text = (
        (DEMO / "ariege-2020.yaml")
        .read_text()
        .replace(
            "registration:\n  wishes: 3",
            "registration:\n  wishes: 3\n  closes: 2020-09-25T12:00:00",
        )
    )
    event = parse_event(text)
    form = GOOD | {"wishes": ["atelier-acces"]}
    assert check(event, form, NOW)["wishes"] == ["atelier-acces"]
    with pytest.raises(Invalid) as exc:
        check(event, form, datetime(2020, 9, 26, tzinfo=ZoneInfo("Europe/Paris")))
    assert exc.value.errors == {"form": "reg.closed"}


def test_a_wish_for_a_workshop_the_organizer_closed_is_refused() -> None:
    form = GOOD | {"wishes": ["atelier-acces"]}
    with pytest.raises(Invalid) as exc:
        check(ARIEGE, form, NOW, WorkshopSettings(closed=["atelier-acces"]))
    assert exc.value.errors == {"wishes": "reg.other_site"}


def test_a_list_imports_from_csv_with_semicolons() -> None:
    rows = read_csv(
        "name;email;category;site;wish1;wish2\n"
        "Ana;ana@example.fr;parent;foix;atelier-acces;atelier-ensemble\n"
    )
    assert rows[0]["wishes"] == ["atelier-acces", "atelier-ensemble"]
    assert check(ARIEGE, rows[0], NOW)["email"] == "ana@example.fr"
