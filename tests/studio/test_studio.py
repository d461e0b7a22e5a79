"""The organizer studio, on the real server: who may create and edit an event; a new event
from each model served at once; every problem shown next to its field, in French, where
`relais import` places the same fault in a file; YAML exported and imported back unchanged.
The administration's pages (archive, delete, the admin link): test_admin.py."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from live.backends.sqlite import SQLiteBackend
from live.cli import main
from live.event_file import parse_event
from tests.support.servers import LiveServer
from tests.support.studio_forms import form_fields, notes_at, value_of

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"
ARIEGE, POITIERS = "ariege-2020", "poitiers-2020"


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        yield client


def admin(server: LiveServer) -> str:
    return server.signer.sign_admin()


def studio_page(server: LiveServer, http: httpx.Client, event: str) -> str:
    r = http.get(f"/e/{event}/studio", params={"k": server.link(event, "organizer")})
    assert r.status_code == 200
    return r.text


def save(
    server: LiveServer, http: httpx.Client, event: str, fields: dict[str, str]
) -> httpx.Response:
    token = server.link(event, "organizer")
    return http.post(f"/e/{event}/studio", params={"k": token}, data={**fields, "op": "save"})


def snapshot(server: LiveServer, event: str) -> dict[str, Any]:
    with connect(f"{server.ws_url}/ws/events/{event}") as ws:
        ws.send(json.dumps({"type": "hello"}))
        while True:
            msg = json.loads(ws.recv(timeout=5))
            if msg["type"] == "snapshot":
                return dict(msg)


def import_problems(
    text: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> list[str]:
    """What `relais import` prints for this file in a French terminal, as the studio's
    pages are by default: `file:line: field: reason` lines."""
    monkeypatch.setenv("RELAIS_DATA", str(tmp_path / "cli-data"))
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    path = tmp_path / "event.yaml"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["import", str(path)]) == 2
    return capsys.readouterr().err.strip().splitlines()


def reason(problem: str) -> tuple[int, str, str]:
    """(line, field, reason) of one `file:line: field: reason` line."""
    match = re.fullmatch(r".*?:(\d+): (\S+): (.*)", problem)
    assert match, problem
    return int(match.group(1)), match.group(2), match.group(3)


def stored(server: LiveServer, kind: str, prefix: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        backend = SQLiteBackend(server.data_dir / "relais.sqlite3")
        await backend.open()
        try:
            return await backend.list_records(kind, prefix)
        finally:
            await backend.close()

    return asyncio.run(read())


# -- who may -------------------------------------------------------------------------------


def test_creating_an_event_needs_the_admin_link(
    live_server: LiveServer, http: httpx.Client
) -> None:
    form = {"model": "ariege", "id": "foix-2026", "title": "Foix", "date": "2026-09-30"}
    for token, status in (
        (None, 401),
        (live_server.link(ARIEGE, "organizer"), 401),  # an event's link is no admin link
        (live_server.link(ARIEGE, "facilitator"), 401),
        (admin(live_server)[:-3] + "abc", 401),
    ):
        assert http.get("/studio/new", params={"k": token} if token else {}).status_code == status
        r = http.post("/studio/new", params={"k": token} if token else {}, data=form)
        assert r.status_code == status
        assert http.get("/admin", params={"k": token} if token else {}).status_code == status
    assert http.get("/e/foix-2026").status_code == 404  # nothing was created
    r = http.post("/studio/new", params={"k": admin(live_server)}, data=form)
    assert r.status_code == 303 and http.get("/e/foix-2026").status_code == 200


def test_an_admin_link_is_never_an_event_link_nor_the_reverse() -> None:
    from live.links.signing import LinkError, Signer

    signer = Signer("s")

    def refused(check: Any) -> str:
        with pytest.raises(LinkError) as exc:
            check()
        return exc.value.code

    admin_token = signer.sign_admin()
    assert signer.verify_admin(admin_token).role == "admin"
    for event in ("", ARIEGE):
        assert refused(lambda: signer.verify(admin_token, event)) == "link_invalid"  # noqa: B023
    organizer = signer.sign(ARIEGE, "organizer")
    assert refused(lambda: signer.verify_admin(organizer)) == "link_invalid"
    # An event link claiming the admin role is refused by both.
    claimed = signer.sign("", "admin")
    assert refused(lambda: signer.verify(claimed, "")) == "link_invalid"
    assert refused(lambda: signer.verify_admin(claimed)) == "link_invalid"
    old = signer.sign_admin(days=1, now=0)
    assert refused(lambda: signer.verify_admin(old)) == "link_expired"
    assert refused(lambda: Signer("other").verify_admin(admin_token)) == "link_invalid"


def test_an_admin_link_opens_no_page_of_an_event_but_its_studio(
    live_server: LiveServer, http: httpx.Client
) -> None:
    token = admin(live_server)
    for page in ("console", "organize", "screen", "me", "links"):
        r = http.get(f"/e/{ARIEGE}/{page}", params={"k": token})
        assert r.status_code == 401, page
    with connect(f"{live_server.ws_url}/ws/events/{ARIEGE}?k={token}") as ws:
        assert json.loads(ws.recv(timeout=5))["code"] == "link_invalid"
    assert http.get(f"/e/{ARIEGE}/studio", params={"k": token}).status_code == 200


def test_editing_needs_the_organizer_link_of_that_event(
    live_server: LiveServer, http: httpx.Client
) -> None:
    fields = form_fields(studio_page(live_server, http, ARIEGE))
    fields["title"] = "Titre changé"
    refused = {
        live_server.link(POITIERS, "organizer"): 403,  # another event's organizer
        live_server.link(ARIEGE, "facilitator"): 403,  # this event, another role
        live_server.link(ARIEGE, "screen", site="foix"): 403,
    }
    for token, status in refused.items():
        assert http.get(f"/e/{ARIEGE}/studio", params={"k": token}).status_code == status
        r = http.post(f"/e/{ARIEGE}/studio", params={"k": token}, data=fields)
        assert r.status_code == status
    assert http.post(f"/e/{ARIEGE}/studio", data=fields).status_code == 401
    assert "Titre changé" not in http.get(f"/e/{ARIEGE}").text


# -- a new event ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["ariege", "poitiers", "grand-est", "blank"])
def test_a_new_event_from_each_model_is_served_at_once(
    live_server: LiveServer, http: httpx.Client, model: str
) -> None:
    form = {"model": model, "id": f"new-{model}", "title": "Rencontres 2026", "date": "2026-10-13"}
    r = http.post("/studio/new", params={"k": admin(live_server)}, data=form)
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"/e/new-{model}/studio?k=")
    page = http.get(r.headers["location"])
    assert page.status_code == 200 and "Événement créé" in page.text
    public = http.get(f"/e/new-{model}")
    assert public.status_code == 200 and "Rencontres 2026" in public.text
    assert snapshot(live_server, f"new-{model}")["state"]["seq"] == 0
    text = http.get(f"/e/new-{model}/studio/export", params={"k": admin(live_server)}).text
    event = parse_event(text)
    assert (event.id, str(event.date)) == (f"new-{model}", "2026-10-13")
    if model != "blank":  # the model's day, under the new id and date
        demo = parse_event((DEMO / f"{model}-2020.yaml").read_text(encoding="utf-8"))
        assert event.agenda == demo.agenda and event.workshops == demo.workshops


def test_a_new_event_refuses_a_taken_id_at_its_field(
    live_server: LiveServer, http: httpx.Client
) -> None:
    form = {"model": "blank", "id": ARIEGE, "title": "", "date": "2026-10-13"}
    r = http.post("/studio/new", params={"k": admin(live_server)}, data=form)
    assert r.status_code == 422
    assert notes_at(r.text, "id") == [
        "Un événement porte déjà cet identifiant : choisissez-en un autre."
    ]


# -- one validator: the form finds what `relais import` finds, and says it in French ----------


FAULTS = {
    # name: (field changed in the form, its new value, the YAML line changed: old, new,
    #        what the form says next to the field, naming another place by its field)
    "a step starting before the previous one": (
        "agenda.2.start",
        "13:00",
        ('start: "16:15"', 'start: "13:00"'),
        "L'étape « pause » commence à 13:00, avant l'étape « ateliers » (Étape 2 › Début, "
        "14:15) : les étapes se suivent dans l'ordre chronologique.",
    ),
    "a workshop on an unknown site": (
        "workshops.0.site",
        "pamiers",
        ("site: foix, room: Amphi A", "site: pamiers, room: Amphi A"),
        "Aucun site n'a l'identifiant « pamiers ».",
    ),
    "a duplicate step id": (
        "agenda.2.id",
        "ateliers",
        ("- id: pause\n", "- id: ateliers\n"),
        "L'identifiant « ateliers » est déjà utilisé (Étape 2 › Identifiant).",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_is_shown_next_to_its_field_in_french_where_relais_import_places_it(
    live_server: LiveServer,
    http: httpx.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fault: str,
) -> None:
    field, value, (old, new), sentence = FAULTS[fault]
    fields = form_fields(studio_page(live_server, http, ARIEGE))
    fields[field] = value
    r = save(live_server, http, ARIEGE, fields)
    assert r.status_code == 422
    assert notes_at(r.text, field) == [sentence]

    text = (DEMO / f"{ARIEGE}.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    (problem,) = import_problems(text.replace(old, new), tmp_path, monkeypatch, capsys)
    _, where, said = reason(problem)
    assert where.replace("[", ".").replace("]", "") == field  # the same place
    if "›" not in sentence:  # the same sentence (a file names another place by its line)
        assert said == sentence
    assert "1 problème empêche d'enregistrer" in html.unescape(r.text)
    assert f'href="#f-{field}"' in r.text  # the list atop the form leads to the field


def test_what_was_typed_is_kept_when_a_save_is_refused(
    live_server: LiveServer, http: httpx.Client
) -> None:
    fields = form_fields(studio_page(live_server, http, ARIEGE))
    fields.update({"title": "Demi-journée 2026", "agenda.1.duration": "-5"})
    fields.update({"sites.0.name": "Centre universitaire, Foix", "workshops.2.room": "Salle 12"})
    r = save(live_server, http, ARIEGE, fields)
    assert r.status_code == 422
    assert notes_at(r.text, "agenda.1.duration") == ["La valeur doit être supérieure ou égale à 1."]
    after = form_fields(r.text)
    for name in ("title", "agenda.1.duration", "sites.0.name", "workshops.2.room"):
        assert after[name] == fields[name]
    assert after == {**fields, "_rev": after["_rev"]}  # every field as it was posted
    assert "Demi-journée 2026" not in http.get(f"/e/{ARIEGE}").text  # nothing stored


def test_a_problem_with_no_field_of_its_own_shows_atop_its_section(
    live_server: LiveServer, http: httpx.Client
) -> None:
    fields = form_fields(studio_page(live_server, http, POITIERS))
    del fields["sites.0.hub"]  # four sites, none leads
    r = save(live_server, http, POITIERS, fields)
    assert r.status_code == 422
    assert notes_at(r.text, "sites") == [
        "Plusieurs sites et aucun site pivot : cochez « Site pivot » pour celui qui mène "
        "l'événement."
    ]


# -- saving ----------------------------------------------------------------------------------


def test_a_save_is_served_at_once_to_pages_already_open(
    live_server: LiveServer, http: httpx.Client
) -> None:
    fields = form_fields(studio_page(live_server, http, ARIEGE))
    with connect(f"{live_server.ws_url}/ws/events/{ARIEGE}") as ws:
        ws.send(json.dumps({"type": "hello"}))
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
        fields.update({"title": "Demi-journée de l'Ariège", "agenda.0.title": "Ouverture"})
        r = save(live_server, http, ARIEGE, fields)
        assert r.status_code == 303 and r.headers["location"].endswith("done=saved")
        frame = json.loads(ws.recv(timeout=5))
    assert frame["type"] == "definition"
    assert frame["event"]["title"] == "Demi-journée de l'Ariège"
    assert frame["event"]["agenda"][0]["title"] == "Ouverture"
    assert "Demi-journée de l'Ariège" in html.unescape(http.get(f"/e/{ARIEGE}").text)
    page = http.get(r.headers["location"]).text
    assert value_of(page, "agenda.0.title") == "Ouverture"
    assert "Enregistré" in page


def test_a_save_over_a_definition_changed_meanwhile_is_refused(
    live_server: LiveServer, http: httpx.Client
) -> None:
    first = form_fields(studio_page(live_server, http, ARIEGE))
    second = dict(first)
    assert save(live_server, http, ARIEGE, {**first, "title": "Premier"}).status_code == 303
    r = save(live_server, http, ARIEGE, {**second, "title": "Second"})
    assert r.status_code == 409 and "modifié entre-temps" in r.text
    assert value_of(r.text, "title") == "Second"  # kept, to copy from
    assert "Premier" in http.get(f"/e/{ARIEGE}").text


def test_rows_are_added_moved_and_removed_without_script(
    live_server: LiveServer, http: httpx.Client
) -> None:
    token = live_server.link(ARIEGE, "organizer")
    fields = form_fields(studio_page(live_server, http, ARIEGE))

    pages: list[str] = []

    def op(fields: dict[str, str], what: str) -> dict[str, str]:
        r = http.post(f"/e/{ARIEGE}/studio", params={"k": token}, data={**fields, "op": what})
        assert r.status_code == 200
        pages.append(r.text)
        return form_fields(r.text)

    added = op(fields, "add:sites")
    assert added["sites.1.name"] == "" and "sites.1.id" in added
    assert re.search(r'id="f-sites\.1\.name"[^>]* autofocus', pages[-1])  # where to type
    moved = op(fields, "down:agenda.0")
    assert (moved["agenda.0.id"], moved["agenda.1.id"]) == ("ateliers", "pleniere")
    removed = op(fields, "remove:workshops.0")
    assert removed["workshops.0.id"] == "atelier-enseigner" and "workshops.4.id" not in removed
    speaker = op(fields, "add:agenda.1.speakers")
    assert speaker["agenda.1.speakers.0.name"] == ""
    assert "Ateliers par thématiques" in http.get(f"/e/{ARIEGE}").text  # nothing stored


def test_a_running_event_keeps_the_step_it_is_at(
    live_server: LiveServer, http: httpx.Client
) -> None:
    token = live_server.link(ARIEGE, "facilitator")
    with connect(f"{live_server.ws_url}/ws/events/{ARIEGE}?k={token}") as ws:
        args = {"step": "restitution"}
        ws.send(json.dumps({"type": "command", "id": "c1", "name": "step.goto", "args": args}))
        while json.loads(ws.recv(timeout=5)).get("type") != "ack":
            pass
    fields = form_fields(studio_page(live_server, http, ARIEGE))
    kept = {k: v for k, v in fields.items() if not k.startswith(("agenda.3.", "agenda.2."))}
    r = save(live_server, http, ARIEGE, kept)
    assert r.status_code == 409 and "en cours à l'étape 4" in html.unescape(r.text)


# -- YAML in and out -------------------------------------------------------------------------


@pytest.mark.parametrize("event", [ARIEGE, POITIERS, "grand-est-2020"])
def test_an_export_imported_back_exports_the_same(
    live_server: LiveServer, http: httpx.Client, event: str
) -> None:
    token = live_server.link(event, "organizer")
    first = http.get(f"/e/{event}/studio/export", params={"k": token})
    assert first.status_code == 200
    assert first.headers["content-disposition"] == f'attachment; filename="{event}.yaml"'
    demo = parse_event((DEMO / f"{event}.yaml").read_text(encoding="utf-8"))
    assert parse_event(first.text) == demo  # the same event
    files = {"file": (f"{event}.yaml", first.text.encode(), "application/yaml")}
    r = http.post(f"/e/{event}/studio/import", params={"k": token}, files=files)
    assert r.status_code == 303
    assert http.get(f"/e/{event}/studio/export", params={"k": token}).text == first.text


def test_an_imported_file_is_refused_with_the_lines_relais_import_prints(
    live_server: LiveServer,
    http: httpx.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = (DEMO / f"{ARIEGE}.yaml").read_text(encoding="utf-8")
    bad = text.replace("duration: 45", "duration: -5").replace("slot: 12", "slot: 0")
    monkeypatch.chdir(tmp_path)
    lines = import_problems(bad, tmp_path, monkeypatch, capsys)
    token = live_server.link(ARIEGE, "organizer")
    files = {"file": ("event.yaml", bad.encode(), "application/yaml")}
    r = http.post(f"/e/{ARIEGE}/studio/import", params={"k": token}, files=files)
    assert r.status_code == 422
    shown = re.search(r'<pre class="lines">(.*?)</pre>', r.text, re.S)
    assert shown is not None and len(lines) == 2
    assert html.unescape(shown.group(1)).strip().splitlines() == [
        line.replace(str(tmp_path / "event.yaml"), "event.yaml") for line in lines
    ]


def test_an_import_is_bounded(live_server: LiveServer, http: httpx.Client) -> None:
    token = live_server.link(ARIEGE, "organizer")
    big = b"# " + b"x" * (3 * 1024 * 1024)
    files = {"file": ("big.yaml", big, "application/yaml")}
    r = http.post(f"/e/{ARIEGE}/studio/import", params={"k": token}, files=files)
    assert r.status_code == 413


def test_a_refused_import_says_why_in_the_page_language_outside_the_file_lines(
    live_server: LiveServer, http: httpx.Client
) -> None:
    """The file's own problems are `relais import`'s lines; why a whole file is refused
    (not text, another event's) is a sentence of the page, in French."""
    token = live_server.link(ARIEGE, "organizer")
    not_text = {"file": ("latin1.yaml", "title: Journée".encode("latin-1"), "application/yaml")}
    other = (DEMO / "poitiers-2020.yaml").read_bytes()
    for files in (not_text, {"file": ("autre.yaml", other, "application/yaml")}):
        r = http.post(f"/e/{ARIEGE}/studio/import", params={"k": token}, files=files)
        top = re.search(
            r'<div class="card error" role="alert" id="studio-top">(.*?)</div>', r.text, re.S
        )
        assert r.status_code in (413, 422) and top is not None
        assert "<pre" not in top.group(1) and re.search(r"<p>[^<]+</p>", top.group(1))
    admin_token = admin(live_server)
    r = http.post("/studio/import", params={"k": admin_token}, files=not_text)
    top = re.search(
        r'<div class="card error" role="alert" id="studio-top">(.*?)</div>', r.text, re.S
    )
    assert r.status_code == 422 and top is not None and "<pre" not in top.group(1)


def test_the_studio_of_a_seven_site_day_holds_the_loop_no_longer_than_50_ms(
    tmp_path: Path,
) -> None:
    from tests.support.loopcheck import slow_steps

    server = LiveServer(tmp_path / "data", slow_callback=0.05)
    server.start()
    event = "grand-est-2020"
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            page = studio_page(server, http, event)  # the first render compiles templates
            start = len(server.log())
            page = studio_page(server, http, event)
            fields = form_fields(page)
            assert save(server, http, event, {**fields, "title": "Temps fort"}).status_code == 303
            fields = form_fields(studio_page(server, http, event))
            bad = {**fields, "agenda.3.start": "08:00"}
            assert save(server, http, event, bad).status_code == 422
            token = server.link(event, "organizer")
            text = http.get(f"/e/{event}/studio/export", params={"k": token}).text
            files = {"file": ("ge.yaml", text.encode(), "application/yaml")}
            r = http.post(f"/e/{event}/studio/import", params={"k": token}, files=files)
            assert r.status_code == 303
            form = {"model": "grand-est", "id": "ge-2026", "title": "", "date": "2026-10-13"}
            r = http.post("/studio/new", params={"k": admin(server)}, data=form)
            assert r.status_code == 303
            assert http.get("/admin", params={"k": admin(server)}).status_code == 200
            r = http.post("/admin/e/ge-2026/delete", params={"k": admin(server)})
            assert r.status_code == 303
        assert slow_steps(server.log()[start:]) == []
    finally:
        server.stop()
