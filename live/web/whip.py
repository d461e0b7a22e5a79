"""WHIP (RFC 9725) to publish the plenary, WHEP to receive it: the HTTP side.

    POST    /e/{event}/whip[?feed=site:<id>]   SDP offer -> 201, Location, SDP answer
    POST    /e/{event}/whep[?feed=<feed>]      the same, to receive the program (or a feed)
    DELETE  /e/{event}/whip/{session}          ends it (only with the link that opened it)
    DELETE  /e/{event}/whep/{session}
    OPTIONS on each                            CORS preflight, `Accept-Post: application/sdp`
    GET     /e/{event}/plenary                 the console's status (JSON)

The link is `Authorization: Bearer <token>` (what OBS Studio and WHEP players send) or
`?k=<token>`. Publishing: a speaker link publishes `speaker`; a site's host link publishes
`site:<its site>` (the room camera). A screen link only receives: it sits unattended on a
projector, and must not be able to take its site's feed from the host. Receiving: screen,
host, facilitator, organizer and speaker links. Who may take over a feed a session holds
is the relay's (`EventRelay.check_free`): the link publishing it again at once, another one
once that session is dead or never connected. No trickle ICE: answers carry every
candidate, and PATCH gets 405 as RFC 9725 says for a server without it. Refusals are JSON
`{"error": code, "message": sentence}` in the request's language, with the status of
`live/errors.py`; nothing is set up or changed for them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.errors import RelaisError, http_status
from live.links.signing import Claims, LinkError
from live.model import Event
from live.plenary.offer import MAX_OFFER_BYTES
from live.plenary.relay import PROGRAM, SPEAKER, NoSuchFeed
from live.plenary.service import Plenary
from live.web.common import get_live, refused

PUBLISHERS = frozenset({"speaker", "host"})
RECEIVERS = frozenset({"screen", "host", "facilitator", "organizer", "speaker"})
SDP = "application/sdp"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Location, Link, Accept-Post",
}
PREFLIGHT_HEADERS = "Authorization, Content-Type, If-Match"


def whip_refused(request: Request, exc: RelaisError) -> Response:
    """A refusal as JSON (`web.common.refused`), readable from another origin; a missing
    or bad link says how to authenticate (a bearer token)."""
    headers = dict(CORS)
    if http_status(exc.code) == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="relais"'
    return refused(request, exc, json=True, headers=headers)


def token_of(request: Request) -> str | None:
    """The link: a bearer token, else `?k=`."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("k")


async def claims_of(request: Request, event: Event, roles: frozenset[str]) -> Claims:
    claims: Claims = await request.app.state.links.verify(token_of(request), event.id)
    if claims.role not in roles:
        raise LinkError("link_role", f"a {claims.role} link cannot do this")
    return claims


async def read_offer_body(request: Request) -> str:
    """The offer, refused before it is read to its end if it is too long."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != SDP:
        raise RelaisError("sdp_type", "the offer must be sent as application/sdp")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_OFFER_BYTES:
            raise RelaisError("too_large", "offer too long", size=MAX_OFFER_BYTES)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise RelaisError("sdp_invalid", "the offer is not UTF-8 text", reason="UTF-8") from None


def feed_for_publisher(request: Request, event: Event, claims: Claims) -> str:
    """The one feed a link may publish: the speaker's, or its own site's."""
    own = SPEAKER if claims.role == "speaker" else f"site:{claims.site}"
    if claims.role != "speaker" and (not claims.site or event.site(claims.site) is None):
        raise LinkError("link_role", "this link is for no site of the event")
    asked = request.query_params.get("feed") or own
    if asked != own:
        raise RelaisError("forbidden", f"this link publishes {own}, not {asked}")
    return own


def feed_to_watch(request: Request, event: Event) -> str:
    """`program` (the floor, whoever has it), or one feed of this event."""
    asked = request.query_params.get("feed") or PROGRAM
    if asked in (PROGRAM, SPEAKER):
        return asked
    site = asked.removeprefix("site:")
    if not asked.startswith("site:") or event.site(site) is None:
        raise NoSuchFeed(asked[:80])
    return asked


Handler = Callable[[Request, Event, Plenary], Awaitable[Response]]


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Unknown event: 404; any refusal: its JSON answer, with CORS headers."""

    async def run(request: Request) -> Response:
        live = get_live(request)
        if live is None:
            return whip_refused(request, RelaisError("unknown_event", "no such event"))
        try:
            return await handler(request, live.event, request.app.state.plenary)
        except RelaisError as exc:
            return whip_refused(request, exc)

    return run


def answer(request: Request, plenary: Plenary, kind: str, session_id: str, sdp: str) -> Response:
    location = str(
        request.url_for(
            kind + "_session", event_id=request.path_params["event_id"], session_id=session_id
        )
    )
    headers = {**CORS, "Location": location}
    response = Response(sdp, status_code=201, media_type=SDP, headers=headers)
    for link in plenary.link_headers():
        response.headers.append("Link", link)
    return response


@endpoint
async def publish(request: Request, event: Event, plenary: Plenary) -> Response:
    claims = await claims_of(request, event, PUBLISHERS)
    feed = feed_for_publisher(request, event, claims)
    offer = await read_offer_body(request)
    session = await plenary.publish(event.id, feed, offer, claims)
    return answer(request, plenary, "whip", session.id, session.pc.localDescription.sdp)


@endpoint
async def receive(request: Request, event: Event, plenary: Plenary) -> Response:
    claims = await claims_of(request, event, RECEIVERS)
    watching = feed_to_watch(request, event)
    offer = await read_offer_body(request)
    session = await plenary.receive(event.id, watching, offer, claims)
    return answer(request, plenary, "whep", session.id, session.pc.localDescription.sdp)


def end(kind: str) -> Handler:
    async def delete(request: Request, event: Event, plenary: Plenary) -> Response:
        """RFC 9725: DELETE on the session URL ends it; 200 OK."""
        claims = await claims_of(request, event, PUBLISHERS | RECEIVERS)
        session = plenary.session(request.path_params["session_id"])
        if session is None or session.kind != kind or session.event != event.id:
            raise RelaisError("no_such_session", "no such session (ended already?)")
        if session.link != claims.id:
            raise RelaisError("forbidden", "only the link that opened a session may end it")
        await plenary.end(session.id)
        return Response(status_code=200, headers=CORS)

    return delete


SOUNDS = frozenset({"on", "muted", "echo"})


@endpoint
async def sound(request: Request, event: Event, plenary: Plenary) -> Response:
    """A screen says whether it plays the sound (`?sound=on|muted|echo`): an unattended
    projector plays muted until someone clicks it, and the régie must know which."""
    claims = await claims_of(request, event, RECEIVERS)
    value = request.query_params.get("sound", "")
    if value not in SOUNDS:
        raise RelaisError("invalid", "sound must be on, muted or echo")
    session = plenary.session(request.path_params["session_id"])
    if session is None or session.kind != "whep" or session.event != event.id:
        raise RelaisError("no_such_session", "no such session (ended already?)")
    if session.link != claims.id:
        raise RelaisError("forbidden", "only the link that opened a session may speak for it")
    plenary.set_sound(session, value)
    return Response(status_code=204, headers=CORS)


async def no_trickle(request: Request) -> Response:
    """No trickle ICE nor ICE restart here (RFC 9725: 405 for PATCH)."""
    return Response(status_code=405, headers={**CORS, "Allow": "DELETE, OPTIONS"})


def preflight(methods: str) -> Callable[[Request], Awaitable[Response]]:
    """CORS preflight (RFC 9725): a page of another origin may POST its offer with
    a bearer token and read the Location of the answer."""

    async def options(request: Request) -> Response:
        headers = {
            **CORS,
            "Access-Control-Allow-Methods": methods,
            "Access-Control-Allow-Headers": PREFLIGHT_HEADERS,
            "Access-Control-Max-Age": "86400",
            "Allow": methods,
        }
        if "POST" in methods:
            headers["Accept-Post"] = SDP
        return Response(status_code=204, headers=headers)

    return options


@endpoint
async def status(request: Request, event: Event, plenary: Plenary) -> Response:
    await claims_of(request, event, RECEIVERS)
    return JSONResponse(plenary.status(event.id))


def _routes() -> list[Route]:
    routes = [
        Route("/e/{event_id}/plenary", status, methods=["GET"], name="plenary_status"),
        Route("/e/{event_id}/whep/{session_id}/sound", sound, methods=["POST"], name="whep_sound"),
    ]
    for kind, handler in (("whip", publish), ("whep", receive)):
        endpoint_path, session_path = (
            f"/e/{{event_id}}/{kind}",
            f"/e/{{event_id}}/{kind}/{{session_id}}",
        )
        routes += [
            Route(endpoint_path, handler, methods=["POST"], name=kind),
            Route(endpoint_path, preflight("POST, OPTIONS"), methods=["OPTIONS"]),
            Route(session_path, endpoint(end(kind)), methods=["DELETE"], name=f"{kind}_session"),
            Route(session_path, no_trickle, methods=["PATCH"]),
            Route(session_path, preflight("DELETE, OPTIONS"), methods=["OPTIONS"]),
        ]
    return routes


routes = _routes()
