"""A consultation served over HTTP for the publication and roll-up tests: the Vienne's and
the Deux-Sèvres' afternoons (départements of the académie de Poitiers) feed the Poitiers
day (académie), which feeds a national day with the Ariège's afternoon (académie de
Toulouse); every day has the five themes of 2020, and people made proposals in the
workshops of the départements and of the Ariège.

The app is the real one (demo days loaded), driven through httpx's ASGI transport; the
extra days are loaded as `relais import` does, and the demo consultation `egn-2020` is
edited through the studio's consultation page to list them."""

from __future__ import annotations

import http.cookies
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from live.accounts.grants import Grant
from live.app import create_app
from live.config import Settings
from live.participation.commands import Actor

BASE = "http://relais.test"
SECRET = "test-secret-publication"
OURS = {"origin": BASE}  # what a browser sends with a POST from Relais' own page
THEIRS = {"origin": "https://attacker.example"}
CAMILLE = "camille.martin@ac-poitiers.fr"  # organizer of the académie de Poitiers
TOULOUSE = "dominique.roux@ac-toulouse.fr"  # organizer of the académie de Toulouse
CONSULTATION = "egn-2020"
DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"

# The days the tests add, made from the Ariège's file: id, title, territory.
DAYS = {
    "vienne-2020": ("Consultation de la Vienne", "dep-86"),
    "deux-sevres-2020": ("Consultation des Deux-Sèvres", "dep-79"),
    "national-2020": ("Journées nationales", "fr"),
}
ALL_EVENTS = ["ariege-2020", "poitiers-2020", "grand-est-2020", *DAYS]


def day(event_id: str, title: str, territory: str) -> str:
    text = (DEMO / "ariege-2020.yaml").read_text(encoding="utf-8")
    text = text.replace("id: ariege-2020", f"id: {event_id}", 1)
    text = re.sub(r"^title: .*$", f'title: "{title}"', text, count=1, flags=re.M)
    return text.replace("territory: dep-09", f"territory: {territory}", 1)


def link(app: Starlette, event: str, role: str, **claims: Any) -> str:
    token: str = app.state.signer.sign(event, role, **claims)
    return token


def admin_link(app: Starlette) -> str:
    token: str = app.state.signer.sign_admin()
    return token


async def propose(app: Starlette, event_id: str, workshop: str, *texts: tuple[str, str]) -> None:
    """People's proposals in a workshop, each supported by a few others."""
    room = await app.state.participation.of(app.state.catalogue.get(event_id).event)
    n = len(room.state.proposals)
    for i, (title, body) in enumerate(texts):
        author = Actor(f"person:{event_id}-{n + i}", "participant", workshop, "foix")
        await room.command("propose", {"title": title, "body": body}, author, "l", f"p{n + i}")
        pid = f"p{n + i + 1}"
        for s in range(i + 1):
            fan = Actor(f"person:fan-{n + i}-{s}", "participant", workshop, "foix")
            await room.command("support", {"proposal": pid}, fan, "l", f"s{n + i}-{s}")


async def act(app: Starlette, event_id: str, workshop: str, name: str, **args: Any) -> None:
    room = await app.state.participation.of(app.state.catalogue.get(event_id).event)
    who = Actor(f"person:someone-{name}", "participant", workshop, "foix")
    if name in ("hide", "retain", "merge"):
        who = Actor(f"rapporteur:{workshop}", "rapporteur", workshop, "foix")
    await room.command(name, args, who, "l", f"{name}-{len(room.state.proposals)}-{args}")


def consultation_form(events: list[str], **more: str) -> dict[str, Any]:
    return {
        "title": "États généraux du numérique pour l'éducation (2020)",
        "territory": "fr",
        "copy_themes": "ariege-2020",
        "themes": "",
        "locals": "",
        "events": events,
        **more,
    }


async def build(tmp_path: Path) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    settings = Settings(
        backend="memory", data_dir=tmp_path, secret=SECRET, demo=True, base_url=BASE
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        for event_id, (title, territory) in DAYS.items():
            await app.state.catalogue.put(day(event_id, title, territory), f"{event_id}.yaml")
        await app.state.accounts.grant(Grant(CAMILLE, "organizer", territory="ac-poitiers"), "test")
        await app.state.accounts.grant(
            Grant(TOULOUSE, "organizer", territory="ac-toulouse"), "test"
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            answer = await client.post(
                f"/admin/consultations/{CONSULTATION}",
                params={"k": admin_link(app)},
                data=consultation_form(ALL_EVENTS),
            )
            assert answer.status_code == 303, answer.text
            await propose(
                app,
                "vienne-2020",
                "atelier-acces",
                (
                    "Des ordinateurs prêtés aux élèves",
                    "Dès la rentrée, pour ceux qui n'en ont pas.",
                ),
                ("Le wifi dans chaque collège", "Un réseau fiable."),
            )
            await propose(
                app,
                "deux-sevres-2020",
                "atelier-acces",
                ("Un ordinateur par élève", "Équiper les collégiens."),
            )
            await propose(
                app,
                "ariege-2020",
                "atelier-acces",
                ("Des équipements pour chaque élève", "Prêter un ordinateur."),
            )
            await propose(
                app, "vienne-2020", "atelier-enseigner", ("Former les enseignants", "Au numérique.")
            )
            yield app, client


async def signed_in(app: Starlette, client: httpx.AsyncClient, email: str) -> None:
    """A session for `email`, as the sign-in leaves it (its cookie in the client)."""
    key = await app.state.sessions.open(email, email.split("@")[0])
    client.cookies.set("relais_session", key)


def cookie_of(answer: httpx.Response) -> http.cookies.SimpleCookie:
    jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    for header in answer.headers.get_list("set-cookie"):
        jar.load(header)
    return jar


def publish_form(proposals: list[str], **more: Any) -> dict[str, Any]:
    """The review's form as a browser sends it after the organizer's choices."""
    return {"action": "publish", "proposal": proposals, "reports": "0", **more}


async def publish(
    client: httpx.AsyncClient, app: Starlette, event: str, proposals: list[str], **more: Any
) -> httpx.Response:
    return await client.post(
        f"/e/{event}/publication",
        params={"k": link(app, event, "organizer")},
        data=publish_form(proposals, **more),
    )


def published(app: Starlette, event: str) -> Any:
    return app.state.spaces.get(CONSULTATION).contributions.get(event)
