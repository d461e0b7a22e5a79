"""The participation websocket (`/ws/participation/{event_id}?k=LINK&w=WORKSHOP`): a phone,
a rapporteur's or facilitator's console, or a screen following one workshop's proposals
and polls, and a person proposing, supporting, arguing and voting.

The same session as the agenda's (`live_ws.LogSession`: rate, parse, `hello`, `ping`,
`command` answered `ack` / `error` / `pending`), on the event's participation log
(`participation/live.py`). What this module says is who the socket acts as:

- a registered person's own link (`participant` with a person): that person, in a
  workshop of her site;
- a site's shared participant link (the QR code): the device its signed cookie names
  (`relais_device`, given with every page), so one phone is one voice; a socket without
  a device cookie reads but does not speak;
- a rapporteur's link: moderator of her workshop; a facilitator's or organizer's: of any;
- a screen's or host's link: the screens' view (retained proposals, polls), silent.

Frames: `view{seq, mode, view, polls}` when followed (and after falling behind),
`proposal{seq, proposal}` as the follower's view reads it, `retained{seq, retained}` for
screens, `poll{seq, poll}` with its results.
"""

from __future__ import annotations

from starlette.websockets import WebSocket

from live.agenda import protocol
from live.agenda.outbox import Client
from live.errors import RelaisError
from live.links.signing import COMMANDERS, Claims
from live.model import Event, Workshop
from live.participation.commands import Actor
from live.participation.live import Follower, LiveParticipation, Mode
from live.web.connections import device_of
from live.web.live_ws import LogSession

SILENT = frozenset({"screen", "host"})


def follower_of(claims: Claims, event: Event, workshop: Workshop, device: str) -> Follower:
    """Who a link acts as in one workshop, or the refusal (another workshop, no voice)."""
    if claims.role == "participant":
        site = claims.site or workshop.site
        if workshop.site != site:
            raise RelaisError("part.other_workshop", "this link is for another site's workshops")
        person = f"person:{claims.person}" if claims.person else (device and f"device:{device}")
        return Follower(Actor(person, "participant", workshop.id, site), workshop.id, "participant")
    mode: Mode
    if claims.role == "rapporteur":
        if claims.workshop != workshop.id:
            raise RelaisError("part.other_workshop", "a rapporteur moderates her own workshop")
        mode = "moderator"
    elif claims.role in COMMANDERS:
        mode = "moderator"
    elif claims.role in SILENT:
        mode = "screen"
    else:
        raise RelaisError("forbidden", f"a {claims.role} link does not follow the proposals")
    actor = Actor(f"link:{claims.id}", claims.role, workshop.id, claims.site or workshop.site)
    return Follower(actor, workshop.id, mode)


class ParticipationSession(LogSession):
    """One page following a workshop's participation."""

    participation: LiveParticipation
    follower: Follower

    async def on_connect(self, websocket: WebSocket) -> None:
        app = websocket.app
        live = app.state.catalogue.get(websocket.path_params["event_id"])
        if live is None:
            raise RelaisError("unknown_event", "no such event")
        event: Event = live.event
        self.claims = await app.state.links.verify(websocket.query_params.get("k"), event.id)
        chosen = websocket.query_params.get("w") or self.claims.workshop or ""
        workshop = event.workshop(chosen)
        if workshop is None:
            raise RelaisError("part.no_such_workshop", "no such workshop", workshop=chosen[:64])
        device = device_of(websocket, app.state.signer)
        self.follower = follower_of(self.claims, event, workshop, device)
        self.participation = await app.state.participation.of(event)
        settings = app.state.settings
        self.client = Client(self.claims, settings.send_queue, settings.send_queue_bytes)
        self.setup(websocket)

    def subscribe(self, hello: protocol.Hello | None) -> None:
        # What it lacks (or its whole picture) first, then the changes as they come.
        since, epoch = (hello.since, hello.epoch) if hello is not None else (None, None)
        self.participation.join(self.client, self.follower, since, epoch)

    @property
    def subscribed(self) -> bool:
        return self.client in self.participation.followers

    def picture(self) -> str:
        return self.participation.snapshot(self.follower)

    def leave(self) -> None:
        self.participation.leave(self.client)

    async def submit(self, msg: protocol.Command) -> int:
        actor, claims = self.follower.actor, self.client.claims
        return await self.participation.command(msg.name, msg.args, actor, claims.id, msg.id)


endpoint = ParticipationSession
