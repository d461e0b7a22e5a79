"""Territorial space benchmark: 25,000 published proposals from 240 events, searched and
browsed.

A consultation like the 2020 "États généraux du numérique": each of the 30 académies
holds 8 departmental events (one per département, and where an académie has fewer than
8, more in local networks the consultation adds below them): 240 events publishing
25,000 proposals in all, French text drawn from a corpus of the consultation's own words
(the demo days' titles and the seeds' sentences, `CORPUS`), with supports, arguments and
subjects. Then each académie's day carries 20 of its départements' proposals forward
(merged or reworded) and the national day 50 of the académies'. Everything is published
through the store (`Contributions`, SQLite by default), then one process loads it
(`Spaces.load`: the records read, the search index and the pages' index built).

Measured on the domain, as a page handler calls it (no HTTP yet):
- search_*: `SearchIndex.search` for queries of 1 to 3 words drawn from the published
  text by frequency (the common words included: they match most proposals), accents
  dropped in a third of them, a filter by académie or theme in some;
- subject_view_*: `views.subject_view` of a random subject, nationally or within an
  académie, on one of its first pages;
- rollup_view_*: `views.rollup_view` of an académie's or the national event on a theme;
- trace_*: `views.trace` of a national reprise back to its départements;
- apply_ms: one département publishing again, as its process applies it (index and pages).

Each measure is a list of `Probe`s (a kind and its parameters) run by `domain_call`.

Then over HTTP (with `--backend sqlite` or `redis`; `--no-http` leaves it out): a real
server process (uvicorn, `bench.server.start_server`) on the same store loads the
consultation at start, and the same probes are asked as the pages' URLs (`http_path`),
one after the other on a kept-alive connection, each a full page (no `If-None-Match`):
- search_page_*: the territorial space's search page (`/territoires/{c}/recherche`);
- subject_page_*: a subject's page (`/territoires/{c}/sujets/{theme}/{subject}`);
- proposal_page_*: a national reprise's page with its trace (`/territoires/{c}/p/...`);
- rollup_page_*: the roll-up an upper event's organizer reviews (`ROLLUP_PAGE`, the
  publication pages' address; left out while it is empty);
- revalidate_*: a subject page asked again with its ETag (a cache in front revalidating:
  304, no body).

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.server import free_port, start_redis, start_server, stop  # noqa: E402
from live.backends.base import Backend, create_backend  # noqa: E402
from live.consultation import views  # noqa: E402
from live.consultation.model import (  # noqa: E402
    Consultation,
    Contribution,
    EventPlace,
    LocalTerritory,
    PublishedArgument,
    PublishedProposal,
)
from live.consultation.publish import reprise  # noqa: E402
from live.consultation.space import Space, Spaces  # noqa: E402
from live.consultation.store import Contributions  # noqa: E402
from live.event_file import parse_event  # noqa: E402
from live.links.signing import Signer  # noqa: E402
from live.territories import Territories  # noqa: E402

CONSULTATION = "bench-egn"
SECRET = "bench-consultation-secret"
WHEN = datetime(2020, 10, 20, 12, 0, tzinfo=UTC)

# The consultation's own words: sentences of the seeds (the Ariège invitation, the
# national platform, the Orléans-Tours and Rouen concertations, the Grand Est day) and
# of the proposals such days made. The demo days' titles are added at run time.
CORPUS = """
Suite au contexte particulier lié à la crise sanitaire et compte tenu de la forte
mobilisation des outils numériques lors de la période de confinement, une démarche de
consultation conduit aux états généraux du numérique pour l'éducation.
Cette démarche de concertation avec l'ensemble des acteurs de la communauté éducative,
élèves, professeurs, parents, agents ou personnels d'encadrement, sans oublier les
collectivités territoriales, les associations et les partenaires de l'école, doit
permettre de déterminer les éléments de la stratégie à privilégier pour l'avenir.
Un égal accès au numérique pour tous et la réduction de la fracture numérique.
Enseigner et apprendre avec le numérique, renouveler et diversifier les pratiques
pédagogiques et éducatives. Travailler ensemble autrement, une culture numérique
professionnelle commune. Un numérique responsable et souverain. Gouvernance et
anticipation. Continuité pédagogique, continuité éducative et administrative.
Nouvelles modalités de travail, à distance puis hybrides, en présence et à distance.
Désynchronisation des temps d'apprentissage et porosité des lieux d'apprentissage.
Le numérique, les apprentissages et la réussite de tous les élèves. Le numérique et les
compétences de demain. Le numérique, un facteur d'ouverture de l'école à son territoire
et à son environnement. Réduction des inégalités scolaires ou sociales, lutte contre le
décrochage, éducation à la citoyenneté et ouverture sur le monde.
Plusieurs projets numériques développés dans les écoles et établissements sont présentés
puis les participants prennent part à des ateliers organisés autour des thématiques.
Ils réfléchissent collectivement pour dégager des pistes d'actions menées au niveau local
voire national. Valoriser les expériences qui doivent inspirer collectivement pour mieux
faire réussir les élèves et identifier les défis à relever.
Près de deux cents personnes réparties sur sept sites interconnectés ont examiné une
trentaine de retours d'expériences. Les débats, riches et intenses, ont donné lieu à des
propositions concrètes. Tous les lycéens bénéficient d'un ordinateur offert par la
collectivité et le conservent pour la suite de leurs études.
Prêter un ordinateur portable aux élèves qui n'en ont pas dès la rentrée. Équiper les
écoles rurales en tablettes et en connexion à haut débit. Former les enseignants aux
usages pédagogiques du numérique par des formations courtes dans chaque bassin.
Accompagner les familles éloignées du numérique et la parentalité numérique.
Protéger les données personnelles des élèves et l'identité numérique. Choisir des
logiciels libres et des outils souverains. Un espace numérique de travail commun aux
départements de l'académie. Mutualiser les ressources pédagogiques entre collèges et
lycées. Développer l'inclusion des élèves en situation de handicap grâce aux outils
adaptés. Sensibiliser au développement durable, à la santé et au bien-être face aux
écrans. Coopérer avec les collectivités pour la maintenance des équipements.
Reconnaître le développement professionnel des personnels et les communautés de
pratiques. Anticiper les besoins et orienter les investissements avec les acteurs
économiques et les EdTech. Co-construire la gouvernance du numérique éducatif avec les
parents, les élèves et les collectivités territoriales.
"""

THEMES_FROM = ROOT / "live" / "demo" / "ariege-2020.yaml"
EVENTS_PER_ACADEMY = 8
ACADEMY_REPRISES = 20
NATIONAL_REPRISES = 50


# -- text ---------------------------------------------------------------------------------

WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿœŒ’'-]+|\d+")


def corpus_words(extra: list[Path]) -> list[str]:
    """The corpus' words in order (what the chain learns), with the demo days' texts and
    any `--seeds` files."""
    texts = [CORPUS]
    for path in sorted((ROOT / "live" / "demo").glob("*.yaml")):
        texts.append(" ".join(re.findall(r"title: \"?([^\"\n]+)", path.read_text("utf-8"))))
    texts += [p.read_text("utf-8", errors="replace") for p in extra]
    return [w.replace("’", "'") for t in texts for w in WORD.findall(t) if len(w) > 1]


class Chain:
    """A bigram chain over the corpus: sentences that read like the consultation's."""

    def __init__(self, words: list[str], rng: random.Random) -> None:
        self.rng = rng
        self.next: dict[str, list[str]] = {}
        for a, b in itertools.pairwise(words):
            self.next.setdefault(a.lower(), []).append(b.lower())
        self.starts = [w.lower() for w in words if len(w) > 3]

    def words(self, n: int) -> str:
        w = self.rng.choice(self.starts)
        out = [w]
        while len(out) < n:
            follow = self.next.get(w)
            w = self.rng.choice(follow) if follow else self.rng.choice(self.starts)
            out.append(w)
        text = " ".join(out)
        return text[0].upper() + text[1:]


# -- the consultation ---------------------------------------------------------------------


@dataclass
class World:
    consultation: Consultation
    departmental: list[Contribution]
    academies: list[Contribution] = field(default_factory=list)
    national: Contribution | None = None

    @property
    def all(self) -> list[Contribution]:
        return [*self.departmental, *self.academies, *([self.national] if self.national else [])]


def places(tree: Territories) -> tuple[list[EventPlace], list[LocalTerritory]]:
    """8 departmental events per académie: its départements in turn, and local networks
    below them when it has fewer than 8."""
    events, locals_ = [], []
    for academy in tree.all("academie"):
        deps = [t.code for t in tree.children(academy.code)]
        for i in range(EVENTS_PER_ACADEMY):
            dep = deps[i % len(deps)]
            if i < len(deps):
                events.append(EventPlace(event=f"{dep}-2020", territory=dep))
            else:
                code = f"loc-{dep[4:]}-{i}"
                locals_.append(LocalTerritory(code=code, name=f"Réseau {i} ({dep})", parent=dep))
                events.append(EventPlace(event=f"{code}-2020", territory=code))
        events.append(EventPlace(event=f"{academy.code}-2020", territory=academy.code))
    events.append(EventPlace(event="national-2020", territory="fr"))
    return events, locals_


def build(args: argparse.Namespace) -> World:
    rng = random.Random(args.seed)
    chain = Chain(corpus_words([Path(p) for p in args.seeds]), rng)
    themes = parse_event(THEMES_FROM.read_text("utf-8")).themes
    events, locals_ = places(Territories.reference())
    consultation = Consultation(
        id=CONSULTATION,
        title="États généraux du numérique pour l'éducation",
        themes=themes,
        locals=tuple(locals_),
        events=tuple(events),
    )
    tree = consultation.territories()
    departmental = [e for e in events if tree.level_of(e.territory) in ("departement", "local")]
    per_event, extra = divmod(args.proposals, len(departmental))
    contributions = []
    for n, place in enumerate(departmental):
        territory = tree.get(place.territory)
        proposals = []
        for i in range(per_event + (n < extra)):
            theme = rng.choice(themes)
            subject = rng.choice(theme.subjects)
            proposals.append(
                PublishedProposal(
                    id=f"{place.event}/p{i + 1}",
                    theme=theme.id,
                    subject=subject.id,
                    title=chain.words(rng.randint(4, 10))[:200],
                    body=chain.words(rng.randint(15, 70))[:2000],
                    supports=int(rng.paretovariate(1.2)) - 1 + rng.randint(0, 5),
                    arguments=tuple(
                        PublishedArgument(
                            stance=rng.choice(("pour", "pour", "contre", "nuance")),
                            text=chain.words(rng.randint(6, 25))[:600],
                        )
                        for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 5)))
                    ),
                )
            )
        contributions.append(
            Contribution(
                consultation=consultation.id,
                event=place.event,
                event_title=f"Consultation territoriale — {territory.name if territory else ''}",
                event_date=date(2020, 9, 15 + n % 15),
                territory=place.territory,
                published=WHEN,
                proposals=tuple(proposals),
            )
        )
    world = World(consultation, contributions)
    roll_up(world, rng, chain)
    return world


def roll_up(world: World, rng: random.Random, chain: Chain) -> None:
    """Each académie's day carries 20 proposals of its départements forward, the national
    day 50 of the académies'."""
    c = world.consultation
    tree = c.territories()
    for academy in tree.all("academie"):
        below = [d for d in world.departmental if tree.within(d.territory, academy.code)]
        mine = Contribution(
            consultation=c.id,
            event=f"{academy.code}-2020",
            event_title=f"Journée académique — {academy.name}",
            event_date=date(2020, 10, 10),
            territory=academy.code,
            published=WHEN,
        )
        by_subject: dict[tuple[str, str], list[str]] = {}
        for d in below:
            for p in d.proposals:
                by_subject.setdefault((p.theme, p.subject), []).append(p.id)
        keys = sorted(by_subject)
        for _ in range(ACADEMY_REPRISES):
            pool = by_subject[rng.choice(keys)]
            merged = rng.random() < 0.7 and len(pool) > 1
            origins = rng.sample(pool, rng.randint(2, min(4, len(pool))) if merged else 1)
            title = chain.words(rng.randint(5, 10))
            kind = "merged" if merged else "reworded"
            mine = reprise(c, mine, below, origins, kind, title, chain.words(30))  # type: ignore[arg-type]
        world.academies.append(mine)
    national = Contribution(
        consultation=c.id,
        event="national-2020",
        event_title="États généraux du numérique — Poitiers",
        event_date=date(2020, 11, 4),
        territory="fr",
        published=WHEN,
    )
    by_theme: dict[str, list[str]] = {}
    for a in world.academies:
        for p in a.proposals:
            by_theme.setdefault(p.theme, []).append(p.id)
    for _ in range(NATIONAL_REPRISES):
        pool = by_theme[rng.choice(sorted(by_theme))]
        origins = rng.sample(pool, min(len(pool), rng.randint(2, 5)))
        national = reprise(
            c, national, world.academies, origins, "merged", chain.words(8), chain.words(40)
        )
    world.national = national


# -- probes: what a page asks -------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    kind: str  # search, subject, rollup, trace
    params: dict[str, Any]


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def probes(world: World, args: argparse.Namespace) -> dict[str, list[Probe]]:
    rng = random.Random(args.seed + 1)
    c = world.consultation
    academies = [t.code for t in c.territories().all("academie")]
    text = " ".join(f"{p.title} {p.body}" for d in world.departmental for p in d.proposals)
    frequency = Counter(w.lower() for w in WORD.findall(text) if len(w) >= 4)
    vocabulary, weights = zip(*frequency.items(), strict=True)
    out: dict[str, list[Probe]] = {"search": [], "subject": [], "rollup": [], "trace": []}
    for _ in range(args.queries):
        words = rng.choices(vocabulary, weights, k=rng.choice((1, 1, 1, 2, 2, 3)))
        query = " ".join(words)
        if rng.random() < 1 / 3:
            query = fold(query)
        params: dict[str, Any] = {"q": query}
        if rng.random() < 0.25:
            params["territory"] = rng.choice(academies)
        if rng.random() < 0.2:
            params["theme"] = rng.choice(c.themes).id
        out["search"].append(Probe("search", params))
    for _ in range(args.views):
        theme = rng.choice(c.themes)
        params = {"theme": theme.id, "subject": rng.choice(theme.subjects).id}
        if rng.random() < 0.4:
            params["territory"] = rng.choice(academies)
        params["page"] = rng.choice((1, 1, 1, 2, 3))
        out["subject"].append(Probe("subject", params))
        event = rng.choice([*(f"{a}-2020" for a in academies), "national-2020"])
        params = {"event": event, "theme": rng.choice(c.themes).id, "page": rng.choice((1, 1, 2))}
        out["rollup"].append(Probe("rollup", params))
        assert world.national is not None
        out["trace"].append(Probe("trace", {"id": rng.choice(world.national.proposals).id}))
    return out


def domain_call(space: Space, probe: Probe) -> Callable[[], object]:
    """What a page handler calls for `probe`, on this process' space."""
    p = probe.params
    if probe.kind == "search":
        allowed = space.published.within(p.get("territory"))
        return lambda: [
            h.to_dict()
            for h in space.search.search(p["q"], theme=p.get("theme"), territories=allowed).hits
        ]
    if probe.kind == "subject":
        return lambda: views.subject_view(
            space.published, p["theme"], p["subject"], p.get("territory"), p["page"]
        )
    if probe.kind == "rollup":
        return lambda: views.rollup_view(space.published, p["event"], p["theme"], page=p["page"])
    if probe.kind == "trace":
        return lambda: views.trace(space.published, p["id"])
    raise ValueError(probe.kind)


SPACE = f"/territoires/{CONSULTATION}"
# The roll-up page an upper event's organizer reviews (helper F's publication pages): a
# format string of {event}, {theme} and {page} (and {k}, an organizer link of the event,
# if the page wants one). Empty: rollup_page_* is not measured.
ROLLUP_PAGE = "/e/{event}/reprise/atelier-{theme}?k={k}&page={page}"


def http_path(probe: Probe) -> str | None:
    """The page that shows `probe`, as a path with its query (None: no such page yet)."""
    p = probe.params
    if probe.kind == "search":
        query = {"q": p["q"], "theme": p.get("theme"), "territoire": p.get("territory")}
        return f"{SPACE}/recherche?{urlencode({k: v for k, v in query.items() if v})}"
    if probe.kind == "subject":
        query = {"territoire": p.get("territory"), "page": p["page"]}
        tail = urlencode({k: v for k, v in query.items() if v})
        return f"{SPACE}/sujets/{p['theme']}/{p['subject']}?{tail}"
    if probe.kind == "trace":
        event, _, proposal = p["id"].partition("/")
        return f"{SPACE}/p/{event}/{proposal}"
    if probe.kind == "rollup":
        if not ROLLUP_PAGE:
            return None
        k = Signer(SECRET).sign(p["event"], "organizer") if "{k}" in ROLLUP_PAGE else ""
        return ROLLUP_PAGE.format(event=p["event"], theme=p["theme"], page=p["page"], k=k)
    raise ValueError(probe.kind)


# -- measures -----------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(calls: list[Callable[[], object]], warmup: int = 20) -> list[float]:
    """Each call's wall time in ms, after a few untimed ones (caches warm, as a server's)."""
    for call in calls[:warmup]:
        call()
    out = []
    for call in calls:
        t = time.perf_counter()
        call()
        out.append((time.perf_counter() - t) * 1000)
    return out


def figures(name: str, ms: list[float]) -> dict[str, float]:
    return {
        f"{name}_p50_ms": round(pct(ms, 50), 2),
        f"{name}_p99_ms": round(pct(ms, 99), 2),
        f"{name}_max_ms": round(max(ms), 2),
    }


def over_http(env: dict[str, str], asked: dict[str, list[Probe]]) -> dict[str, Any]:
    """The pages over HTTP, from a server process started on the run's store."""
    port = free_port()
    t = time.perf_counter()
    server = start_server(port, env)
    out: dict[str, Any] = {"server_start_s": round(time.perf_counter() - t, 1)}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:

            def page(path: str, headers: dict[str, str] | None = None) -> Callable[[], object]:
                def get() -> object:
                    answer = client.get(path, headers=headers)
                    if answer.status_code not in (200, 304):
                        raise RuntimeError(f"{path}: {answer.status_code}")
                    return answer

                return get

            for kind, name in (
                ("search", "search_page"),
                ("subject", "subject_page"),
                ("trace", "proposal_page"),
                ("rollup", "rollup_page"),
            ):
                paths = [q for p in asked[kind] if (q := http_path(p)) is not None]
                if paths:
                    out.update(figures(name, timed([page(q) for q in paths])))
            subject = http_path(asked["subject"][0]) or ""
            tag = client.get(subject).headers.get("etag", "")
            again = [page(subject, {"If-None-Match": tag})] * 200
            out.update(figures("revalidate", timed(again)))
            out["revalidate_status"] = client.get(
                subject, headers={"If-None-Match": tag}
            ).status_code
    finally:
        stop(server)
    return out


async def serve_upper_events(backend: Backend, world: World) -> None:
    """The académies' days and the national day as served events (the roll-up page is an
    event's): the Ariège day's programme, one workshop per theme (`atelier-{theme}`), in
    each one's territory."""
    text = THEMES_FROM.read_text("utf-8")
    for c in [*world.academies, *([world.national] if world.national else [])]:
        day = re.sub(r"(?m)^id: .*$", f"id: {c.event}", text, count=1)
        day = re.sub(r"(?m)^territory: .*$", f"territory: {c.territory}", day, count=1)
        await backend.put_definition(c.event, day)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    t = time.perf_counter()
    world = build(args)
    generated_s = time.perf_counter() - t
    data = Path(tempfile.mkdtemp(prefix="relais-bench-consultation-"))
    redis, redis_url = None, args.redis_url
    if args.backend == "redis" and not redis_url:
        redis, redis_url = start_redis(data / "redis")  # the run's own
    backend: Backend = create_backend(args.backend, str(data), redis_url)
    await backend.open()
    try:
        store = Contributions(backend)
        await store.put_consultation(world.consultation)
        t = time.perf_counter()
        for c in world.all:
            await store.publish(c)
        publish_s = time.perf_counter() - t
        spaces = Spaces(store)
        t = time.perf_counter()
        await spaces.load()
        load_ms = (time.perf_counter() - t) * 1000
        space = spaces.get(CONSULTATION)
        assert space is not None
        asked = probes(world, args)
        out: dict[str, Any] = {
            "events": len(world.all),
            "departmental_events": len(world.departmental),
            "departmental_proposals": sum(len(c.proposals) for c in world.departmental),
            "proposals": sum(len(c.proposals) for c in world.all),
            "reprises": sum(len(c.proposals) for c in [*world.academies, world.national] if c),
            "backend": args.backend,
            "generated_s": round(generated_s, 1),
            "publish_s": round(publish_s, 1),
            "load_ms": round(load_ms),
        }
        hits = [len(space.search.search(p.params["q"]).hits) for p in asked["search"][:200]]
        out["search_with_hits"] = round(sum(h > 0 for h in hits) / len(hits), 2)
        for kind, name in (
            ("search", "search"),
            ("subject", "subject_view"),
            ("rollup", "rollup_view"),
            ("trace", "trace"),
        ):
            out.update(figures(name, timed([domain_call(space, p) for p in asked[kind]])))
        out.update(figures("tree", timed([lambda: views.territory_tree(space.published)] * 50)))
        again = world.departmental[0]
        out.update(figures("apply", timed([lambda: space.apply(again)] * 10, warmup=1)))
        if args.http and args.backend != "memory":
            await serve_upper_events(backend, world)
            env = {"RELAIS_DATA": str(data), "RELAIS_SECRET": SECRET, "LIVE_BACKEND": args.backend}
            if redis_url:
                env["REDIS_URL"] = redis_url
            out.update(await asyncio.to_thread(over_http, env, asked))
        return out
    finally:
        await backend.close()
        stop(redis)
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=25_000, help="over the 240 events")
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--views", type=int, default=1_000, help="of each page kind")
    parser.add_argument("--backend", default="sqlite", choices=["memory", "sqlite", "redis"])
    parser.add_argument("--redis-url", default="", help="default: a redis-server of the run's own")
    parser.add_argument("--seeds", nargs="*", default=[], help="more French text files")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument(
        "--no-http", dest="http", action="store_false", help="the domain only, no server"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
