"""Accounts as an administrator names them: roles granted by professional address, an
organizer of a territory runs the events of that territory and below, sessions that end
(by themselves, on sign-out, when the account is withdrawn), and the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest

from live.accounts.audit import AuditLog
from live.accounts.grants import Access, Grant, GrantError, make_grant, normalize_email
from live.accounts.sessions import Sessions
from live.accounts.store import Accounts
from live.app import demo_definitions
from live.backends.base import Backend
from live.event_file import parse_event
from live.model import Event
from live.territories import Territories

WITHIN = Territories.reference().within


DAY = parse_event(demo_definitions()["poitiers-2020.yaml"])


def event(id: str, territory: str | None) -> Event:
    """A day like Poitiers' in another place."""
    return DAY.model_copy(update={"id": id, "territory": territory})


def grant(email: str, role: str, **scope: str) -> Grant:
    return make_grant(
        email,
        role,
        **scope,
        known_territory=lambda code: code in Territories.reference(),
        known_event=lambda e: e in ("ariege-2020", "poitiers-2020"),
        by="test",
        at=0,
    )


def test_an_organizer_of_an_academie_runs_its_departements_events_and_no_others():
    camille = Access(
        "c@ac-poitiers.fr", (grant("c@ac-poitiers.fr", "organizer", territory="ac-poitiers"),)
    )
    assert camille.may_run(event("vienne", "dep-86"), WITHIN)
    assert camille.may_run(event("academie", "ac-poitiers"), WITHIN)
    assert not camille.may_run(event("region", "ra-nouvelle-aquitaine"), WITHIN)
    assert not camille.may_run(event("ariege", "dep-09"), WITHIN)
    assert not camille.may_run(event("sans-territoire", None), WITHIN)


def test_an_organizer_of_one_event_runs_that_event_only():
    sam = Access("s@ac-toulouse.fr", (grant("s@ac-toulouse.fr", "organizer", event="ariege-2020"),))
    assert sam.may_run(event("ariege-2020", "dep-09"), WITHIN)
    assert not sam.may_run(event("autre", "dep-09"), WITHIN)


def test_an_administrator_runs_every_event():
    alex = Access("a@education.gouv.fr", (grant("a@education.gouv.fr", "admin"),))
    assert alex.is_admin and alex.may_run(event("x", None), WITHIN)


@pytest.mark.parametrize(
    ("role", "scope", "code"),
    [
        ("organizer", {}, "account.scope"),
        ("organizer", {"territory": "ac-poitiers", "event": "ariege-2020"}, "account.scope"),
        ("organizer", {"territory": "ac-atlantide"}, "account.territory"),
        ("organizer", {"event": "inconnu"}, "account.event"),
        ("admin", {"territory": "fr"}, "account.admin_scope"),
        ("owner", {}, "account.role"),
    ],
)
def test_a_grant_that_cannot_be_is_refused(role, scope, code):
    with pytest.raises(GrantError) as refused:
        grant("x@ac-poitiers.fr", role, **scope)
    assert refused.value.code == code


@pytest.mark.parametrize("raw", ["", "pas une adresse", "a@", "x" * 300 + "@exemple.fr"])
def test_an_address_that_is_not_one_is_refused(raw):
    with pytest.raises(GrantError):
        normalize_email(raw)


def test_addresses_are_compared_as_their_owner_writes_them_in_any_case():
    assert normalize_email(" Camille.Martin@AC-Poitiers.fr ") == "camille.martin@ac-poitiers.fr"


async def test_granting_twice_changes_nothing_and_everything_is_in_the_audit_log(backend: Backend):
    accounts = Accounts(backend, Sessions(backend), AuditLog(backend))
    g = grant("c@ac-poitiers.fr", "organizer", territory="ac-poitiers")
    assert await accounts.grant(g, "admin@exemple.fr")
    assert not await accounts.grant(g, "admin@exemple.fr")
    assert await accounts.withdraw("c@ac-poitiers.fr", g.key, "admin@exemple.fr")
    assert not await accounts.withdraw("c@ac-poitiers.fr", g.key, "admin@exemple.fr")
    log = await accounts.audit.latest()
    assert [(e.action, e.actor, e.subject) for e in log] == [
        ("withdraw", "admin@exemple.fr", "c@ac-poitiers.fr"),
        ("grant", "admin@exemple.fr", "c@ac-poitiers.fr"),
    ]


async def test_a_session_is_found_by_its_key_which_the_store_never_holds(backend: Backend):
    sessions = Sessions(backend)
    key = await sessions.open("c@ac-poitiers.fr", "Camille Martin")
    found = await sessions.get(key)
    assert found is not None and found.email == "c@ac-poitiers.fr"
    assert key not in str(await backend.list_records("sessions"))
    assert await sessions.get(key + "x") is None
    assert await sessions.get("k" * 1000) is None


async def test_an_expired_session_is_over(backend: Backend):
    sessions = Sessions(backend, hours=-1)  # opened already past its end
    key = await sessions.open("c@ac-poitiers.fr", "Camille Martin")
    assert await sessions.get(key) is None
    assert await backend.list_records("sessions") == {}


async def test_withdrawing_an_account_ends_all_its_sessions_and_tells_the_app(backend: Backend):
    sessions = Sessions(backend)
    accounts = Accounts(backend, sessions, AuditLog(backend))
    told: list[tuple[str, bool]] = []

    async def hook(email: str, left: Access) -> None:
        told.append((email, left.any))

    accounts.on_withdrawn.append(hook)
    await accounts.grant(grant("c@ac-poitiers.fr", "organizer", territory="ac-poitiers"), "t")
    await accounts.grant(grant("c@ac-poitiers.fr", "organizer", event="ariege-2020"), "t")
    keys = [await sessions.open("c@ac-poitiers.fr", "C") for _ in range(2)]
    other = await sessions.open("d@ac-poitiers.fr", "D")
    assert await accounts.withdraw_all("c@ac-poitiers.fr", "admin") == 2
    assert [await sessions.get(k) for k in keys] == [None, None]
    assert await sessions.get(other) is not None
    assert told == [("c@ac-poitiers.fr", False)]
    assert not (await accounts.access("c@ac-poitiers.fr")).any


def test_the_first_administrator_comes_from_the_command_line(tmp_path: Path, monkeypatch, capsys):
    from live import cli

    monkeypatch.setenv("RELAIS_DATA", str(tmp_path))
    assert cli.main(["grant-admin", "Alex.Durand@education.gouv.fr"]) == 0
    assert "alex.durand@education.gouv.fr" in capsys.readouterr().out
    assert cli.main(["grant-admin", "pas-une-adresse"]) == 2
