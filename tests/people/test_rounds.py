"""Several rounds of workshops (10:30 and 14:00): the event file names each workshop's
round, people wish per round on the form, the desk places and confirms every round with
nobody twice in one theme, and the personal page, its calendar and the confirmation mail
list each round's workshop with its time and room. An event with one round is unchanged."""

from __future__ import annotations

import csv
import html
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
from playwright.sync_api import expect

from live.agenda.commands import apply
from live.agenda.state import State
from live.backends.memory import MemoryBackend
from live.event_file import DefinitionError, parse_event
from live.model import Event
from live.people import rounds
from live.people.assignment import Applicant, Seats
from live.people.registration import Invalid, check
from live.people.rounds_assignment import assign_rounds
from live.people.store import People, Run
from tests.browser import test_accessibility
from tests.browser.test_show_day import command
from tests.model.test_model import DEMO
from tests.support.servers import ROOT, LiveServer, unavailable
from tests.support.smtpsink import SMTPSink

ROUNDS = """\
id: rounds
title: Deux tours d'ateliers
date: 2030-10-13
sites:
  - {id: foix, name: Foix}
themes:
  - {id: acces, title: Accès au numérique}
  - {id: enseigner, title: Enseigner avec le numérique}
agenda:
  - {id: accueil, kind: welcome, title: Accueil, start: "09:00", duration: 30}
  - {id: ateliers-matin, kind: workshops, title: Ateliers du matin, start: "10:30", duration: 90}
  - {id: dejeuner, kind: break, title: Déjeuner, start: "12:00", duration: 120}
  - {id: ateliers-apres-midi, kind: workshops, title: Ateliers de l'après-midi, start: "14:00",
     duration: 90}
workshops:
  - {id: acces-matin, theme: acces, site: foix, step: ateliers-matin, room: Salle 101, capacity: 2}
  - {id: enseigner-matin, theme: enseigner, site: foix, step: ateliers-matin, room: Salle 102,
     capacity: 2}
  - {id: acces-aprem, theme: acces, site: foix, step: ateliers-apres-midi, room: Amphi A,
     capacity: 2}
  - {id: enseigner-aprem, theme: enseigner, site: foix, step: ateliers-apres-midi, room: Amphi B,
     capacity: 2}
registration:
  wishes: 2
"""
THEME = {"acces-matin": "acces", "enseigner-matin": "enseigner"}
THEME |= {"acces-aprem": "acces", "enseigner-aprem": "enseigner"}
COPIES = ("rounds-desk", "rounds-pin", "rounds-a11y", "rounds-live")


def event(text: str = ROUNDS) -> Event:
    return parse_event(text, "rounds.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_event(text, "rounds.yaml")
    return caught.value.problems


def import_copies(server: LiveServer, tmp: Path, text: str, *copies: str) -> None:
    """`relais import` of the event under each id, into the server's data."""
    relais = [sys.executable, "-m", "live.cli", "--data", str(server.data_dir)]
    for copy in copies:
        definition = tmp / f"{copy}.yaml"
        definition.write_text(text.replace("id: rounds\n", f"id: {copy}\n", 1), encoding="utf-8")
        done = subprocess.run([*relais, "import", str(definition)], cwd=ROOT, capture_output=True)
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("rounds")
    s = LiveServer(tmp / "data")
    import_copies(s, tmp, ROUNDS, *COPIES)
    s.start()
    try:
        yield s
    finally:
        s.stop()


class Visitor:
    """A person at the public form, and the organizer at the desk, of one event."""

    def __init__(self, server: LiveServer, event_id: str, client: httpx.Client) -> None:
        self.server, self.event_id, self.client = server, event_id, client
        self.k = server.link(event_id, "organizer")
        self.desk = f"{server.url}/e/{event_id}/organize"

    def register(self, name: str, *wishes: str) -> str:
        """Wishes in form order: `wish1`, `wish2` for 10:30, `wish3`, `wish4` for 14:00."""
        form = {"name": name, "email": f"{name.lower()}@example.fr", "consent": "on"}
        form |= {"category": "professeur", "site": "foix"}
        form |= {f"wish{i}": w for i, w in enumerate(wishes, start=1)}
        r = self.client.post(f"{self.server.url}/e/{self.event_id}/register", data=form)
        assert r.status_code == 200, r.text
        found = re.search(r'id="personal-link" href="([^"]+)"', r.text)
        return html.unescape(found.group(1)) if found else ""

    def post(self, path: str, **data: str) -> httpx.Response:
        return self.client.post(f"{self.desk}{path}", params={"k": self.k}, data=data)

    def people(self) -> dict[str, dict[str, str]]:
        """The registrations CSV (in English: its columns are the field names), by e-mail."""
        r = self.client.get(f"{self.desk}/registrations.csv", params={"k": self.k, "lang": "en"})
        rows = csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";")
        return {row["email"]: row for row in rows}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30, follow_redirects=True) as c:
        yield c


def page(client: httpx.Client, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200, r.text
    return html.unescape(r.text)


def ics_events(client: httpx.Client, link: str) -> dict[str, icalendar.Event]:
    r = client.get(link.replace("/me?", "/me.ics?"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    return {str(e["UID"]).split("@")[0]: e for e in cal.walk("VEVENT")}


# -- the event file -----------------------------------------------------------------------


def test_each_workshops_step_with_workshops_is_a_round() -> None:
    ev = event()
    assert [s.id for s in ev.rounds] == ["ateliers-matin", "ateliers-apres-midi"]
    assert [r.key for r in rounds.rounds(ev)] == ["ateliers-matin", "ateliers-apres-midi"]
    morning, afternoon = ev.agenda[1], ev.agenda[3]
    assert [w.id for w in ev.workshops_for(morning)] == ["acces-matin", "enseigner-matin"]
    assert [w.id for w in ev.workshops_for(afternoon)] == ["acces-aprem", "enseigner-aprem"]
    assert ev.registration.same_theme_twice is False


def test_the_morning_step_runs_the_timers_of_the_morning_workshops_only() -> None:
    ev = event()
    state = apply(
        State(), {"seq": 1, "t": 0, "name": "step.goto", "args": {"step": "ateliers-matin"}}, ev
    )
    assert set(state.workshops) == {"acces-matin", "enseigner-matin"}
    entry = {"seq": 2, "t": 0, "name": "step.goto", "args": {"step": "ateliers-apres-midi"}}
    assert set(apply(state, entry, ev).workshops) == {"acces-aprem", "enseigner-aprem"}


def test_a_workshop_naming_an_unknown_step_is_refused_at_its_line() -> None:
    text = ROUNDS.replace("step: ateliers-matin, room: Salle 101", "step: matin, room: Salle 101")
    assert problems(text) == ["rounds.yaml:16: workshops[0].step: unknown step 'matin'"]


def test_a_workshop_in_a_step_that_is_not_a_workshops_step_is_refused() -> None:
    text = ROUNDS.replace(
        "step: ateliers-matin, room: Salle 101", "step: dejeuner, room: Salle 101"
    )
    (problem,) = problems(text)
    assert problem == (
        "rounds.yaml:16: workshops[0].step: step 'dejeuner' (line 12) is a break step, "
        "not a workshops step"
    )


def test_a_workshop_in_a_step_its_site_does_not_take_part_in_is_refused() -> None:
    text = ROUNDS.replace(
        "  - {id: foix, name: Foix}\n",
        "  - {id: foix, name: Foix, hub: true}\n  - {id: pamiers, name: Pamiers}\n",
    )
    text = text.replace(
        'title: Ateliers du matin, start: "10:30", duration: 90}',
        'title: Ateliers du matin, start: "10:30", duration: 90, sites: [pamiers]}',
    )
    first, second = problems(text)
    assert first == (
        "rounds.yaml:17: workshops[0].step: site 'foix' does not take part in step "
        "'ateliers-matin' (line 12)"
    )
    assert second.startswith("rounds.yaml:18: workshops[1].step: site 'foix'")


def test_once_rounds_are_named_a_workshop_without_its_round_is_refused() -> None:
    text = ROUNDS.replace(" step: ateliers-matin, room: Salle 101,", " room: Salle 101,")
    (problem,) = problems(text)
    assert problem == (
        "rounds.yaml:16: workshops[0].id: site 'foix' has several workshops steps: "
        "'ateliers-matin' (line 11), 'ateliers-apres-midi' (line 13); "
        "say which one this workshop runs in with `step:`"
    )


def test_a_file_naming_no_round_keeps_one_round_across_its_workshops_steps() -> None:
    text = re.sub(r" step: [a-z-]+,", "", ROUNDS)
    ev = event(text)
    assert ev.rounds == [] and [r.key for r in rounds.rounds(ev)] == [""]
    assert len(ev.workshops_for(ev.agenda[1])) == len(ev.workshops_for(ev.agenda[3])) == 4


def test_more_wishes_than_a_rounds_workshops_is_a_warning() -> None:
    from live.event_file import parse_event_with_warnings

    text = ROUNDS.replace("  wishes: 2\n", "  wishes: 3\n")
    _, warnings = parse_event_with_warnings(text, "rounds.yaml")
    assert warnings == [
        "rounds.yaml:24: registration.wishes: 3 wishes asked, more than some sites have "
        "workshops: 'foix' has 2 (line 5)"
    ]


# -- the solver ------------------------------------------------------------------------------


def test_the_solver_keeps_people_out_of_a_theme_they_had_in_an_earlier_round() -> None:
    morning = [Seats("acces-matin", "foix", 1), Seats("enseigner-matin", "foix", 1)]
    afternoon = [Seats("acces-aprem", "foix", 1), Seats("enseigner-aprem", "foix", 1)]
    people = [
        Applicant("a", "foix", ("acces-matin",)),
        Applicant("b", "foix", ("enseigner-matin",)),
    ]
    later = [Applicant("a", "foix", ("acces-aprem", "enseigner-aprem"))]
    later.append(Applicant("b", "foix", ("enseigner-aprem", "acces-aprem")))
    first, second = assign_rounds([people, later], [morning, afternoon], seed=0, apart=THEME)
    assert first.placements == {"a": "acces-matin", "b": "enseigner-matin"}
    assert second.placements == {"a": "enseigner-aprem", "b": "acces-aprem"}
    assert second.ranks == {"a": 2, "b": 2}
    _, same = assign_rounds([people, later], [morning, afternoon], seed=0)
    assert same.placements == {"a": "acces-aprem", "b": "enseigner-aprem"}


def test_a_pin_in_a_later_round_holds_its_theme_from_the_earlier_ones() -> None:
    morning = [Seats("acces-matin", "foix", 5), Seats("enseigner-matin", "foix", 5)]
    afternoon = [Seats("acces-aprem", "foix", 5), Seats("enseigner-aprem", "foix", 5)]
    first, second = assign_rounds(
        [[Applicant("a", "foix", ("acces-matin", "enseigner-matin"))],
         [Applicant("a", "foix", (), pinned="acces-aprem")]],
        [morning, afternoon],
        seed=0,
        apart=THEME,
    )  # fmt: skip
    assert (first.placements["a"], second.placements["a"]) == ("enseigner-matin", "acces-aprem")


# -- registration -------------------------------------------------------------------------


def test_the_form_asks_ranked_wishes_for_each_round(
    server: LiveServer, client: httpx.Client
) -> None:
    form = page(client, f"{server.url}/e/rounds-desk/register")
    assert "Vos vœux pour « Ateliers du matin » (10:30–12:00)" in form
    assert "Vos vœux pour « Ateliers de l'après-midi » (14:00–15:30)" in form
    assert "Un même thème ne vous sera pas attribué deux fois." in form
    names = re.findall(r'<select id="(wish\d)" name="\1">', form)
    assert names == ["wish1", "wish2", "wish3", "wish4"]
    morning = form.split('data-round="ateliers-matin"')[1].split("</fieldset>")[0]
    assert 'value="acces-matin"' in morning and 'value="acces-aprem"' not in morning


def test_more_wishes_than_asked_in_one_round_are_refused() -> None:
    ev = event()
    now = datetime.now(UTC)
    good = {"name": "A", "email": "a@example.fr", "category": "professeur", "site": "foix"}
    good |= {"consent": "on"}
    fields = check(ev, good | {"wishes": ["enseigner-matin", "acces-aprem", "acces-matin"]}, now)
    assert fields["wishes"] == ["enseigner-matin", "acces-aprem", "acces-matin"]
    one = ev.model_copy(update={"registration": ev.registration.model_copy(update={"wishes": 1})})
    with pytest.raises(Invalid) as caught:
        check(one, good | {"wishes": ["enseigner-matin", "acces-matin"]}, now)
    assert caught.value.errors == {"wishes": "reg.too_many"}


# -- the desk, the personal page, its calendar ----------------------------------------------


def test_two_rounds_are_assigned_confirmed_and_shown_with_times_and_rooms(
    server: LiveServer, client: httpx.Client
) -> None:
    v = Visitor(server, "rounds-desk", client)
    names = ("Alice", "Bruno", "Chloé", "David")
    # Everyone would rather be in "accès" twice; two seats per workshop.
    links = {
        n: v.register(n, "acces-matin", "enseigner-matin", "acces-aprem", "enseigner-aprem")
        for n in names
    }
    me = page(client, links["Alice"])
    assert (
        "Vos ateliers" in me
        and me.count(html.unescape("L'affectation n'est pas encore faite")) == 2
    )
    r = v.post("/assign", seed="7")
    assert (
        r.status_code == 200
        and "Ateliers de l'après-midi (14:00) : 4 personnes placées, 0 non placée"
        in html.unescape(r.text)
    )
    r = v.post("/publish")
    assert "4 personnes nouvellement confirmées" in html.unescape(r.text)
    people = v.people()
    for name in names:
        row = people[f"{name.lower()}@example.fr"]
        morning, afternoon = row["placement"].split(" / ")
        assert row["confirmed"] == row["placement"]
        assert {THEME[morning], THEME[afternoon]} == {"acces", "enseigner"}, "never twice one theme"
        assert [row["wish1"], row["wish3"]] == ["acces-matin", "acces-aprem"]
    # Those in "accès" at 10:30 get their 2nd wish at 14:00, and the others their 1st.
    assert sorted(r["rank"] for r in people.values()) == ["1 / 2", "1 / 2", "2 / 1", "2 / 1"]
    for name in names:
        morning, afternoon = people[f"{name.lower()}@example.fr"]["placement"].split(" / ")
        rooms = {"acces-matin": "Salle 101", "enseigner-matin": "Salle 102"}
        rooms |= {"acces-aprem": "Amphi A", "enseigner-aprem": "Amphi B"}
        mine = page(client, links[name])
        first = mine.split('data-round="ateliers-matin"')[1].split("</section>")[0]
        second = mine.split('data-round="ateliers-apres-midi"')[1].split("</section>")[0]
        assert "Ateliers du matin — 10:30 – 12:00" in first and rooms[morning] in first
        assert "Ateliers de l'après-midi — 14:00 – 15:30" in second and rooms[afternoon] in second
        cal = ics_events(client, links[name])
        am, pm = cal["rounds-desk-ateliers-matin-foix"], cal["rounds-desk-ateliers-apres-midi-foix"]
        assert str(am["LOCATION"]).startswith(rooms[morning] + ", ")
        assert str(pm["LOCATION"]).startswith(rooms[afternoon] + ", ")
        assert am.decoded("DTSTART").strftime("%H:%M") == "10:30"
        assert pm.decoded("DTSTART").strftime("%H:%M") == "14:00"
    report = page(client, f"{v.desk}/report?k={v.k}&round=ateliers-apres-midi")
    assert 'aria-current="page">Ateliers de l\'après-midi (14:00)' in report
    confirmations = client.get(f"{v.desk}/confirmations.csv", params={"k": v.k, "lang": "en"})
    lines = confirmations.content.decode("utf-8-sig").splitlines()[1:]
    assert len(lines) == 8 and sum("14:00–15:30" in line for line in lines) == 4


def test_pinning_a_person_twice_in_one_theme_is_refused_and_unpinning_takes_a_round(
    server: LiveServer, client: httpx.Client
) -> None:
    v = Visitor(server, "rounds-pin", client)
    v.register("Emma", "enseigner-matin", "", "enseigner-aprem")
    person = v.people()["emma@example.fr"]["id"]
    assert v.post("/pin", person=person, workshop="acces-matin").status_code == 200
    r = v.post("/pin", person=person, workshop="acces-aprem")
    assert r.status_code == 409
    assert "Emma a déjà « Accès au numérique », du même thème" in html.unescape(r.text)
    assert v.post("/pin", person=person, workshop="enseigner-aprem").status_code == 200
    assert v.people()["emma@example.fr"]["pinned"] == "acces-matin / enseigner-aprem"
    v.post("/assign", seed="1")
    assert v.people()["emma@example.fr"]["placement"] == "acces-matin / enseigner-aprem"
    v.post("/pin", person=person, workshop="unpin:ateliers-matin")
    assert v.people()["emma@example.fr"]["pinned"] == " / enseigner-aprem"
    v.post("/assign", seed="1")  # her morning wish is "enseigner", pinned for her at 14:00
    assert v.people()["emma@example.fr"]["placement"] == " / enseigner-aprem"


def test_without_the_theme_rule_a_person_may_have_one_theme_twice() -> None:
    async def placements(text: str) -> dict[str, Any]:
        backend = MemoryBackend()
        await backend.open()
        people = People(backend, event(text))
        fields = {"name": "F", "email": "f@example.fr", "category": "professeur", "site": "foix"}
        await people.create(fields | {"wishes": ["acces-matin", "acces-aprem"]})
        await people.run(seed=3)
        run = await people.result()
        assert run is not None
        return {k: p.placements for k, p in run.parts(people.event).items()}

    import asyncio

    apart = asyncio.run(placements(ROUNDS))
    both = [*apart["ateliers-matin"].values(), *apart["ateliers-apres-midi"].values()]
    assert sorted(both, key=str) == [None, "acces-aprem"] or both == ["acces-matin", None]
    allowed = ROUNDS.replace("  wishes: 2\n", "  wishes: 2\n  same_theme_twice: true\n")
    twice = asyncio.run(placements(allowed))
    assert list(twice["ateliers-apres-midi"].values()) == ["acces-aprem"]


# -- the confirmation mail ------------------------------------------------------------------


def test_the_confirmation_mail_lists_each_rounds_workshop_time_and_room(
    tmp_path: Path, client: httpx.Client
) -> None:
    with SMTPSink() as sink:
        s = LiveServer(tmp_path / "data", env=sink.env)
        import_copies(s, tmp_path, ROUNDS, "rounds-mail")
        s.start()
        try:
            v = Visitor(s, "rounds-mail", client)
            v.register("Gaëlle", "enseigner-matin", "", "acces-aprem")
            link = re.search(r"https?://\S+", sink.deliveries[-1].body)
            assert link and client.get(link.group(0)).status_code == 200  # address confirmed
            v.post("/assign", seed="2")
            r = v.post("/publish")
            assert "1 courriel envoyé" in html.unescape(r.text)
        finally:
            s.stop()
    body = sink.deliveries[-1].body
    assert "- 10:30–12:00 : Enseigner avec le numérique — Salle : Salle 102" in body
    assert "- 14:00–15:30 : Accès au numérique — Salle : Amphi A" in body
    assert link.group(0) in body


# -- what was stored before rounds, and events with one round ------------------------------


async def test_records_without_rounds_read_as_the_round_of_their_workshop() -> None:
    backend = MemoryBackend()
    await backend.open()
    people = People(backend, event())
    old = {"id": "p1", "name": "Old", "email": "old@example.fr", "category": "professeur"}
    old |= {"site": "foix", "wishes": ["acces-matin"], "confirmed": "acces-matin"}
    await backend.put_record("registration", "rounds:p1", old)
    await backend.put_record(
        "assignment", "rounds", {"seed": 5, "placements": {"p1": "acces-matin"}, "ranks": {"p1": 1}}
    )
    reg = await people.get("p1")
    assert reg is not None
    assert rounds.confirmed_in(people.event, reg, "ateliers-matin") == "acces-matin"
    assert rounds.confirmed_in(people.event, reg, "ateliers-apres-midi") is None
    run = await people.result()
    assert run is not None and run.parts(people.event)["ateliers-matin"].placements == {
        "p1": "acces-matin"
    }
    await people.run(seed=1)  # late mode: the confirmed morning stays, the afternoon is placed
    run = await people.result()
    assert run is not None
    parts = run.parts(people.event)
    assert parts["ateliers-matin"].placements == {"p1": "acces-matin"}
    assert parts["ateliers-apres-midi"].placements == {"p1": None}  # no wish there


async def test_an_event_with_one_round_stores_and_runs_as_before() -> None:
    ariege = parse_event((DEMO / "ariege-2020.yaml").read_text())
    assert len(rounds.rounds(ariege)) == 1 and not rounds.several(ariege)
    backend = MemoryBackend()
    await backend.open()
    people = People(backend, ariege)
    fields = {"name": "H", "email": "h@example.fr", "category": "professeur", "site": "foix"}
    reg = await people.create(fields | {"wishes": ["atelier-acces"]})
    (result,) = await people.run(seed=4)
    assert result.placements == {reg.id: "atelier-acces"}
    await people.publish()
    stored = await backend.get_record("assignment", ariege.id)
    assert stored is not None and stored["placements"] == {reg.id: "atelier-acces"}
    assert "rounds" not in stored
    again = await people.get(reg.id)
    assert again is not None and (again.confirmed, again.confirmations) == ("atelier-acces", {})
    assert Run.from_record({"seed": 1, "placements": {"x": None}}).rounds == {}


def test_the_one_round_form_is_unchanged(server: LiveServer, client: httpx.Client) -> None:
    form = page(client, f"{server.url}/e/ariege-2020/register")
    assert "Vos vœux d'atelier, par ordre de préférence" in form and "data-round" not in form
    assert re.findall(r'<select id="(wish\d)"', form) == ["wish1", "wish2", "wish3"]


# -- accessibility ----------------------------------------------------------------------------


@pytest.mark.browser
def test_the_pages_of_two_rounds_pass_the_wcag_rules(
    server: LiveServer, client: httpx.Client, browser: Any
) -> None:
    axe = test_accessibility.AXE
    if not axe.exists():
        unavailable("axe-core is not installed: npm ci --prefix js")
    v = Visitor(server, "rounds-a11y", client)
    link = v.register("Inès", "acces-matin", "enseigner-matin", "enseigner-aprem")
    v.register("Jules", "", "", "acces-aprem")
    v.post("/assign", seed="1")
    v.post("/publish")
    k = f"k={v.k}"
    pages = {
        "form": f"{server.url}/e/rounds-a11y/register",
        "personal page": link,
        "desk": f"{v.desk}?{k}",
        "report": f"{v.desk}/report?{k}&round=ateliers-apres-midi",
    }
    found = {}
    page = browser.new_page(bypass_csp=True)  # axe goes in as an inline script
    for name, url in pages.items():
        page.goto(url)
        page.wait_for_timeout(400)
        page.add_script_tag(path=str(axe))
        result = page.evaluate(
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
        )
        assert result["passes"], f"axe checked nothing on {name}"
        problems = [f"{x['id']}: {x['nodes'][0]['target']}" for x in result["violations"]]
        if problems:
            found[name] = problems
    page.close()
    assert found == {}


@pytest.mark.browser
def test_an_open_personal_page_follows_the_workshop_of_each_round_as_the_day_moves_on(
    server: LiveServer, client: httpx.Client, browser: Any
) -> None:
    v = Visitor(server, "rounds-live", client)
    link = v.register("Maëlle", "acces-matin", "", "enseigner-aprem")
    v.post("/assign", seed="1")
    v.post("/publish")
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(link)  # opened before the day starts, and left open
    timer = phone.locator("#now-timer")
    where = phone.locator("#now-room")  # which workshop, and where: not only how long
    command(server, "rounds-live", "step.goto", step="ateliers-matin")
    expect(timer).to_contain_text("Votre atelier : ")
    expect(where).to_contain_text("Salle 101")
    command(server, "rounds-live", "step.goto", step="dejeuner")
    expect(timer).to_contain_text("Temps restant")
    expect(where).not_to_contain_text("Salle 101")
    command(server, "rounds-live", "step.goto", step="ateliers-apres-midi")
    expect(timer).to_contain_text("Votre atelier : ")  # the afternoon's own, not the site's
    expect(where).to_contain_text("Amphi B")
    expect(phone.locator("#now-workshops")).to_be_hidden()
    phone.close()
