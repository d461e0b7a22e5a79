"""A public registration form that resists abuse, and personal data that does not linger:
one registration per address under concurrency, one strict address parser, double opt-in
when e-mail is sent, rate limits and a honeypot, private files, erasure that leaves no copy,
retention and `relais purge`, and clear errors for broken imports."""

from __future__ import annotations

import asyncio
import html
import os
import re
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pycrdt import Doc, Text

from live.backends.memory import MemoryBackend
from live.backends.sqlite import SQLiteBackend
from live.cli import main, trusted_proxies
from live.config import Settings, _secret
from live.event_file import parse_event
from live.links.signing import LinkBook, Signer
from live.model import Event
from live.notes.credits import RAPPORTEURS
from live.people import desk as desk_rules
from live.people.address import BadAddress, email_address
from live.people.mailer import Mailer
from live.people.store import Duplicate, People
from live.ratelimit import Limiter
from live.retention import is_past_retention, purge, sweep
from tests.model.test_model import DEMO
from tests.people.test_registration import GOOD as FORM
from tests.support.servers import LiveServer
from tests.support.smtpsink import SMTPSink

EVENT = "ariege-2020"
ARIEGE = parse_event((DEMO / "ariege-2020.yaml").read_text())
HOSTILE_ADDRESSES = [
    "a@b.org,direction",  # once a second SMTP recipient
    "a@b.org;direction",
    "a@b.org,direction@b.org",
    "a@b.org, direction@b.org",
    "<camille@example.fr>",
    "camille@example.fr>",
    "Camille <camille@example.fr>",
    "camille martin@example.fr",
    "camille@@example.fr",
    "camille@exa@mple.fr",
    "camille@example.fr\r\nBcc: direction@b.org",
    "camille@example.fr\ndirection@b.org",
    '"a,b"@example.fr',
    "camille@[192.0.2.1]",
    "x" * 65 + "@example.fr",
    "camille@" + "d" * 250 + ".fr",
]


def registrations(server: LiveServer, event: str = EVENT) -> list[dict[str, Any]]:
    """Every registration stored (counted or not), read from the server's database."""

    async def read() -> list[dict[str, Any]]:
        b = SQLiteBackend(server.data_dir / "relais.sqlite3")
        await b.open()
        try:
            return list((await b.list_records("registration", f"{event}:")).values())
        finally:
            await b.close()

    return asyncio.run(read())


def organizer_csv(server: LiveServer, client: httpx.Client) -> list[str]:
    """The e-mails of the registrations CSV the organizer downloads."""
    k = server.link(EVENT, "organizer")
    r = client.get(f"{server.url}/e/{EVENT}/organize/registrations.csv", params={"k": k})
    lines = r.content.decode("utf-8-sig").splitlines()[1:]
    return [line.split(";")[2] for line in lines]


def link_in(body: str) -> str:
    found = re.search(r"https?://\S+/me\?k=\S+", body)
    assert found, body
    return found.group(0)


# -- one registration per address, even when eight arrive at once ---------------------------


def test_eight_simultaneous_registrations_of_one_address_store_one(
    live_server: LiveServer,
) -> None:
    start = threading.Barrier(8)
    statuses: list[int] = []

    def register(i: int) -> None:
        with httpx.Client(timeout=30) as client:
            start.wait()
            form = FORM | {"name": f"Camille {i}"}
            statuses.append(
                client.post(f"{live_server.url}/e/{EVENT}/register", data=form).status_code
            )

    threads = [threading.Thread(target=register, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 7
    assert len(registrations(live_server)) == 1


# -- one strict address parser: the form, the import, the mailer -----------------------------


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES)
def test_an_address_that_is_not_exactly_one_mailbox_is_refused(address: str) -> None:
    with pytest.raises(BadAddress):
        email_address(address)


def test_ordinary_addresses_are_kept_in_lower_case() -> None:
    assert (
        email_address(" Camille.Martin+ateliers@Example.FR ")
        == "camille.martin+ateliers@example.fr"
    )
    assert email_address("zoé.tardive@académie.fr") == "zoé.tardive@académie.fr"


def test_the_form_refuses_a_second_recipient(live_server: LiveServer) -> None:
    for address in HOSTILE_ADDRESSES:
        r = httpx.post(f"{live_server.url}/e/{EVENT}/register", data=FORM | {"email": address})
        assert r.status_code == 422, address
        assert "Adresse électronique invalide." in html.unescape(r.text)
    assert registrations(live_server) == []


def test_the_import_refuses_a_second_recipient_row_by_row(live_server: LiveServer) -> None:
    rows = [f'Personne {i};"{a}";parent;foix;;;' for i, a in enumerate(HOSTILE_ADDRESSES[:6])]
    text = "name;email;category;site;wish1;wish2;wish3\n" + "\n".join(rows) + "\n"
    text += "Bruno Petit;bruno@example.fr;parent;foix;atelier-acces;;\n"
    k = live_server.link(EVENT, "organizer")
    r = httpx.post(
        f"{live_server.url}/e/{EVENT}/organize/import",
        params={"k": k},
        files={"file": ("liste.csv", text.encode("utf-8"), "text/csv")},
    )
    page = html.unescape(r.text)
    assert r.status_code == 200 and "6 lignes refusées" in page
    assert page.count("email — Adresse électronique invalide.") == 6
    assert [r["email"] for r in registrations(live_server)] == ["bruno@example.fr"]


def test_the_mailer_sends_to_exactly_one_valid_address() -> None:
    with SMTPSink() as sink:
        mailer = Mailer("127.0.0.1", sink.port)
        for hostile in ("a@b.org,direction@b.org", "a@b.org\r\nBcc: direction@b.org"):
            assert not asyncio.run(mailer.send(hostile, "Sujet", "Corps"))
        assert sink.deliveries == []
        assert asyncio.run(mailer.send("camille@example.fr", "Sujet", "Corps"))
        (delivery,) = sink.deliveries
        assert delivery.recipients == ["camille@example.fr"]
        assert delivery.message.get_all("To") == ["camille@example.fr"]


def test_no_address_gets_more_mails_an_hour_than_the_quota() -> None:
    with SMTPSink() as sink:
        mailer = Mailer("127.0.0.1", sink.port, per_hour=2)
        sent = [asyncio.run(mailer.send("victime@example.fr", "S", "B")) for _ in range(4)]
        assert sent == [True, True, False, False]
        assert asyncio.run(mailer.send("autre@example.fr", "S", "B"))
        assert len(sink.deliveries) == 3


# -- double opt-in when e-mail is sent ------------------------------------------------------


@pytest.fixture
def mailed(tmp_path: Path) -> Iterator[tuple[LiveServer, SMTPSink]]:
    """A server that sends e-mail to a real (test) SMTP server."""
    with SMTPSink() as sink:
        server = LiveServer(tmp_path / "data", env=sink.env)
        server.start()
        try:
            yield server, sink
        finally:
            server.stop()


def test_with_email_the_answer_shows_no_link_and_says_nothing_of_the_address(
    mailed: tuple[LiveServer, SMTPSink],
) -> None:
    server, sink = mailed
    url = f"{server.url}/e/{EVENT}/register"
    new = httpx.post(url, data=FORM)
    known = httpx.post(url, data=FORM | {"name": "Quelqu'un d'autre"})
    other = httpx.post(url, data=FORM | {"email": "inconnue@example.fr"})
    assert new.status_code == known.status_code == other.status_code == 200
    assert new.text == known.text == other.text, "the same page, whatever the address"
    assert "/me?k=" not in new.text and 'id="personal-link"' not in new.text
    assert "un message vient d'y être envoyé" in html.unescape(new.text)
    assert [d.recipients for d in sink.deliveries] == [
        ["camille@example.fr"],
        ["camille@example.fr"],
        ["inconnue@example.fr"],
    ]


def test_the_mail_carries_the_link_and_the_registration_counts_once_confirmed(
    mailed: tuple[LiveServer, SMTPSink],
) -> None:
    server, sink = mailed
    with httpx.Client(timeout=30) as client:
        client.post(f"{server.url}/e/{EVENT}/register", data=FORM)
        assert organizer_csv(server, client) == [], "not counted before confirmation"
        k = server.link(EVENT, "organizer")
        desk = html.unescape(client.get(f"{server.url}/e/{EVENT}/organize", params={"k": k}).text)
        assert re.search(r'id="count-total">0<', desk) and re.search(r'id="count-pending">1<', desk)
        (mail,) = sink.deliveries
        assert mail.message["Subject"].startswith("Confirmez votre inscription")
        page = client.get(link_in(mail.body))
        assert page.status_code == 200 and "Votre adresse est confirmée" in html.unescape(page.text)
        assert organizer_csv(server, client) == ["camille@example.fr"]
        again = client.get(link_in(mail.body))
        assert "Votre adresse est confirmée" not in html.unescape(again.text), "said once"


def test_registering_a_known_address_again_mails_its_link_to_the_address(
    mailed: tuple[LiveServer, SMTPSink],
) -> None:
    server, sink = mailed
    url = f"{server.url}/e/{EVENT}/register"
    httpx.post(url, data=FORM)
    link = link_in(sink.deliveries[0].body)
    httpx.get(link)  # confirmed
    httpx.post(url, data=FORM | {"name": "Usurpateur"})
    reminder = sink.deliveries[-1]
    assert reminder.recipients == ["camille@example.fr"]
    assert reminder.message["Subject"].startswith("Vous êtes déjà inscrit")
    assert link_in(reminder.body) == link, "the link she already has"
    stored = registrations(server)
    assert [r["name"] for r in stored] == ["Camille Martin"], "nothing changed"


async def test_an_unconfirmed_registration_expires_and_frees_the_address() -> None:
    people = People(MemoryBackend(), ARIEGE)
    fields = {"name": "Camille", "email": "camille@example.fr", "category": "parent",
              "site": "foix", "wishes": []}  # fmt: skip
    window = timedelta(hours=48)
    first = await people.create(fields, awaiting_email=True, valid_for=window)
    assert await people.all() == [] and [r.id for r in await people.pending()] == [first.id]
    with pytest.raises(Duplicate):  # still waiting for its person: it holds the address
        await people.create(fields, awaiting_email=True, valid_for=window)
    later = datetime.now(UTC) + timedelta(hours=49)
    assert await people.verify_email(first, window, now=later) is None, "too late to confirm"
    assert await people.get(first.id) is None
    second = await people.create(fields, awaiting_email=True, valid_for=window)
    assert await people.expire_pending(window) == 0
    assert await people.expire_pending(window, now=later) == 1, "the server's hourly sweep"
    assert await people.get(second.id) is None and await people.by_email(fields["email"]) is None


async def test_registering_again_after_the_window_replaces_the_unconfirmed_one() -> None:
    people = People(MemoryBackend(), ARIEGE)
    fields = {"name": "Camille", "email": "camille@example.fr", "category": "parent",
              "site": "foix", "wishes": []}  # fmt: skip
    stale = await people.create(fields, awaiting_email=True)
    stale.created = (datetime.now(UTC) - timedelta(hours=49)).isoformat(timespec="seconds")
    await people.save(stale)
    fresh = await people.create(fields, awaiting_email=True, valid_for=timedelta(hours=48))
    assert [r.id for r in await people.pending()] == [fresh.id]
    assert (await people.by_email(fields["email"])) == fresh


# -- rate limits and the honeypot -----------------------------------------------------------


def test_one_registration_past_the_minute_limit_of_an_address_gets_429(tmp_path: Path) -> None:
    default = Settings.register_per_minute  # the product's default, not the tests'
    server = LiveServer(tmp_path / "data", env={"RELAIS_REGISTER_PER_MINUTE": str(default)})
    server.start()
    try:
        url = f"{server.url}/e/{EVENT}/register"
        for i in range(default):
            form = FORM | {"email": f"personne{i}@example.fr"}
            assert httpx.post(url, data=form).status_code == 200
        refused = httpx.post(url, data=FORM | {"email": "sixieme@example.fr"})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "Trop d'inscriptions envoyées" in html.unescape(refused.text)
        assert len(registrations(server)) == default
    finally:
        server.stop()


def test_a_limiter_refills_with_time_and_forgets_the_oldest_keys() -> None:
    now = [0.0]
    limiter = Limiter(5, 60, max_keys=100, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(5)] == [0.0] * 5
    assert limiter.hit("a") == pytest.approx(12.0)
    now[0] += 12
    assert limiter.hit("a") == 0.0 and limiter.hit("a") > 0
    for i in range(10_000):  # a flood of distinct addresses
        limiter.hit(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 100


def test_a_filled_honeypot_stores_nothing_and_gets_the_usual_answer(
    live_server: LiveServer,
) -> None:
    form = httpx.get(f"{live_server.url}/e/{EVENT}/register").text
    field = re.search(r'<div class="sr-only" aria-hidden="true">.*?</div>', form, re.S)
    assert field and 'name="hp_field"' in field.group(0)
    assert 'tabindex="-1"' in field.group(0) and 'autocomplete="off"' in field.group(0)
    r = httpx.post(f"{live_server.url}/e/{EVENT}/register", data=FORM | {"hp_field": "spam"})
    assert r.status_code == 200 and "Vérifiez votre messagerie" in html.unescape(r.text)
    assert registrations(live_server) == []


def test_a_file_sent_to_the_registration_form_is_refused(live_server: LiveServer) -> None:
    r = httpx.post(
        f"{live_server.url}/e/{EVENT}/register",
        data=FORM,
        files={"photo": ("x.bin", b"\0" * 1000)},
    )
    assert r.status_code == 400
    assert registrations(live_server) == []


def test_the_client_address_comes_from_a_proxy_only_when_a_setting_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RELAIS_TRUSTED_PROXIES", raising=False)
    assert trusted_proxies(Settings.from_env("none")) is None
    monkeypatch.setenv("RELAIS_TRUSTED_PROXIES", "127.0.0.1")
    assert trusted_proxies(Settings.from_env("none")) == "127.0.0.1"


# -- files: private from the start; an erasure leaves no copy --------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_and_database_are_private(live_server: LiveServer) -> None:
    httpx.post(f"{live_server.url}/e/{EVENT}/register", data=FORM)
    data = live_server.data_dir
    assert mode(data) == 0o700
    for name in ("relais.sqlite3", "relais.sqlite3-wal", "relais.sqlite3-shm"):
        assert mode(data / name) == 0o600, name


def test_the_secret_file_is_never_readable_by_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Born 0600: even if nothing tightened it afterwards (a crash, a skipped chmod)."""
    monkeypatch.delenv("RELAIS_SECRET", raising=False)
    monkeypatch.setattr(Path, "chmod", lambda self, mode: None)
    old = os.umask(0o022)
    try:
        secret = _secret(tmp_path / "data")
    finally:
        os.umask(old)
    assert mode(tmp_path / "data" / "secret.key") == 0o600
    assert mode(tmp_path / "data") == 0o700
    assert _secret(tmp_path / "data") == secret


def traces(data_dir: Path, *needles: str) -> list[str]:
    """Which database files hold any of `needles` (as UTF-8 bytes)."""
    found = []
    for path in sorted(data_dir.glob("relais.sqlite3*")):
        content = path.read_bytes()
        found += [f"{path.name}: {n}" for n in needles if n.encode() in content]
    return found


def test_after_an_erase_no_database_file_holds_the_person(live_server: LiveServer) -> None:
    name, address = "Zéphyrine Oubliable", "zephyrine.oubliable@example.fr"
    with httpx.Client(timeout=30, follow_redirects=True) as client:
        page = client.post(
            f"{live_server.url}/e/{EVENT}/register", data=FORM | {"name": name, "email": address}
        ).text
        shown = re.search(r'id="personal-link" href="([^"]+)"', page)
        assert shown
        link = html.unescape(shown.group(1))
        client.post(link, data=FORM | {"name": name, "email": address, "wish1": "atelier-acces"})
        assert traces(live_server.data_dir, name, address), "the test looks in the right place"
        (person,) = (r["id"] for r in registrations(live_server))
        k = live_server.link(EVENT, "organizer")
        r = client.post(
            f"{live_server.url}/e/{EVENT}/organize/person/{person}/erase", params={"k": k}
        )
        assert r.status_code == 200
    assert traces(live_server.data_dir, name, address) == []


# -- retention: `relais purge` and the server's own schedule --------------------------------


def yjs_update(text: str) -> bytes:
    doc = Doc()
    doc.get("notes", type=Text).insert(0, text)
    return doc.get_update()


async def fill(data_dir: Path, event: Event) -> None:
    """An event after the day: people registered, placed, confirmed, counted, a link
    revoked, notes written and their rapporteur credited."""
    backend = SQLiteBackend(data_dir / "relais.sqlite3")
    await backend.open()
    try:
        people = People(backend, event)
        links = LinkBook(Signer("s"), backend)
        alice = await people.create({"name": "Alice Personnelle", "email": "alice@example.fr",
                                     "category": "parent", "site": "foix",
                                     "wishes": ["atelier-acces"]})  # fmt: skip
        await desk_rules.personal_link(
            links, lambda e, t: f"http://x/e/{e}/me?k={t}", people, alice
        )
        await people.revoke(alice.link_id)  # she asked for it, say
        await people.run(seed=1)
        await people.publish()
        await people.save_attendance({"foix": 40})
        await backend.put_record(
            RAPPORTEURS, f"{event.id}/atelier-acces", {"names": ["Rémi Rapporteur"]}
        )
        await backend.notes_append(
            f"{event.id}/atelier-acces", [yjs_update("- Une proposition commune\n")]
        )
    finally:
        await backend.close()


async def stored(data_dir: Path, event_id: str) -> dict[str, int]:
    backend = SQLiteBackend(data_dir / "relais.sqlite3")
    await backend.open()
    try:
        counts = {
            kind: len(await backend.list_records(kind, f"{event_id}:"))
            for kind in ("registration", "email", "revoked")
        }
        counts["rapporteurs"] = len(await backend.list_records(RAPPORTEURS, f"{event_id}/"))
        for kind in ("assignment", "attendance"):
            counts[kind] = int(await backend.get_record(kind, event_id) is not None)
        counts["definition"] = int(event_id in await backend.definitions())
        return counts
    finally:
        await backend.close()


def test_relais_purge_removes_personal_data_and_the_synthesis_still_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("RELAIS_DATA", str(data))
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert main(["import", str(DEMO / "ariege-2020.yaml")]) == 0
    asyncio.run(fill(data, ARIEGE))
    before = asyncio.run(stored(data, EVENT))
    assert before == {"registration": 1, "email": 1, "revoked": 1, "rapporteurs": 1,
                      "assignment": 1, "attendance": 1, "definition": 1}  # fmt: skip
    capsys.readouterr()
    assert main(["purge", EVENT]) == 0
    said = capsys.readouterr().out
    assert "inscriptions : 1" in said and "révocations de liens : 1" in said
    assert "listes de rapporteurs : 1" in said
    assert "Alice" not in said and "alice@" not in said, "counts, no personal data"
    after = asyncio.run(stored(data, EVENT))
    assert after == {"registration": 0, "email": 0, "revoked": 0, "rapporteurs": 0,
                     "assignment": 0, "attendance": 0, "definition": 1}  # fmt: skip
    assert traces(data, "Alice Personnelle", "alice@example.fr", "Rémi Rapporteur") == []
    out = tmp_path / "synthese.md"
    assert main(["export", EVENT, "--format", "md", "-o", str(out)]) == 0
    synthesis = out.read_text()
    assert "Une proposition commune" in synthesis and "Rémi" not in synthesis
    assert main(["purge", EVENT]) == 0, "idempotent"
    assert "inscriptions : 0" in capsys.readouterr().out


async def test_a_purge_removes_the_revocations_of_the_peoples_links_only() -> None:
    backend = MemoryBackend()
    people = People(backend, ARIEGE)
    alice = await people.create({"name": "Alice", "email": "alice@example.fr",
                                 "category": "parent", "site": "foix", "wishes": []})  # fmt: skip
    alice.link_id = "lien-alice"
    await people.save(alice)
    await people.revoke("lien-alice")
    await people.revoke("lien-organisateur")
    done = await purge(backend, EVENT)
    assert done.links == 1 and done.registrations == 1
    assert list(await backend.list_records("revoked", f"{EVENT}:")) == [
        f"{EVENT}:lien-organisateur"
    ]


async def test_the_server_purges_events_past_their_retention() -> None:
    backend = MemoryBackend()
    recent = ARIEGE.model_copy(update={"id": "recent", "date": date.today()})
    for event in (ARIEGE, recent):
        await People(backend, event).create({"name": "P", "email": "p@example.fr",
                                             "category": "parent", "site": "foix",
                                             "wishes": []})  # fmt: skip
    purged = await sweep(backend, [ARIEGE, recent], days=90, confirm_hours=48)
    assert list(purged) == [EVENT] and purged[EVENT].registrations == 1
    assert len(await People(backend, recent).all()) == 1
    assert await sweep(backend, [ARIEGE, recent], days=90, confirm_hours=48) == {}
    assert not is_past_retention(ARIEGE, 0), "0 keeps data forever"


# -- broken imports get a clear error ------------------------------------------------------


def test_a_csv_row_with_one_cell_too_many_is_refused_alone(live_server: LiveServer) -> None:
    """A long list with one stray separator far down (past what the separator is guessed
    from): that row is reported and skipped, the others are imported."""
    good = [f"Personne {i:02d};p{i:02d}@example.fr;parent;foix;atelier-acces" for i in range(40)]
    bad = "Chloé Grand;chloe@example.fr;parent;foix;atelier-acces;en trop"
    text = "\n".join(["name;email;category;site;wish1", *good, bad, ""])
    k = live_server.link(EVENT, "organizer")
    r = httpx.post(
        f"{live_server.url}/e/{EVENT}/organize/import",
        params={"k": k},
        files={"file": ("liste.csv", text.encode("utf-8"), "text/csv")},
    )
    page = html.unescape(r.text)
    assert r.status_code == 200, page[:500]
    assert "40 inscriptions ajoutées" in page and "1 ligne refusée" in page
    assert "Ligne 42 (chloe@example.fr) : form — plus de cellules que de colonnes" in page
    assert "chloe@example.fr" not in [r["email"] for r in registrations(live_server)]


def test_importing_an_event_file_that_is_not_utf8_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RELAIS_DATA", str(tmp_path / "data"))
    latin1 = tmp_path / "ariege.yaml"
    latin1.write_bytes((DEMO / "ariege-2020.yaml").read_text().encode("latin-1", "replace"))
    for lang, words in (
        ("fr_FR.UTF-8", "n'est pas un texte UTF-8"),
        ("en_GB.UTF-8", "is not UTF-8"),
    ):
        monkeypatch.setenv("LANG", lang)
        assert main(["import", str(latin1)]) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1 and "Traceback" not in err
