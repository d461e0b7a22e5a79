"""The kept links, off the server, on every backend: which links an event has (the one
list the sheet and `relais links` share), a link issued once per slot and the same after,
a new one beside the old, revocation only of a slot's own links and never of the one in
use, a revoked link replaced where a screen shows it, and the admins' handouts revoked."""

from __future__ import annotations

from pathlib import Path

import pytest

from live.backends.base import Backend
from live.event_file import parse_event
from live.links.kept import (
    ADMIN_SLOT,
    EARLIER_KEPT,
    KeptLinks,
    NotKept,
    at_site,
    participants,
    slot_named,
    slot_of,
    slots,
)
from live.links.signing import LinkBook, Signer
from live.model import Event

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"


def demo(name: str) -> Event:
    return parse_event((DEMO / f"{name}.yaml").read_text(encoding="utf-8"), f"{name}.yaml")


POITIERS = demo("poitiers-2020")
ARIEGE = demo("ariege-2020")
SIGNER = Signer("s")


def link_id(token: str, event: Event = POITIERS) -> str:
    return SIGNER.verify(token, event.id, now=0).id


def test_an_event_has_a_link_per_role_and_place() -> None:
    keys = [s.key for s in slots(POITIERS)]
    assert keys[:2] == ["facilitator", "organizer"]
    for site in POITIERS.sites:
        assert {f"screen:{site.id}", f"host:{site.id}", f"participant:{site.id}"} <= set(keys)
    assert {f"rapporteur:{w.id}" for w in POITIERS.workshops} <= set(keys)
    speakers = [k for k in keys if k.startswith("speaker")]
    assert speakers == [
        "speaker:Madame la Rectrice",
        "speaker:Nathalie Morin",
        "speaker:Madame la Rectrice de la région académique",
    ]
    assert len(set(keys)) == len(keys) and ADMIN_SLOT.key not in keys
    assert slot_named(POITIERS, ADMIN_SLOT.key) == ADMIN_SLOT
    assert slot_of(POITIERS, "participant:niort") == participants("niort")
    with pytest.raises(NotKept) as exc:
        slot_of(POITIERS, "screen:nowhere")
    assert exc.value.code == "links.unknown_slot"


def test_a_sites_links_are_its_own_and_its_speakers() -> None:
    niort = {s.key for s in slots(POITIERS) if at_site(POITIERS, s, "niort")}
    assert niort == {
        "screen:niort",
        "host:niort",
        "participant:niort",
        "rapporteur:enseigner-niort",
    }
    hub = {s.key for s in slots(POITIERS) if at_site(POITIERS, s, "poitiers")}
    assert "speaker:Nathalie Morin" in hub and "speaker:Madame la Rectrice" not in hub


async def test_links_are_issued_once_and_kept(backend: Backend) -> None:
    kept = KeptLinks(backend, SIGNER)
    first = await kept.issued(POITIERS)
    assert set(first) == {s.key for s in slots(POITIERS)}
    again = await kept.issued(POITIERS)
    assert {k: r["token"] for k, r in again.items()} == {k: r["token"] for k, r in first.items()}
    for key, record in first.items():
        claims = SIGNER.verify(record["token"], POITIERS.id)
        assert claims.role == key.split(":")[0]
    screen = slot_of(POITIERS, "screen:niort")
    assert await kept.kept(POITIERS, screen, frozenset()) == first["screen:niort"]["token"]
    assert await KeptLinks(backend, SIGNER).issued(ARIEGE) != first  # per event


async def test_a_link_another_secret_signed_is_replaced(backend: Backend) -> None:
    old = await KeptLinks(backend, Signer("before")).issued(ARIEGE)
    new = await KeptLinks(backend, SIGNER).issued(ARIEGE)
    assert all(new[k]["token"] != old[k]["token"] for k in old)
    assert all(SIGNER.verify(r["token"], ARIEGE.id) for r in new.values())


async def test_a_new_link_keeps_the_old_one_earlier(backend: Backend) -> None:
    kept = KeptLinks(backend, SIGNER)
    slot = slot_of(POITIERS, "screen:niort")
    old = await kept.kept(POITIERS, slot, frozenset())
    await kept.reissue(POITIERS, slot, until=2_000_000_000)
    record = await kept.record(POITIERS, slot)
    assert record is not None
    assert record["token"] != old and [e["token"] for e in record["earlier"]] == [old]
    assert SIGNER.verify(record["token"], POITIERS.id, now=0).expires == 2_000_000_000
    for _ in range(EARLIER_KEPT + 5):
        await kept.reissue(POITIERS, slot)
    record = await kept.record(POITIERS, slot)
    assert record is not None and len(record["earlier"]) == EARLIER_KEPT


async def test_a_revoked_kept_link_is_replaced_where_it_is_shown(backend: Backend) -> None:
    slot = participants("niort")
    shown = await KeptLinks(backend, SIGNER).kept(POITIERS, slot, frozenset())
    again = await KeptLinks(backend, SIGNER).kept(POITIERS, slot, {link_id(shown)})
    assert again != shown
    record = await KeptLinks(backend, SIGNER).record(POITIERS, slot)
    assert record is not None and record["earlier"][0]["token"] == shown


async def test_only_a_slots_own_links_are_revoked_never_the_one_in_use(backend: Backend) -> None:
    kept = KeptLinks(backend, SIGNER)
    revoked: list[tuple[str, str]] = []

    async def revoke(event: str, link: str) -> None:
        revoked.append((event, link))

    links = await kept.issued(POITIERS)
    screen, niort = slot_of(POITIERS, "screen:poitiers"), slot_of(POITIERS, "screen:niort")
    other = link_id(links["screen:niort"]["token"])
    for slot, link, viewer, code in (
        (screen, other, "", "links.unknown_link"),  # not that slot's
        (screen, "", "", "links.unknown_link"),
        (niort, other, other, "links.revoke_own"),  # the organizer's own
    ):
        with pytest.raises(NotKept) as exc:
            await kept.revoke(POITIERS, slot, link, viewer, revoke)
        assert exc.value.code == code
    assert revoked == []
    await kept.reissue(POITIERS, niort)
    await kept.revoke(POITIERS, niort, other, "", revoke)  # an earlier one: still its own
    assert revoked == [(POITIERS.id, other)]


async def test_revoking_the_admin_links_revokes_their_handouts_only(backend: Backend) -> None:
    book = LinkBook(SIGNER, backend)
    organizer = await KeptLinks(backend, SIGNER).kept(ARIEGE, slot_of(ARIEGE, "organizer"), ())
    given = await KeptLinks(backend, SIGNER).kept(ARIEGE, ADMIN_SLOT, ())
    await KeptLinks(backend, SIGNER).reissue(ARIEGE, ADMIN_SLOT)
    newer = await KeptLinks(backend, SIGNER).kept(ARIEGE, ADMIN_SLOT, ())
    await KeptLinks(backend, SIGNER).revoke_admin_handouts(book.revoke)
    revoked = await book.revocations.of(ARIEGE.id)
    assert revoked == {link_id(given, ARIEGE), link_id(newer, ARIEGE)}
    assert link_id(organizer, ARIEGE) not in revoked
    calls: list[str] = []

    async def count(event: str, link: str) -> None:
        calls.append(link)

    await KeptLinks(backend, SIGNER).revoke_admin_handouts(count)
    assert calls == []  # revoked once
