"""Messages per site: one to every site and one per site show at once, and the text of a
message to one site reaches only that site's clients and the régie."""

from __future__ import annotations

import json
from pathlib import Path

from live.agenda.catalogue import Catalogue
from live.agenda.live import Live, audience_of
from live.agenda.outbox import Client
from live.agenda.state import EVERYONE
from live.backends.memory import MemoryBackend
from live.links.signing import PUBLIC, Claims

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"
EVENT = "poitiers-2020"
REGIE = Claims(event=EVENT, role="facilitator", id="regie")
NIORT = Claims(event=EVENT, role="screen", site="niort", id="s1")
ANGOULEME = Claims(event=EVENT, role="screen", site="angouleme", id="s2")
SECRET = "Café offert en salle B"


async def live_with_clients() -> tuple[Live, dict[str, Client]]:
    hub = Catalogue(MemoryBackend())
    await hub.put((DEMO / "poitiers-2020.yaml").read_text())
    live = hub.events[EVENT]
    clients = {
        name: Client(claims, maxsize=64, audience=audience_of(claims, live.event))
        for name, claims in {
            "regie": REGIE,
            "niort": NIORT,
            "angouleme": ANGOULEME,
            "public": PUBLIC,
        }.items()
    }
    live.clients |= set(clients.values())
    return live, clients


def test_who_reads_which_messages() -> None:
    from live.event_file import parse_event

    event = parse_event((DEMO / "poitiers-2020.yaml").read_text())
    rapporteur = Claims(event=EVENT, role="rapporteur", workshop="enseigner-niort")
    assert audience_of(REGIE, event) == EVERYONE
    assert audience_of(Claims(event=EVENT, role="organizer"), event) == EVERYONE
    assert audience_of(NIORT, event) == "niort"
    assert audience_of(rapporteur, event) == "niort"  # the site of its workshop
    assert audience_of(PUBLIC, event) == ""


async def test_a_site_message_reaches_that_site_and_the_regie_only() -> None:
    live, clients = await live_with_clients()
    await live.command("message.show", {"text": "Reprise à 14 h"}, REGIE, "a")
    await live.command("message.show", {"text": SECRET, "site": "niort"}, REGIE, "b")
    received = {name: "".join(c.frames) for name, c in clients.items()}
    assert SECRET in received["niort"] and SECRET in received["regie"]
    assert SECRET not in received["angouleme"] and SECRET not in received["public"]
    # ...yet every client receives every event, in order (a gap would make it resync).
    for client in clients.values():
        frames = [json.loads(f) for f in client.frames]
        assert [f["seq"] for f in frames] == [1, 2]
        assert frames[1]["state"]["message"]["text"] == "Reprise à 14 h"
    other = json.loads(clients["angouleme"].frames[1])
    assert other["args"] == {"site": "niort"} and other["state"]["site_messages"] == {}


async def test_later_events_keep_the_site_message_from_other_sites() -> None:
    live, clients = await live_with_clients()
    await live.command("message.show", {"text": SECRET, "site": "niort"}, REGIE, "a")
    await live.command("step.next", {}, REGIE, "b")
    assert SECRET not in "".join(clients["angouleme"].frames)
    last = json.loads(clients["niort"].frames[-1])
    assert last["state"]["site_messages"]["niort"]["text"] == SECRET


async def test_catch_up_and_snapshots_keep_it_from_other_sites() -> None:
    live, _ = await live_with_clients()
    await live.command("message.show", {"text": SECRET, "site": "niort"}, REGIE, "a")
    for audience in ("angouleme", ""):
        assert SECRET not in live.catch_up(0, live.epoch, audience)
        assert SECRET not in live.snapshot(audience=audience)
    assert SECRET in live.catch_up(0, live.epoch, "niort")
    assert SECRET in live.snapshot(audience=EVERYONE)


async def test_without_a_site_message_one_frame_serves_every_client() -> None:
    live, clients = await live_with_clients()
    await live.command("message.show", {"text": "Reprise à 14 h"}, REGIE, "a")
    frames = {c.frames[0] for c in clients.values()}
    assert len(frames) == 1
    assert all(c.frames[0] is clients["regie"].frames[0] for c in clients.values())
