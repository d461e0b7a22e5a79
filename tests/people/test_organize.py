"""The organizer's desk, on the real server: who may use it, the workshop settings, pins,
the assignment and its seed, confirmations, late registrations, the report, the CSV
files, revoked links, personal data, and what bad input does (a message, no change)."""

from __future__ import annotations

import csv
import email
import email.policy
import html
import io
import re
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.servers import LiveServer

EVENT = "ariege-2020"
WORKSHOPS = ("atelier-acces", "atelier-enseigner", "atelier-ensemble")


class Desk:
    """An organizer at their laptop: the organizer link, the forms, the CSV files."""

    def __init__(self, server: LiveServer, client: httpx.Client) -> None:
        self.server, self.client = server, client
        self.mailbox: list[Any] | None = None  # what the SMTP server received, if mail is on
        self.k = server.link(EVENT, "organizer")
        self.base = f"{server.url}/e/{EVENT}/organize"

    def get(self, path: str = "", k: str | None = None) -> httpx.Response:
        return self.client.get(f"{self.base}{path}", params={"k": self.k if k is None else k})

    def post(self, path: str, data: Any = None, k: str | None = None, **kw: Any) -> httpx.Response:
        url = f"{self.base}{path}"
        return self.client.post(url, params={"k": self.k if k is None else k}, data=data, **kw)

    def page(self, path: str = "") -> str:
        r = self.get(path)
        assert r.status_code == 200, r.text
        return html.unescape(r.text)

    def csv(self, name: str, lang: str = "en") -> list[dict[str, str]]:
        """A CSV download; in English its columns are the field names (French by default)."""
        r = self.client.get(f"{self.base}/{name}.csv", params={"k": self.k, "lang": lang})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))

    def people(self) -> dict[str, dict[str, str]]:
        """Registrations by e-mail, read back from the registrations CSV."""
        return {row["email"]: row for row in self.csv("registrations")}

    def placements(self) -> dict[str, str]:
        return {email: row["placement"] for email, row in self.people().items()}

    def register(self, name: str, *wishes: str, **extra: str) -> str:
        """Register on the public form; the personal link shown afterwards."""
        email = extra.pop("email", f"{name.lower().replace(' ', '.')}@example.fr")
        form = {"name": name, "email": email, "category": "professeur", "site": "foix"}
        form |= {f"wish{i}": w for i, w in enumerate(wishes, start=1)}
        form |= {"consent": "on", **extra}
        r = self.client.post(f"{self.server.url}/e/{EVENT}/register", data=form)
        assert r.status_code == 200, r.text
        if self.mailbox is not None:  # double opt-in: the link comes by mail; opening it
            return confirm_by_mail(self.client, self.mailbox)  # confirms the address
        match = re.search(r'id="personal-link" href="([^"]+)"', r.text)
        assert match
        return html.unescape(match.group(1))

    def workshops(self, **changes: dict[str, Any]) -> httpx.Response:
        """Post the workshop table with some rows changed (the others as they are)."""
        data: dict[str, list[str]] = {"workshop": [], "open": []}
        for wid, change in changes.items():
            wid = wid.replace("_", "-")
            data["workshop"].append(wid)
            if change.get("open", True):
                data["open"].append(wid)
            for field in ("capacity", "min_size"):
                if field in change:
                    data[f"{field}-{wid}"] = [str(change[field])]
        return self.post("/workshops", data=data)

    def run(self, seed: int | str = 1, **form: str) -> httpx.Response:
        return self.post("/assign", data={"seed": str(seed), **form})

    def open_boxes(self) -> dict[str, bool]:
        """Workshop id -> whether its "open" box is ticked on the dashboard."""
        boxes = re.findall(r'<input type="checkbox" id="open-([a-z-]+)"([^>]*)>', self.page())
        return {wid: "checked" in attrs for wid, attrs in boxes}

    def capacity_inputs(self) -> dict[str, str]:
        page = self.page()
        return dict(re.findall(r'id="capacity-([a-z-]+)"[^>]*value="([^"]*)"', page))


def confirm_by_mail(client: httpx.Client, mailbox: list[Any]) -> str:
    """Open the link of the last mail received (what confirms a registration's address)."""
    found = re.search(r"https?://\S+", mailbox[-1].get_content())
    assert found, "the mail carries the personal link"
    assert client.get(found.group(0)).status_code == 200
    return found.group(0)


@pytest.fixture
def desk(live_server: LiveServer) -> Iterator[Desk]:
    with httpx.Client(timeout=30, follow_redirects=True) as client:
        yield Desk(live_server, client)


def crowd(desk: Desk, n: int, *wishes: str) -> list[str]:
    """n people with the same wishes; their personal links."""
    return [desk.register(f"Personne {i:02d}", *wishes) for i in range(n)]


# -- who may use it ----------------------------------------------------------------------


def test_only_an_organizer_link_opens_the_desk(desk: Desk) -> None:
    assert desk.get(k="").status_code == 401
    assert desk.get(k="forged.token").status_code == 401
    assert desk.get(k=desk.server.link(EVENT, "facilitator")).status_code == 403
    assert desk.get(k=desk.server.link("poitiers-2020", "organizer")).status_code == 403
    page = desk.page()
    assert "Organisation" in page and "Lancer l'affectation" in page
    assert (
        desk.client.get(f"{desk.server.url}/e/nope/organize", params={"k": desk.k}).status_code
        == 404
    )


def test_a_facilitator_link_changes_nothing(desk: Desk) -> None:
    desk.register("Alice Durand", "atelier-acces")
    facilitator = desk.server.link(EVENT, "facilitator")
    person = next(iter(desk.people().values()))["id"]
    attempts = [
        ("/workshops", {"workshop": "atelier-acces", "capacity-atelier-acces": "3"}),
        ("/pin", {"person": person, "workshop": "atelier-enseigner"}),
        ("/assign", {"seed": "1"}),
        ("/publish", {}),
        ("/revoke", {"link": desk.k}),
        (f"/person/{person}/erase", {}),
    ]
    for path, data in attempts:
        assert desk.post(path, data=data, k=facilitator).status_code == 403, path
    assert desk.get(f"/person/{person}.json", k=facilitator).status_code == 403
    assert desk.get("/registrations.csv", k=facilitator).status_code == 403
    row = desk.people()["alice.durand@example.fr"]
    assert (row["pinned"], row["placement"]) == ("", "")
    assert desk.capacity_inputs()["atelier-acces"] == "30"
    assert desk.get().status_code == 200  # the organizer link was not revoked


# -- workshops, pins, the run ------------------------------------------------------------


def test_a_smaller_capacity_limits_the_next_run(desk: Desk) -> None:
    crowd(desk, 5, "atelier-acces", "atelier-enseigner")
    r = desk.workshops(atelier_acces={"capacity": 2})
    assert r.status_code == 200 and "Ateliers enregistrés" in r.text
    assert desk.capacity_inputs()["atelier-acces"] == "2"
    desk.run()
    counts = list(desk.placements().values())
    assert counts.count("atelier-acces") == 2 and counts.count("atelier-enseigner") == 3


def test_a_closed_workshop_gets_nobody_and_reopens(desk: Desk) -> None:
    crowd(desk, 3, "atelier-acces", "atelier-enseigner")
    desk.workshops(atelier_acces={"open": False})
    assert desk.open_boxes() == {w: w != "atelier-acces" for w in desk.open_boxes()}
    desk.run()
    assert set(desk.placements().values()) == {"atelier-enseigner"}
    desk.workshops(atelier_acces={"open": True})
    desk.run()
    assert set(desk.placements().values()) == {"atelier-acces"}


def test_a_workshop_below_its_minimum_is_closed_and_people_go_elsewhere(desk: Desk) -> None:
    crowd(desk, 2, "atelier-ensemble", "atelier-acces")
    desk.workshops(atelier_ensemble={"min_size": 3})
    desk.run()
    assert set(desk.placements().values()) == {"atelier-acces"}
    report = desk.page("/report")
    assert "Ateliers fermés faute d'effectif minimum" in report
    fill = {row["key"]: row for row in desk.csv("report") if row["section"] == "workshop"}
    assert fill["atelier-ensemble"]["status"] == "below_minimum"
    assert fill["atelier-ensemble"]["min_size"] == "3"


def test_a_pinned_person_stays_pinned_whatever_the_seed(desk: Desk) -> None:
    crowd(desk, 4, "atelier-acces")
    person = desk.people()["personne.00@example.fr"]["id"]
    r = desk.post("/pin", data={"person": person, "workshop": "atelier-gouvernance"})
    assert r.status_code == 200 and "Personne épinglée" in r.text
    for seed in (1, 2, 3):
        desk.run(seed)
        row = desk.people()["personne.00@example.fr"]
        assert (row["pinned"], row["placement"], row["rank"]) == (
            "atelier-gouvernance",
            "atelier-gouvernance",
            "0",
        )
    desk.post("/pin", data={"person": person, "workshop": ""})
    desk.run()
    assert desk.people()["personne.00@example.fr"]["placement"] == "atelier-acces"


def test_the_same_seed_gives_the_same_placements(desk: Desk) -> None:
    crowd(desk, 8, "atelier-acces", "atelier-enseigner")
    desk.workshops(atelier_acces={"capacity": 4})
    runs = {}
    for seed in (42, 7, 42, 123, 9):
        assert desk.run(seed).status_code == 200
        assert f'<span class="seed" id="seed">{seed}</span>' in desk.page()
        runs.setdefault(seed, []).append(desk.placements())
    assert runs[42][0] == runs[42][1]
    assert len({tuple(sorted(p[0].items())) for p in runs.values()}) > 1, "the seed matters"


def test_a_blank_seed_draws_one_and_keeps_it(desk: Desk) -> None:
    crowd(desk, 3, "atelier-acces")
    desk.post("/assign", data={"seed": ""})
    match = re.search(r'id="seed">(\d+)<', desk.page())
    assert match
    seed = match.group(1)
    assert desk.page("/report").count(seed) >= 1


# -- confirmations, late registrations -----------------------------------------------------


def test_a_late_registration_fills_a_seat_without_moving_confirmed_people(desk: Desk) -> None:
    crowd(desk, 4, "atelier-acces", "atelier-enseigner")
    desk.workshops(atelier_acces={"capacity": 3})
    desk.run(5)
    r = desk.post("/publish")
    assert r.status_code == 200 and "4 personnes nouvellement confirmées" in r.text
    before = desk.placements()
    late = desk.register("Zoé Tardive", "atelier-acces", "atelier-enseigner")
    for seed in (5, 6, 7):
        desk.run(seed)
        after = desk.placements()
        assert {e: after[e] for e in before} == before
        assert after["zoé.tardive@example.fr"] == "atelier-enseigner"  # acces is full
    r = desk.post("/publish")
    assert "1 personne nouvellement confirmée" in r.text
    page = html.unescape(desk.client.get(late).text)
    assert "Enseigner et apprendre avec le numérique" in page and "Salle 101" in page


def test_publishing_before_any_run_is_refused(desk: Desk) -> None:
    desk.register("Alice Durand", "atelier-acces")
    r = desk.post("/publish")
    assert r.status_code == 409 and "Lancez d'abord l'affectation" in html.unescape(r.text)
    assert desk.people()["alice.durand@example.fr"]["confirmed"] == ""


# -- report and CSV files ------------------------------------------------------------------


def test_the_report_counts_match_the_placements(desk: Desk) -> None:
    crowd(desk, 5, "atelier-acces", "atelier-enseigner", "atelier-ensemble")
    desk.register("Sans Voeu")
    desk.workshops(
        atelier_acces={"capacity": 2},
        atelier_enseigner={"capacity": 1},
        atelier_ensemble={"capacity": 1},
    )
    desk.run(3)
    ranks = [row["rank"] for row in desk.people().values()]
    rows = desk.csv("report")
    overall = next(row for row in rows if row["section"] == "overall")
    assert overall["people"] == "6"
    assert overall["wish_1"] == str(ranks.count("1")) == "2"
    assert overall["wish_2"] == str(ranks.count("2")) == "1"
    assert overall["wish_3"] == str(ranks.count("3")) == "1"
    assert overall["unplaced"] == str(ranks.count("")) == "2"
    assert overall["no_wishes"] == "1"
    site = next(row for row in rows if row["section"] == "site")
    assert (site["key"], site["people"]) == ("foix", "6")
    category = next(row for row in rows if row["section"] == "category")
    assert (category["key"], category["people"]) == ("professeur", "6")
    fill = {row["key"]: row["people"] for row in rows if row["section"] == "workshop"}
    assert fill["atelier-acces"] == "2" and fill["atelier-gouvernance"] == "0"
    page = desk.page("/report")
    assert 'role="img"' in page and "<table" in page
    assert "Vœu 1 : 2 (33 %)" in page and "Non placée : 2 (33 %)" in page


def test_the_report_page_before_any_run_says_so(desk: Desk) -> None:
    assert "L'affectation n'a pas encore été lancée" in desk.page("/report")
    assert desk.get("/report.csv").status_code == 409


def test_the_confirmations_csv_lists_a_working_link_per_confirmed_person(desk: Desk) -> None:
    links = crowd(desk, 2, "atelier-enseigner")
    desk.register("Pas Placé", "atelier-acces")
    desk.workshops(atelier_acces={"open": False})
    desk.run()
    desk.post("/publish")
    rows = sorted(desk.csv("confirmations"), key=lambda r: r["email"])
    assert [r["email"] for r in rows] == ["personne.00@example.fr", "personne.01@example.fr"]
    first = rows[0]
    assert first["room"] == "Salle 101" and first["times"] == "14:15–16:15"
    assert first["workshop"].startswith("Enseigner et apprendre")
    assert first["site"] == "Centre universitaire d'Ariège"
    assert [r["link"] for r in rows] == links, "the link given at registration, still valid"
    again = sorted(desk.csv("confirmations"), key=lambda r: r["email"])
    assert again == rows, "downloading again mints nothing new"
    page = html.unescape(desk.client.get(first["link"]).text)
    assert "Salle 101" in page


def test_the_registrations_csv_can_be_imported_elsewhere(desk: Desk) -> None:
    desk.register("Alice Durand", "atelier-acces", "atelier-enseigner", accessibility="=1+1")
    rows = desk.csv("registrations")
    assert rows[0]["wish1"] == "atelier-acces" and rows[0]["wish2"] == "atelier-enseigner"
    assert rows[0]["accessibility"] == "'=1+1", "a formula is never run by a spreadsheet"
    assert set(rows[0]) >= {"name", "email", "category", "site", "wish3", "accessibility"}


def test_csv_columns_are_in_french_and_a_french_list_imports_back(desk: Desk) -> None:
    desk.register("Alice Durand", "atelier-acces", "atelier-enseigner", group="g1")
    r = desk.client.get(f"{desk.base}/registrations.csv", params={"k": desk.k})
    french = r.content.decode("utf-8-sig")
    header = french.splitlines()[0].split(";")
    assert header[:5] == ["id", "nom", "courriel", "catégorie", "site"] and "voeu1" in header
    desk.run()
    assert "affectation" in french.splitlines()[0]
    report = desk.client.get(f"{desk.base}/report.csv", params={"k": desk.k}).text
    assert report.lstrip("\ufeff").startswith("rubrique;élément;personnes;voeu1")
    # The same list, given back as a file on another event's desk, reads the same.
    other = french.replace("alice.durand@example.fr", "alice.d@example.fr")
    r = desk.post("/import", files={"file": ("liste.csv", other.encode("utf-8-sig"))})
    assert "1 inscription ajoutée" in html.unescape(r.text), html.unescape(r.text)[:2000]
    alice = desk.people()["alice.d@example.fr"]
    assert alice["wish1"] == "atelier-acces" and alice["group"] == "g1"


def test_the_confirmations_list_reads_in_french_and_in_english_on_request(desk: Desk) -> None:
    desk.register("Alice Durand", "atelier-acces")
    desk.run()
    desk.post("/publish")
    r = desk.client.get(f"{desk.base}/confirmations.csv", params={"k": desk.k})
    french = r.content.decode("utf-8-sig").splitlines()[0]
    assert french == "nom;courriel;site;atelier;salle;horaires;visio;lien"
    (alice,) = desk.csv("confirmations", lang="en")
    assert alice["name"] == "Alice Durand" and alice["room"] == "Amphi A"


# -- links and personal data ---------------------------------------------------------------


def test_a_revoked_personal_link_is_refused(desk: Desk) -> None:
    link = desk.register("Alice Durand", "atelier-acces")
    assert desk.client.get(link).status_code == 200
    r = desk.post("/revoke", data={"link": link})
    assert r.status_code == 200 and "Lien révoqué" in html.unescape(r.text)
    assert desk.client.get(link).status_code == 403
    desk.run()
    desk.post("/publish")
    fresh = desk.csv("confirmations")[0]["link"]
    assert fresh != link and desk.client.get(fresh).status_code == 200


def test_a_bare_token_can_be_revoked_too(desk: Desk) -> None:
    screen = desk.server.link(EVENT, "screen", site="foix")
    desk.post("/revoke", data={"link": screen})
    assert (
        desk.client.get(f"{desk.server.url}/e/{EVENT}/screen", params={"k": screen}).status_code
        == 403
    )


def test_a_forged_or_foreign_link_cannot_be_revoked(desk: Desk) -> None:
    link = desk.register("Alice Durand", "atelier-acces")
    forged = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    for bad in (forged, "nonsense", "", desk.server.link("poitiers-2020", "screen")):
        r = desk.post("/revoke", data={"link": bad})
        assert r.status_code == 422, bad
        assert "Ce lien ne peut pas être révoqué" in html.unescape(r.text)
        assert "Rien n'a été modifié" in html.unescape(r.text)
    assert desk.client.get(link).status_code == 200


def test_a_persons_data_is_exported_then_erased(desk: Desk) -> None:
    link = desk.register("Alice Durand", "atelier-acces", accessibility="fauteuil")
    desk.run(4)
    person = desk.people()["alice.durand@example.fr"]["id"]
    r = desk.get(f"/person/{person}.json")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    data = r.json()
    assert data["registration"]["name"] == "Alice Durand"
    assert data["registration"]["email"] == "alice.durand@example.fr"
    assert data["registration"]["accessibility"] == "fauteuil"
    assert data["registration"]["wishes"] == ["atelier-acces"]
    assert data["assignment"] == {
        "placement": "atelier-acces",
        "rank": 1,
        "seed": 4,
        "at": data["assignment"]["at"],
    }
    r = desk.post(f"/person/{person}/erase")
    assert r.status_code == 200 and "sont effacées" in html.unescape(r.text)
    assert desk.people() == {}
    assert desk.get(f"/person/{person}.json").status_code == 404
    assert desk.client.get(link).status_code == 403
    assert desk.csv("report")[0]["people"] == "0", "nor counted in the report"
    desk.register("Alice Durand", "atelier-enseigner")  # the address is free again
    again = desk.people()["alice.durand@example.fr"]
    assert again["id"] != person and again["placement"] == ""


def test_a_csv_import_stores_good_rows_and_reports_the_others(desk: Desk) -> None:
    desk.register("Déjà Inscrite", "atelier-acces")
    text = (
        "name;email;category;site;wish1;wish2;wish3\n"
        "Bruno Petit;bruno@example.fr;parent;foix;atelier-acces;atelier-enseigner;\n"
        "Chloé Grand;chloe@example.fr;parent;foix;atelier-inconnu;;\n"
        ";sans-nom@example.fr;parent;foix;;;\n"
        "Déjà Inscrite;déjà.inscrite@example.fr;parent;foix;;;\n"
        "Damien Roux;damien@example.fr;élève;foix;atelier-ensemble;atelier-ensemble;\n"
        "Eva Blanc;eva@example.fr;professeur;foix;;;\n"
    )
    files = {"file": ("liste.csv", text.encode("utf-8"), "text/csv")}
    r = desk.post("/import", files=files)
    page = html.unescape(r.text)
    assert r.status_code == 200
    assert "2 inscriptions ajoutées, 1 déjà inscrite, 3 lignes refusées" in page
    assert "Ligne 3 (chloe@example.fr) : wishes — Atelier inconnu." in page
    assert "Ligne 4 (sans-nom@example.fr) : name — Ce champ est obligatoire." in page
    assert "Ligne 5 (déjà.inscrite@example.fr) : adresse déjà inscrite" in page
    assert "Ligne 6 (damien@example.fr) : wishes — Le même atelier est choisi deux fois." in page
    people = desk.people()
    assert sorted(people) == ["bruno@example.fr", "déjà.inscrite@example.fr", "eva@example.fr"]
    assert people["bruno@example.fr"]["wish2"] == "atelier-enseigner"


def test_a_windows_spreadsheet_export_imports(desk: Desk) -> None:
    text = (
        "name,email,category,site,wish1\r\n"
        "Éloïse Noël,eloise@example.fr,élève,foix,atelier-acces\r\n"
    )
    files = {"file": ("liste.csv", text.encode("cp1252"), "text/csv")}
    assert desk.post("/import", files=files).status_code == 200
    assert desk.people()["eloise@example.fr"]["name"] == "Éloïse Noël"


def test_an_import_without_a_usable_file_is_refused(desk: Desk) -> None:
    for files in (
        {"file": ("vide.csv", b"name;email\n", "text/csv")},
        {"other": ("x.csv", b"name;email\nA;a@example.fr\n", "text/csv")},
    ):
        r = desk.post("/import", files=files)
        assert r.status_code == 422 and "Rien n'a été modifié" in html.unescape(r.text)
    assert desk.people() == {}


# -- bad input: a message, and nothing changed ---------------------------------------------


@pytest.mark.parametrize("capacity", ["abc", "0", "-1", "", "2.5", "1e3", "9999999"])
def test_a_capacity_that_is_not_a_positive_integer_is_refused(desk: Desk, capacity: str) -> None:
    r = desk.workshops(atelier_acces={"capacity": capacity}, atelier_enseigner={"capacity": 5})
    assert r.status_code == 422
    page = html.unescape(r.text)
    assert "« Places » : un nombre entier d'au moins 1 est attendu" in page
    assert "Rien n'a été modifié" in page
    assert desk.capacity_inputs()["atelier-enseigner"] == "30"


def test_a_minimum_above_the_capacity_is_refused(desk: Desk) -> None:
    r = desk.workshops(atelier_acces={"capacity": 5, "min_size": 6})
    assert r.status_code == 422 and "dépasse le nombre de places" in html.unescape(r.text)
    assert desk.capacity_inputs()["atelier-acces"] == "30"


def test_settings_for_an_unknown_workshop_are_refused(desk: Desk) -> None:
    form = {"workshop": ["atelier-acces", "atelier-fantome"], "open": "atelier-acces"}
    r = desk.post("/workshops", data={**form, "capacity-atelier-acces": "3"})
    assert r.status_code == 404 and "Atelier inconnu : « atelier-fantome »" in html.unescape(r.text)
    assert desk.capacity_inputs()["atelier-acces"] == "30"
    assert desk.post("/workshops", data={}).status_code == 422


def test_confirmed_people_keep_their_seats_and_their_workshop_open(desk: Desk) -> None:
    crowd(desk, 3, "atelier-acces")
    desk.run()
    desk.post("/publish")
    r = desk.workshops(atelier_acces={"capacity": 2})
    assert r.status_code == 409 and "3 personnes y sont épinglées ou confirmées" in r.text
    r = desk.workshops(atelier_acces={"open": False})
    assert r.status_code == 409 and "déplacez-les avant" in html.unescape(r.text)
    assert desk.capacity_inputs()["atelier-acces"] == "30"


def test_pinning_an_unknown_person_or_workshop_is_refused(desk: Desk) -> None:
    desk.register("Alice Durand", "atelier-acces")
    person = desk.people()["alice.durand@example.fr"]["id"]
    cases = [
        ({"person": "inconnu", "workshop": "atelier-acces"}, 404, "Personne inconnue"),
        ({"person": "", "workshop": "atelier-acces"}, 404, "Personne inconnue"),
        ({"person": person, "workshop": "atelier-fantome"}, 404, "Atelier inconnu"),
    ]
    for data, status, message in cases:
        r = desk.post("/pin", data=data)
        assert r.status_code == status and message in html.unescape(r.text), data
    desk.workshops(atelier_enseigner={"open": False})
    r = desk.post("/pin", data={"person": person, "workshop": "atelier-enseigner"})
    assert r.status_code == 409 and "est fermé" in html.unescape(r.text)
    assert desk.people()["alice.durand@example.fr"]["pinned"] == ""


def test_pinning_to_another_sites_workshop_is_refused(live_server: LiveServer) -> None:
    event = "poitiers-2020"
    k = live_server.link(event, "organizer")
    with httpx.Client(follow_redirects=True) as client:
        form = {"name": "Léa Niortaise", "email": "lea@example.fr", "category": "parent",
                "site": "niort", "wish1": "enseigner-niort", "consent": "on"}  # fmt: skip
        assert client.post(f"{live_server.url}/e/{event}/register", data=form).status_code == 200
        base = f"{live_server.url}/e/{event}/organize"
        rows = client.get(f"{base}/registrations.csv", params={"k": k}).content.decode("utf-8-sig")
        person = next(csv.DictReader(io.StringIO(rows), delimiter=";"))["id"]
        r = client.post(f"{base}/pin", params={"k": k},
                        data={"person": person, "workshop": "acces-poitiers"})  # fmt: skip
        assert (
            r.status_code == 422
            and "n'a pas lieu sur le site de Léa Niortaise" in html.unescape(r.text)
        )


def test_unknown_people_cannot_be_exported_or_erased(desk: Desk) -> None:
    assert desk.get("/person/inconnu.json").status_code == 404
    r = desk.post("/person/inconnu/erase")
    assert r.status_code == 404 and "Personne inconnue" in html.unescape(r.text)


@pytest.mark.parametrize("seed", ["abc", "-3", "1.5", "99999999999999999999"])
def test_a_seed_that_is_not_a_whole_number_is_refused(desk: Desk, seed: str) -> None:
    desk.register("Alice Durand", "atelier-acces")
    r = desk.run(seed)
    assert r.status_code == 422 and "« Graine »" in html.unescape(r.text)
    assert desk.people()["alice.durand@example.fr"]["placement"] == ""


def test_an_impossible_run_explains_why_and_keeps_the_previous_result(desk: Desk) -> None:
    desk.register("Groupe Un", "atelier-acces", group="g1")
    desk.register("Groupe Deux", "atelier-acces", group="g1")
    desk.run(1)
    before = desk.placements()
    people = desk.people()
    desk.post(
        "/pin", data={"person": people["groupe.un@example.fr"]["id"], "workshop": "atelier-acces"}
    )
    desk.post(
        "/pin",
        data={"person": people["groupe.deux@example.fr"]["id"], "workshop": "atelier-enseigner"},
    )
    r = desk.run(2)
    assert r.status_code == 409
    page = html.unescape(r.text)
    assert "L'affectation est impossible" in page and "g1" in page
    assert desk.placements() == before


# -- confirmation e-mails, with an SMTP server ----------------------------------------------


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: every message lands in `server.messages`."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 test")
        while line := self.rfile.readline():
            verb = line[:4].decode().upper()
            if verb == "DATA":
                self.reply("354 go on")
                body = b"".join(iter(self.rfile.readline, b".\r\n"))
                self.server.messages.append(
                    email.message_from_bytes(body, policy=email.policy.default)
                )  # type: ignore[attr-defined]
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def mailed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Desk, list[Any]]]:
    """A server configured with an SMTP host, and the messages that host received."""
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    smtp.messages = []  # type: ignore[attr-defined]
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    monkeypatch.setenv("RELAIS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RELAIS_SMTP_PORT", str(smtp.server_address[1]))
    server = LiveServer(tmp_path / "data")
    server.start()
    try:
        with httpx.Client(timeout=30, follow_redirects=True) as client:
            desk = Desk(server, client)
            desk.mailbox = smtp.messages  # type: ignore[attr-defined]
            yield desk, smtp.messages  # type: ignore[attr-defined]
    finally:
        server.stop()
        smtp.shutdown()
        smtp.server_close()


def test_confirming_sends_each_new_person_their_workshop_and_link(
    mailed: tuple[Desk, list[Any]],
) -> None:
    desk, messages = mailed
    link = desk.register("Alice Durand", "atelier-enseigner")
    registered = len(messages)  # the registration receipt, if the form sends one
    desk.run()
    r = desk.post("/publish")
    assert "1 personne nouvellement confirmée ; 1 courriel envoyé" in html.unescape(r.text)
    assert len(messages) == registered + 1
    confirmation = messages[-1]
    assert confirmation["To"] == "alice.durand@example.fr"
    body = confirmation.get_content()
    assert "Salle 101" in body and link in body, "the same link as at registration"
    assert desk.client.get(link).status_code == 200
    desk.post("/publish")
    assert len(messages) == registered + 1, "nobody is told twice"


def test_attendance_counted_on_the_day_appears_in_the_synthesis(desk: Desk) -> None:
    assert (
        "Présences enregistrées : 87 personnes."
        in desk.post("/attendance", {"present-foix": "87"}).text
    )
    refused = desk.post("/attendance", {"present-foix": "-3"})
    assert refused.status_code == 422
    synthesis = desk.client.get(
        f"{desk.server.url}/e/{EVENT}/synthesis", params={"format": "md", "k": desk.k}
    )
    assert "87 présents" in synthesis.text


def test_the_organizer_can_show_a_persons_own_link(desk: Desk) -> None:
    link = desk.register("Alice Durand", "atelier-acces")
    person = desk.people()["alice.durand@example.fr"]["id"]
    page = desk.page()
    assert f"/person/{person}/link" in page and "Renvoyer par courriel" not in page  # no SMTP
    r = desk.post(f"/person/{person}/link", data={"action": "show"})
    assert r.status_code == 200
    assert f'<a href="{link}">' in html.unescape(r.text), "the link she already has"
    assert desk.client.get(link).status_code == 200, "still valid"
    r = desk.post(f"/person/{person}/link", data={"action": "send"})
    assert r.status_code == 409 and "Aucun serveur de courriel" in html.unescape(r.text)


def test_a_lost_link_is_sent_again_by_email(mailed: tuple[Desk, list[Any]]) -> None:
    desk, messages = mailed
    link = desk.register("Alice Durand", "atelier-enseigner")
    before = len(messages)
    person = desk.people()["alice.durand@example.fr"]["id"]
    r = desk.post(f"/person/{person}/link", data={"action": "send"})
    assert "envoyé à alice.durand@example.fr" in html.unescape(r.text)
    assert len(messages) == before + 1 and link in messages[-1].get_content()


def test_a_link_sent_again_is_in_the_persons_language_not_the_desks(
    mailed: tuple[Desk, list[Any]],
) -> None:
    desk, messages = mailed
    with httpx.Client(timeout=30, follow_redirects=True) as phone:  # her own, in English
        form = {"name": "Jane Doe", "email": "jane.doe@example.org", "category": "professeur"}
        form |= {"site": "foix", "wish1": "atelier-acces", "consent": "on"}
        r = phone.post(f"{desk.server.url}/e/{EVENT}/register?lang=en", data=form)
        assert r.status_code == 200, r.text
        confirm_by_mail(phone, messages)
    person = desk.people()["jane.doe@example.org"]["id"]
    r = desk.post(f"/person/{person}/link", data={"action": "send"})  # the French desk
    assert "envoyé à jane.doe@example.org" in html.unescape(r.text)
    resent = messages[-1]
    assert resent["To"] == "jane.doe@example.org"
    assert resent["Subject"].startswith("Registration received")
    assert "Hello Jane Doe" in resent.get_content()


def test_the_link_of_an_unknown_person_is_refused(desk: Desk) -> None:
    r = desk.post("/person/nobody/link", data={"action": "show"})
    assert r.status_code == 404
    facilitator = desk.server.link(EVENT, "facilitator")
    assert (
        desk.post("/person/nobody/link", data={"action": "show"}, k=facilitator).status_code == 403
    )
