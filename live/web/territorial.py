"""The territorial space: a consultation's published contributions, public and read-only
(no link, no sign-in), French first, `?lang=en` for English.

- `/territoires/{c}` — home: the search box, the themes with their subjects and counts,
  the tree of the territories that published, the latest contributions;
- `/territoires/{c}/recherche?q=&theme=&subject=&territoire=&page=` — full-text search in
  French (`search.SearchIndex`), best first, the words found marked in each snippet;
- `/territoires/{c}/sujets/{theme}/{subject}?territoire=&page=` — « Voir les propositions »:
  one subject's proposals across territories, with origin and supports;
- `/territoires/{c}/t/{code}` — a territory: breadcrumb, children with counts, its events,
  its proposals; `.../t/{code}/synthese.html|.pdf` its compiled synthesis;
- `/territoires/{c}/e/{event}` — an event's contribution: proposals with supports and
  arguments, experience reports, workshops' syntheses;
- `/territoires/{c}/p/{event}/{proposal}` — a proposal: origin, supports, arguments; for
  a reprise the trace back to the départements; and what became of it (the reprises that
  carry it forward);
- `/territoires/{c}/donnees.csv|.json?territoire=` — open data (Licence Ouverte 2.0), the
  JSON's schema at `/schemas/consultation.json` (also docs/consultation-schema.json).

Everything comes from this process' space (`app.state.spaces`), which holds only what was
published: nothing unpublished can reach a page, a search or an export.

Caching, so that nginx or a CDN can front the space: each answer is a function of its
address alone (the language is `?lang=`'s, never the cookie's, and no cookie is set), its
ETag is the consultation's `Published.version` with the language and the address, and a
request that names it in `If-None-Match` gets 304 with no body.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from live.consultation import views
from live.consultation.search import LIMIT_MAX, QUERY_MAX
from live.consultation.space import Space
from live.errors import RelaisError
from live.notes.synthesis import body_html, shift_headings
from live.participation.exports import LICENCE
from live.web import territorial_synthesis
from live.web.common import lang_of, refused, render, worker_refused
from live.web.urls import urls_of
from live.workers import Busy, Failed

BASE = "/territoires/{consultation}"

# A page may be a minute old: a publication shows everywhere within a minute, while a
# cache in front (nginx, a CDN) answers the many readers of a page in between. After
# that, the cache asks again with the ETag and mostly gets a bodiless 304.
CACHE_CONTROL = "public, max-age=60"

SEARCH_PER_PAGE = 20
SEARCH_PAGES = (10 * LIMIT_MAX) // SEARCH_PER_PAGE  # as deep as the index pages (offset)
PAGES_MAX = 1_000  # a listing's page number (25,000 proposals at 50 a page: 500 pages)
LATEST = 10  # contributions on the home page
EVENTS_SHOWN = 100  # on a territory's page (the national one has 270): the children say more
CARRIED_DEPTH = 10  # what became of a proposal, reprise of a reprise...
KEPT_SYNTHESES = 8  # compiled syntheses kept rendered, per process

Handler = Callable[[Request, Space], Awaitable[Response]]


class BadInput(RelaisError):
    """A query the space does not answer (too long, a page out of range, an unknown
    filter): 400, and which one."""


# -- caching --------------------------------------------------------------------------------


def _public(request: Request) -> Request:
    """The request as a shared cache sees it: without its cookies (the language is the
    address', `?lang=`), so that one URL always gets the same answer."""
    scope = dict(request.scope)
    scope["headers"] = [(k, v) for k, v in request.scope["headers"] if k != b"cookie"]
    return Request(scope, request.receive)


def etag(version: str, request: Request) -> str:
    query = sorted(request.query_params.multi_items())
    what = repr((lang_of(request), request.url.path, query)).encode()
    return f'"{version}-{hashlib.sha256(what).hexdigest()[:16]}"'


def _matches(request: Request, tag: str) -> bool:
    asked = request.headers.get("if-none-match", "")
    tags = {t.strip().removeprefix("W/") for t in asked.split(",")}
    return tag in tags or "*" in tags


def public(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page of one consultation's space: 404 for an unknown one, 304 when the client's
    copy is current, the refusals (`RelaisError`) in the page's language, the cache
    headers on every answer it gives."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        request = _public(request)
        spaces = request.app.state.spaces
        space: Space | None = spaces.get(request.path_params["consultation"])
        if space is None:
            return refused(request, RelaisError("not_found", "no such consultation"))
        tag = etag(space.published.version, request)
        headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL}
        if _matches(request, tag):
            return Response(status_code=304, headers=headers)
        try:
            response = await handler(request, space)
        except RelaisError as exc:
            return _uncookied(refused(request, exc))
        except (Busy, Failed) as exc:
            return _uncookied(worker_refused(request, exc))
        response.headers.update(headers)
        return _uncookied(response)

    return endpoint


def _uncookied(response: Response) -> Response:
    """No `lang` cookie from these pages (`render` sets one for `?lang=`): a response a
    shared cache keeps sets nothing for one reader."""
    if "set-cookie" in response.headers:
        del response.headers["set-cookie"]
    return response


# -- input ----------------------------------------------------------------------------------


def _page(request: Request, last: int = PAGES_MAX) -> int:
    raw = request.query_params.get("page", "1") or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= last:
        raise BadInput("space.bad_page", f"page must be 1 to {last}", last=last)
    return int(raw)


def territory_filter(request: Request, space: Space) -> str | None:
    code = request.query_params.get("territoire") or None
    if code is not None and code not in space.published.tree:
        raise BadInput("space.bad_territory", f"unknown territory {code[:64]}")
    return code


def _theme_subject(request: Request, space: Space) -> tuple[str | None, str | None]:
    consultation = space.consultation
    theme = request.query_params.get("theme") or None
    subject = request.query_params.get("subject") or None
    t = consultation.theme(theme) if theme else None
    if theme and t is None:
        raise BadInput("space.bad_theme", f"unknown theme {theme[:64]}")
    if subject and (t is None or t.subject(subject) is None):
        raise BadInput("space.bad_subject", f"unknown subject {subject[:64]}")
    return theme, subject


def _query(request: Request) -> str:
    q = request.query_params.get("q", "").strip()
    if len(q) > QUERY_MAX:
        raise BadInput("space.query_too_long", f"over {QUERY_MAX} characters", n=QUERY_MAX)
    return q


# -- what every page shares -----------------------------------------------------------------


def _titles(space: Space) -> dict[str, Any]:
    """Theme and subject titles by id, for the proposals' cards."""
    return {
        t.id: {"title": t.title, "subjects": {s.id: s.title for s in t.subjects}}
        for t in space.consultation.themes
    }


def _here(base: str, lang: str) -> Callable[..., str]:
    """The space's own addresses, `here("p", event, proposal)`, with `?lang=` unless
    French. Joined here rather than by the router (`Urls.path`: ~80 µs an address, and a
    page of 50 proposals holds 200 of them); every part is an id or a code (a slug)."""
    tail = f"?lang={lang}" if lang != "fr" else ""

    def here(*parts: str) -> str:
        return "/".join((base, *(quote(p, safe="") for p in parts))) + tail

    return here


def _page_of(request: Request, space: Space, name: str, **context: Any) -> Response:
    lang = lang_of(request)
    base = urls_of(request).path("territorial", consultation=space.consultation.id)
    return render(
        request,
        name,
        consultation=space.consultation,
        titles=_titles(space),
        L=lang if lang != "fr" else None,  # the language every link of the page carries
        here=_here(base, lang),
        query=dict(request.query_params),
        **context,
    )


# -- pages ----------------------------------------------------------------------------------


@public
async def home(request: Request, space: Space) -> Response:
    pub = space.published
    counts = {k: len(v) for k, v in pub.by_subject.items()}
    themes = [
        {
            "id": t.id,
            "title": t.title,
            "proposals": len(pub.by_theme.get(t.id, ())),
            "subjects": [
                {"id": s.id, "title": s.title, "proposals": counts.get((t.id, s.id), 0)}
                for s in t.subjects
            ],
        }
        for t in space.consultation.themes
    ]
    latest = sorted(pub.contributions.values(), key=lambda c: (c.published, c.event))[::-1]
    return _page_of(
        request,
        space,
        "territorial_home.html",
        themes=themes,
        tree=views.territory_tree(pub, empty=False),
        total=len(pub.entries),
        latest=[{**views.origin(pub, c), "proposals": len(c.proposals)} for c in latest[:LATEST]],
        licence=LICENCE,
    )


@public
async def search(request: Request, space: Space) -> Response:
    q = _query(request)
    theme, subject = _theme_subject(request, space)
    territory = territory_filter(request, space)
    page = _page(request, SEARCH_PAGES)
    results = space.search.search(
        q,
        theme=theme,
        subject=subject,
        territories=space.published.within(territory),
        limit=SEARCH_PER_PAGE,
        offset=(page - 1) * SEARCH_PER_PAGE,
    )
    pub = space.published
    hits = []
    for h in results.hits:
        c = pub.contributions.get(h.event)
        hits.append(
            {
                **h.to_dict(),
                "origin": views.origin(pub, c) if c else None,
                "local": h.id.partition("/")[2],
            }
        )
    return _page_of(
        request,
        space,
        "territorial_search.html",
        q=q,
        theme=theme,
        subject=subject,
        territory=pub.territory(territory) if territory else None,
        page=page,
        more=results.more and page < SEARCH_PAGES,
        hits=hits,
        searched=bool(results.terms),
        territories=_filter_territories(space),
    )


def _filter_territories(space: Space) -> list[dict[str, str]]:
    """The territories a search may be narrowed to: régions and académies, and below
    them those that published."""
    pub = space.published
    out = []
    for code in pub.counts:
        t = pub.tree.get(code)
        if t is not None and code != pub.consultation.territory:
            out.append({"code": code, "name": t.name, "level": t.level})
    order = {"region": 0, "academie": 1, "departement": 2}
    return sorted(out, key=lambda t: (order.get(t["level"], 3), t["name"]))


@public
async def subject(request: Request, space: Space) -> Response:
    territory = territory_filter(request, space)
    page = _page(request)
    view = views.subject_view(
        space.published,
        request.path_params["theme"],
        request.path_params["subject"],
        territory,
        page,
    )
    return _page_of(request, space, "territorial_subject.html", view=view)


@public
async def territory(request: Request, space: Space) -> Response:
    pub = space.published
    code = request.path_params["code"]
    if code not in pub.tree:
        raise RelaisError("not_found", f"unknown territory {code[:64]}")
    page = _page(request)
    tree = views.territory_tree(pub, code, empty=False)
    allowed = pub.tree.descendants(code)
    events = sorted(
        (c for c in pub.contributions.values() if c.territory in allowed),
        key=lambda c: (pub.tree.ancestors(c.territory)[::-1], c.event_date, c.event),
    )
    listing = views.browse(pub, territory=code, page=page)
    return _page_of(
        request,
        space,
        "territorial_territory.html",
        place=pub.territory(code),
        tree=tree,
        children=[pub.tree.get(k["code"]) for k in tree["children"]],
        events=[views.origin(pub, c) | {"proposals": len(c.proposals)} for c in events],
        events_shown=EVENTS_SHOWN,
        listing=listing,
        synthesis_size=territorial_synthesis.size(pub, code),
        synthesis_max=territorial_synthesis.MAX_PROPOSALS,
        pdf_max=territorial_synthesis.MAX_PDF_PROPOSALS,
    )


@public
async def event(request: Request, space: Space) -> Response:
    view = views.event_view(space.published, request.path_params["event"])
    syntheses = [{**s, "html": body_html(shift_headings(s["text"], 3))} for s in view["syntheses"]]
    return _page_of(request, space, "territorial_event.html", view=view, syntheses=syntheses)


@public
async def proposal(request: Request, space: Space) -> Response:
    pub = space.published
    pid = f"{request.path_params['event']}/{request.path_params['proposal']}"
    entry = pub.entries.get(pid)
    if entry is None:
        raise RelaisError("not_found", f"no published proposal {pid[:100]}")
    traced = views.trace(pub, pid) if entry.proposal.origins else None
    return _page_of(
        request,
        space,
        "territorial_proposal.html",
        p=views.card(pub, entry, arguments=True),
        trace=traced,
        became=_became(space, pid),
    )


def _became(space: Space, pid: str) -> list[dict[str, Any]]:
    """What became of a proposal: the reprises carrying it forward, each with those that
    carry it further (the results space, upward from it)."""
    pub = space.published

    def up(of: str, seen: frozenset[str], depth: int) -> list[dict[str, Any]]:
        out = []
        for rid in pub.carried_by.get(of, ()):
            if rid in seen or depth >= CARRIED_DEPTH:
                continue
            card = views.card(pub, pub.entries[rid])
            out.append({**card, "further": up(rid, seen | {rid}, depth + 1)})
        return out

    return up(pid, frozenset({pid}), 0)


routes: list[BaseRoute] = [
    Route(BASE, home, name="territorial"),
    Route(BASE + "/recherche", search, name="territorial_search"),
    Route(BASE + "/sujets/{theme}/{subject}", subject, name="territorial_subject"),
    Route(BASE + "/t/{code}", territory, name="territorial_territory"),
    Route(BASE + "/e/{event}", event, name="territorial_event"),
    Route(BASE + "/p/{event}/{proposal}", proposal, name="territorial_proposal"),
]
