"""How long an event's links work: through the event's day and a stated margin after it,
at least a stated number of days from issue, or until the day an organizer chose (a year
at most). The issue's case: an event on 16/06/2027 whose links, issued in February, said
"valables jusqu'au 03/02/2027". Fixed clocks only: nothing here depends on today."""

from __future__ import annotations

import re
import zlib
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from live.config import Settings
from live.event_file import parse_event
from live.links.kept import to_issue
from live.links.printed import sheet_pdf
from live.links.signing import (
    ADMIN_DAYS,
    DAY,
    MAX_DAYS,
    LinkError,
    Signer,
    chosen_until,
    day_end,
    ends_before_event,
)
from live.model import Event
from live.web.links_view import Context, print_sheet, until_of
from live.web.routes import urls

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"
PARIS = ZoneInfo("Europe/Paris")


def demo_on(name: str, day: date) -> Event:
    """A demo event moved to another day."""
    text = (DEMO / f"{name}.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^date: .*$", f"date: {day.isoformat()}", text)
    return parse_event(text, f"{name}.yaml")


def at(text: str) -> float:
    """A moment in Paris, 'YYYY-MM-DD HH:MM', as epoch seconds."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS).timestamp()


def signer_for(*events: Event, days: float = 60, margin: float = 7) -> Signer:
    known = {e.id: e for e in events}
    return Signer("s", days, margin_days=margin, events=known.get)


def refused(call: object) -> str:
    with pytest.raises(LinkError) as exc:
        call()  # type: ignore[operator]
    return exc.value.code


def test_links_issued_for_an_event_months_ahead_are_valid_on_its_day() -> None:
    event = demo_on("ariege-2020", date(2027, 6, 16))
    signer = signer_for(event)
    issued = at("2027-02-01 10:00")  # 60 days from issue would end on 02/04/2027
    token = signer.sign(event.id, "screen", site="foix", now=issued)
    assert signer.verify(token, event.id, now=at("2027-06-16 17:30")).role == "screen"
    assert signer.verify(token, event.id, now=at("2027-06-16 23:59")).role == "screen"


def test_an_events_link_works_a_stated_margin_after_its_day_then_expires() -> None:
    event = demo_on("ariege-2020", date(2027, 6, 16))
    signer = signer_for(event, margin=7)
    token = signer.sign(
        event.id, "rapporteur", workshop="atelier-acces", now=at("2027-02-01 10:00")
    )
    assert signer.verify(token, event.id, now=at("2027-06-23 23:59")).expires == (
        day_end(date(2027, 6, 23), PARIS)
    )
    assert refused(lambda: signer.verify(token, event.id, now=at("2027-06-24 00:00"))) == (
        "link_expired"
    )


def test_a_link_issued_after_the_event_still_works_the_stated_days() -> None:
    """For the synthesis: the demo days are in 2020, their links are made long after."""
    event = demo_on("poitiers-2020", date(2020, 10, 14))
    signer = signer_for(event, days=60)
    issued = at("2027-02-01 10:00")
    claims = signer.verify(signer.sign(event.id, "organizer", now=issued), event.id, now=issued)
    assert claims.expires == day_end(date(2027, 4, 2), PARIS)  # to the end of the 60th day


def test_an_event_a_few_days_away_gets_the_stated_days_when_they_are_longer() -> None:
    event = demo_on("grand-est-2020", date(2027, 2, 10))
    signer = signer_for(event, days=60, margin=7)
    claims = signer.verify(
        signer.sign(event.id, "facilitator", now=at("2027-02-01 10:00")), event.id, now=0
    )
    assert claims.expires == day_end(date(2027, 4, 2), PARIS)


def test_the_end_of_the_events_day_is_its_local_midnight_across_a_clock_change() -> None:
    assert day_end(date(2027, 3, 28), PARIS) == at("2027-03-29 00:00") - 1  # a 23-hour day
    assert day_end(date(2027, 10, 31), PARIS) == at("2027-11-01 00:00") - 1  # a 25-hour day
    montreal = ZoneInfo("America/Montreal")
    end = datetime(2027, 6, 17, tzinfo=montreal).timestamp() - 1
    assert day_end(date(2027, 6, 16), montreal) == end


def test_an_event_the_signer_does_not_know_gets_the_stated_days_from_issue() -> None:
    signer = Signer("s", 60)
    claims = signer.verify(signer.sign("elsewhere", "screen", now=1000.0), "elsewhere", now=0)
    assert claims.expires == 1000 + 60 * DAY


def test_days_or_an_expiry_given_explicitly_win_over_the_default() -> None:
    event = demo_on("ariege-2020", date(2027, 6, 16))
    signer = signer_for(event)
    now = at("2027-02-01 10:00")
    short = signer.sign(event.id, "screen", site="foix", days=1, now=now)
    assert signer.verify(short, event.id, now=0).expires == int(now + DAY)
    until = day_end(date(2027, 3, 1), PARIS)
    chosen = signer.sign(event.id, "screen", site="foix", until=until, now=now)
    assert signer.verify(chosen, event.id, now=0).expires == until


def test_admin_links_keep_their_own_validity() -> None:
    event = demo_on("ariege-2020", date(2027, 6, 16))
    signer = signer_for(event)
    now = at("2027-02-01 10:00")
    claims = signer.verify_admin(signer.sign_admin(now=now), now=now)
    assert claims.expires == int(now + ADMIN_DAYS * DAY)


def test_a_chosen_validity_runs_to_the_end_of_that_day_between_today_and_a_year() -> None:
    event = demo_on("ariege-2020", date(2027, 6, 16))
    now = at("2027-02-01 10:00")
    assert chosen_until(event, date(2027, 2, 1), now) == day_end(date(2027, 2, 1), PARIS)
    last = date(2027, 2, 1) + timedelta(days=MAX_DAYS)
    assert chosen_until(event, last, now) == day_end(last, PARIS)
    assert refused(lambda: chosen_until(event, date(2027, 1, 31), now)) == "link_validity"
    assert refused(lambda: chosen_until(event, last + timedelta(days=1), now)) == "link_validity"


def test_a_link_ending_before_the_events_day_is_over_is_told_apart() -> None:
    event = demo_on("ariege-2020", date(2027, 6, 16))
    signer = signer_for(event)
    now = at("2027-02-01 10:00")

    def claims(until: int) -> object:
        return signer.verify(signer.sign(event.id, "host", until=until, now=now), event.id, now=0)

    assert ends_before_event(claims(day_end(date(2027, 6, 15), PARIS)), event)  # type: ignore[arg-type]
    assert not ends_before_event(claims(day_end(date(2027, 6, 16), PARIS)), event)  # type: ignore[arg-type]


def test_the_margin_is_a_setting_and_a_negative_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RELAIS_SECRET", "s")
    monkeypatch.setenv("RELAIS_LINK_MARGIN_DAYS", "3")
    assert Settings.from_env().link_margin_days == 3
    assert Settings().link_margin_days == 7
    monkeypatch.setenv("RELAIS_LINK_MARGIN_DAYS", "-1")
    with pytest.raises(ValueError, match="RELAIS_LINK_MARGIN_DAYS"):
        Settings.from_env()


# -- the sheets, off the server (the routes are tested in test_link_validity_sheet.py) ------


def context(event: Event, signer: Signer, lang: str = "fr") -> Context:
    from live.i18n import translator

    return Context(event, signer, urls("http://x"), frozenset(), "", translator(lang), lang)


def test_a_chosen_day_that_is_not_a_day_or_out_of_bounds_is_refused_in_french() -> None:
    from live.people.desk import Refused

    event = demo_on("ariege-2020", date(2027, 6, 16))
    ctx = context(event, signer_for(event))
    now = at("2027-02-01 10:00")
    assert until_of(ctx, "", now) is None  # the default
    assert until_of(ctx, "2027-06-20", now) == day_end(date(2027, 6, 20), PARIS)
    for raw in ("2027-01-31", "2028-02-03", "2027-W24-3", "20270620", "16/06/2027", "demain"):
        with pytest.raises(Refused) as exc:
            until_of(ctx, raw, now)
        assert exc.value.key == "error.link_validity"
        assert exc.value.params == {"first": "01/02/2027", "last": "02/02/2028"}


def pdf_text(pdf: bytes) -> str:
    """The text drawn by a core-font PDF (its page streams, inflated)."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    out = []
    for raw in streams:
        try:
            out.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            out.append(raw.decode("latin-1"))
    return "\n".join(out)


def test_the_pdf_sheet_prints_each_links_validity_and_warns_of_an_early_one() -> None:
    event = demo_on("ariege-2020", date(2027, 6, 16))
    signer = signer_for(event)
    kept = {slot.key: record for slot, record in to_issue(signer, event, {})}
    early = signer.sign(event.id, "host", site="foix", until=day_end(date(2027, 6, 1), PARIS))
    kept["host:foix"] = {"token": early, "issued": "2027-02-01T09:00:00Z", "earlier": []}
    site = event.sites[0]
    sheet = print_sheet(context(event, signer), kept, site)
    by_title = {e.title: e for e in sheet.entries}
    default_end = datetime.fromtimestamp(signer.until(event), PARIS).strftime("%d/%m/%Y %H:%M")
    assert by_title["Écran de la salle"].validity == f"Valable jusqu'au {default_end}."
    assert by_title["Écran de la salle"].warning == ""
    assert by_title["Hôte du site"].validity == "Valable jusqu'au 01/06/2027 23:59."
    assert "avant la fin de l'événement du 16/06/2027" in by_title["Hôte du site"].warning
    assert all(e.validity for e in sheet.entries)
    text = pdf_text(sheet_pdf(sheet, fonts=Path("/nowhere")))
    assert text.count("Valable jusqu'au") == len(sheet.entries)
    assert "Valable jusqu'au 01/06/2027 23:59." in text
    assert "avant la fin de l'" in text
    english = print_sheet(context(event, signer, "en"), kept, site)
    assert any(e.validity.startswith("Valid until 2027-06-01") for e in english.entries)
