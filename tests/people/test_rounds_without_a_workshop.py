"""Several rounds, on a real server: the desk counts and exports each round on its own,
and a person left without a workshop in a round is told so plainly, on their page and in
their confirmation mail (not "the assignment is not done yet", not silence)."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.people.test_rounds import ROUNDS, Visitor, import_copies
from tests.support.servers import LiveServer
from tests.support.smtpsink import SMTPSink

# Three people, two seats in each morning workshop but one in each afternoon workshop:
# someone has no workshop at 14:00, whatever the placement.
SHORT = ROUNDS.replace("room: Amphi A,\n     capacity: 2}", "room: Amphi A,\n     capacity: 1}")
SHORT = SHORT.replace("room: Amphi B,\n     capacity: 2}", "room: Amphi B,\n     capacity: 1}")
NAMES = ("Alice", "Bruno", "Chloé")
WISHES = ("acces-matin", "enseigner-matin", "acces-aprem", "enseigner-aprem")


class Day:
    """The server, its mails, and the day run at the desk: registered, placed, confirmed."""

    def __init__(self, server: LiveServer, sink: SMTPSink, client: httpx.Client) -> None:
        self.server, self.sink, self.client = server, sink, client
        self.desk = Visitor(server, "short", client)
        self.links: dict[str, str] = {}
        for name in NAMES:
            self.desk.register(name, *WISHES)
            found = re.search(r"https?://\S+", sink.deliveries[-1].body)
            assert found is not None
            self.links[name] = found.group(0)
            assert client.get(self.links[name]).status_code == 200  # address confirmed
        self.assigned = self.desk.post("/assign", seed="3")
        self.published = self.desk.post("/publish")
        people = self.desk.people()
        self.without = next(
            n for n in NAMES if people[f"{n.lower()}@example.fr"]["placement"].endswith(" / ")
        )


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    tmp = tmp_path_factory.mktemp("short")
    with SMTPSink() as sink, httpx.Client(timeout=30, follow_redirects=True) as client:
        server = LiveServer(tmp / "data", env=sink.env)
        import_copies(server, tmp, SHORT.replace("id: rounds\n", "id: short\n"), "short")
        server.start()
        try:
            yield Day(server, sink, client)
        finally:
            server.stop()


def test_the_desk_says_how_many_are_placed_in_each_round(day: Day) -> None:
    said = html.unescape(day.assigned.text)
    assert day.assigned.status_code == 200
    assert (
        "Affectation calculée : Ateliers du matin (10:30) : 3 personnes placées, 0 non placée ; "
        "Ateliers de l'après-midi (14:00) : 2 personnes placées, 1 non placée." in said
    )
    desk = html.unescape(day.client.get(day.desk.desk, params={"k": day.desk.k}).text)
    assert re.search(
        r"Placées — Ateliers du matin \(10:30\)</dt><dd[^>]*>3 ; sans atelier : 0", desk
    )
    assert re.search(
        r"Placées — Ateliers de l'après-midi \(14:00\)</dt><dd[^>]*>2 ; sans atelier : 1", desk
    )


def test_the_report_csv_gives_every_round_each_line_naming_its_round(day: Day) -> None:
    r = day.client.get(f"{day.desk.desk}/report.csv", params={"k": day.desk.k})
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["tour", "rubrique", "élément", "personnes"]
    overall = {row[0]: row for row in rows[1:] if row[1] == "overall"}
    assert set(overall) == {"Ateliers du matin (10:30)", "Ateliers de l'après-midi (14:00)"}
    unplaced = rows[0].index("non placées")
    assert overall["Ateliers du matin (10:30)"][unplaced] == "0"
    assert overall["Ateliers de l'après-midi (14:00)"][unplaced] == "1"
    one = day.client.get(
        f"{day.desk.desk}/report.csv", params={"k": day.desk.k, "round": "ateliers-apres-midi"}
    )
    lines = one.content.decode("utf-8-sig").splitlines()[1:]
    assert lines and all(line.startswith("Ateliers de l'après-midi (14:00);") for line in lines)


def test_a_person_without_a_workshop_in_a_round_reads_so_plainly_on_their_page(day: Day) -> None:
    page = html.unescape(day.client.get(day.links[day.without]).text)
    afternoon = page.split('data-round="ateliers-apres-midi"')[1].split("</section>")[0]
    assert "Pas d'atelier pour le tour de 14:00" in afternoon
    assert "L'affectation n'est pas encore faite" not in page
    english = html.unescape(day.client.get(day.links[day.without] + "&lang=en").text)
    assert "No workshop for the 14:00 round" in english


def test_a_person_without_a_workshop_in_a_round_reads_so_in_their_mail(day: Day) -> None:
    assert "3 courriels envoyés" in html.unescape(day.published.text)
    email = f"{day.without.lower()}@example.fr"
    mail = [d for d in day.sink.deliveries if d.recipients == [email]][-1].body
    assert re.search(r"- 10:30–12:00 : .+ — Salle : Salle 10[12]", mail)
    assert "- Pas d'atelier pour le tour de 14:00 :" in mail


def test_the_people_placed_in_both_rounds_get_both_workshops_in_their_mail(day: Day) -> None:
    for name in NAMES:
        if name == day.without:
            continue
        mail = [d for d in day.sink.deliveries if d.recipients == [f"{name.lower()}@example.fr"]]
        body = mail[-1].body
        assert "- 14:00–15:30 : " in body and "Pas d'atelier" not in body
