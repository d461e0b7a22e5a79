"""Registration limits sized to a real site and spent by valid work only: a flood of
invalid posts from many addresses cannot close registration for everyone, a class
registering on site from its school's one address gets through, and a script does not.

The server runs with the product's limits (not the tests' relaxed ones), and the posts
come from real distinct client addresses (127.0.0.N: the whole of 127/8 is loopback)."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from live.config import Settings
from live.event_file import parse_event
from live.people.limits import RegistrationLimits
from tests.model.test_model import DEMO
from tests.people.test_registration import GOOD as FORM
from tests.people.test_registration import personal_link
from tests.people.test_registration_abuse import registrations
from tests.support.servers import LiveServer
from tests.support.smtpsink import SMTPSink

EVENT = "ariege-2020"
PRODUCT_LIMITS = {"RELAIS_REGISTER_PER_MINUTE": str(Settings.register_per_minute)}


def client_from(address: str) -> httpx.Client:
    """An HTTP client whose connections come from `address` (as seen by the server)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60)


def person(i: int) -> dict[str, str]:
    return FORM | {"name": f"Élève {i}", "email": f"eleve{i}@example.fr"}


def in_parallel(count: int, work: object) -> None:
    """Run `work(i)` for i in range(count) in threads started together; wait for all."""
    assert callable(work)
    start = threading.Barrier(count)

    def run(i: int) -> None:
        start.wait()
        work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server with the product's registration limits."""
    s = LiveServer(tmp_path / "data", env=PRODUCT_LIMITS)
    s.start()
    try:
        yield s
    finally:
        s.stop()


def test_invalid_posts_from_many_addresses_leave_registration_open_to_real_people(
    server: LiveServer,
) -> None:
    url = f"{server.url}/e/{EVENT}/register"
    budget = RegistrationLimits(Settings()).budget(
        parse_event((DEMO / f"{EVENT}.yaml").read_text())
    )
    addresses, each = 25, budget // 25 + 6  # more invalid posts in all than the budget
    statuses: list[int] = []

    def flood(i: int) -> None:
        with client_from(f"127.0.0.{10 + i}") as client:
            for n in range(each):
                bad = person(1000 * i + n) | {"email": "pas-une-adresse"}
                statuses.append(client.post(url, data=bad).status_code)

    in_parallel(addresses, flood)
    assert len(statuses) > budget and set(statuses) == {422}, "refused as invalid, each"
    with client_from("127.0.0.200") as client:
        r = client.post(url, data=FORM)
    assert r.status_code == 200, "a real person still registers"
    with client_from("127.0.0.10") as client:  # and so does one behind a flooding address
        assert client.post(url, data=person(1)).status_code == 200
    assert len(registrations(server)) == 2


def test_only_valid_registrations_spend_the_events_hourly_budget(tmp_path: Path) -> None:
    env = PRODUCT_LIMITS | {"RELAIS_REGISTER_PER_HOUR": "3", "RELAIS_REGISTER_PER_SEAT": "0"}
    server = LiveServer(tmp_path / "data", env=env)
    server.start()
    try:
        url = f"{server.url}/e/{EVENT}/register"
        with httpx.Client(timeout=30) as client:
            for i in range(10):
                bad = person(i) | {"consent": ""}
                assert client.post(url, data=bad).status_code == 422
            assert [client.post(url, data=person(i)).status_code for i in range(3)] == [200] * 3
            refused = client.post(url, data=person(3))
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert "rien n'a été enregistré" in html.unescape(refused.text)
        assert len(registrations(server)) == 3
    finally:
        server.stop()


def test_only_valid_updates_through_a_personal_link_spend_the_budget(tmp_path: Path) -> None:
    env = PRODUCT_LIMITS | {"RELAIS_REGISTER_PER_HOUR": "2", "RELAIS_REGISTER_PER_SEAT": "0"}
    server = LiveServer(tmp_path / "data", env=env)
    server.start()
    try:
        with httpx.Client(timeout=30) as client:
            page = client.post(f"{server.url}/e/{EVENT}/register", data=FORM).text
            link = html.unescape(personal_link(page))
            for _ in range(5):
                assert client.post(link, data=FORM | {"wish1": "x"}).status_code == 422
            changed = FORM | {"wish1": "atelier-gouvernance", "wish2": ""}
            assert client.post(link, data=changed).status_code == 200
            assert client.post(link, data=FORM).status_code == 429, "the budget is spent"
    finally:
        server.stop()


def test_the_events_budget_follows_its_capacity() -> None:
    limits = RegistrationLimits(Settings())
    small = parse_event((DEMO / "ariege-2020.yaml").read_text())  # one site of 150
    large = small.model_copy(
        update={"sites": [s.model_copy(update={"capacity": 2000}) for s in small.sites]}
    )
    assert limits.budget(small) == max(Settings.register_per_hour, 4 * 150)
    assert limits.budget(large) == 4 * 2000


def test_a_class_of_30_registers_at_once_from_its_schools_one_address(
    server: LiveServer,
) -> None:
    url = f"{server.url}/e/{EVENT}/register"
    statuses: list[int] = []

    def register(i: int) -> None:
        with client_from("127.0.0.42") as client:
            statuses.append(client.post(url, data=person(i)).status_code)

    in_parallel(30, register)
    assert statuses == [200] * 30
    assert len(registrations(server)) == 30


def test_a_script_on_one_address_gets_a_class_at_once_then_an_hours_pace() -> None:
    limits = RegistrationLimits(Settings())
    burst = [limits.client("192.0.2.1") for _ in range(Settings.register_per_minute)]
    assert burst == [0.0] * Settings.register_per_minute
    pace = 3600 / Settings.register_per_address_hour
    assert limits.client("192.0.2.1") > pace / 2, "then one post every 15 s at most"
    assert limits.client("192.0.2.2") == 0.0, "another address is not held"


def test_one_e_mail_registered_over_and_over_is_stopped_after_a_few(tmp_path: Path) -> None:
    with SMTPSink() as sink:
        server = LiveServer(tmp_path / "data", env=PRODUCT_LIMITS | sink.env)
        server.start()
        try:
            url = f"{server.url}/e/{EVENT}/register"
            tries = Settings.register_per_email
            with httpx.Client(timeout=30) as client:
                answers = [client.post(url, data=FORM).status_code for _ in range(tries)]
                refused = client.post(url, data=FORM)
                other = client.post(url, data=person(1))
            assert answers == [200] * tries and refused.status_code == 429
            assert other.status_code == 200, "another address is not held"
            to_her = [d for d in sink.deliveries if d.recipients == [FORM["email"]]]
            assert len(to_her) == Settings.mails_per_hour, "and her mailbox gets the quota"
        finally:
            server.stop()
