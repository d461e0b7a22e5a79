"""The synthesis downloads: rendered in a worker process, and rendered once while the
notes stay the same (a second download, or two at once, cost no render)."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from live.app import create_app
from live.backends.memory import MemoryBackend
from live.config import Settings
from live.event_file import parse_event
from live.links.signing import Signer
from live.notes.exports import Exports, fingerprint
from live.notes.synthesis import Synthesis, collect
from live.workers import Workers
from tests.notes.test_synthesis import EVENT_YAML

T = TypeVar("T")


class CountedWorkers(Workers):
    """Real workers that count the jobs they are given."""

    jobs = 0

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        self.jobs += 1
        return await super().run(fn, *args)


@pytest.fixture
async def workers() -> AsyncIterator[CountedWorkers]:
    pool = CountedWorkers(size=1)
    yield pool
    pool.close()


@pytest.fixture
async def synthesis() -> Synthesis:
    return await collect(parse_event(EVENT_YAML), MemoryBackend())


def with_notes(s: Synthesis, text: str) -> Synthesis:
    """The same synthesis with the first workshop's notes replaced."""
    theme, items = s.themes[0]
    changed = (theme, (dataclasses.replace(items[0], text=text), *items[1:]))
    return dataclasses.replace(s, themes=(changed, *s.themes[1:]))


async def test_an_unchanged_synthesis_downloaded_again_is_not_rendered_again(
    workers: CountedWorkers, synthesis: Synthesis
) -> None:
    exports = Exports(workers)
    first = await exports.synthesis(synthesis, "pdf", "fr")
    again = await exports.synthesis(synthesis, "pdf", "fr")
    assert first.startswith(b"%PDF-") and again == first
    assert workers.jobs == 1


async def test_new_notes_another_format_or_language_render_anew(
    workers: CountedWorkers, synthesis: Synthesis
) -> None:
    exports = Exports(workers)
    md = await exports.synthesis(synthesis, "md", "fr")
    assert await exports.synthesis(synthesis, "md", "en") != md
    assert await exports.synthesis(synthesis, "html", "fr") != md
    changed = await exports.synthesis(with_notes(synthesis, "- Fibre partout"), "md", "fr")
    assert b"Fibre partout" in changed
    assert workers.jobs == 4


async def test_two_downloads_at_once_share_one_render(
    workers: CountedWorkers, synthesis: Synthesis
) -> None:
    exports = Exports(workers)
    a, b = await asyncio.gather(
        exports.synthesis(synthesis, "pdf", "fr"), exports.synthesis(synthesis, "pdf", "fr")
    )
    assert a == b and workers.jobs == 1


async def test_the_kept_files_are_bounded_the_least_recently_used_going_first(
    workers: CountedWorkers, synthesis: Synthesis
) -> None:
    exports = Exports(workers, max_entries=2)
    for text in ("un", "deux", "trois"):
        await exports.synthesis(with_notes(synthesis, text), "md", "fr")
    await exports.synthesis(with_notes(synthesis, "trois"), "md", "fr")  # kept
    assert workers.jobs == 3
    await exports.synthesis(with_notes(synthesis, "un"), "md", "fr")  # was dropped
    assert workers.jobs == 4


def test_the_fingerprint_tells_apart_notes_that_only_move_between_workshops(
    synthesis: Synthesis,
) -> None:
    first, (theme, items) = synthesis.themes[0], synthesis.themes[1]  # Accès: two workshops
    ab = (dataclasses.replace(items[0], text="ab"), dataclasses.replace(items[1], text="c"))
    a_bc = (dataclasses.replace(items[0], text="a"), dataclasses.replace(items[1], text="bc"))
    one = dataclasses.replace(synthesis, themes=(first, (theme, ab)))
    other = dataclasses.replace(synthesis, themes=(first, (theme, a_bc)))
    assert fingerprint(one, "md", "fr") != fingerprint(other, "md", "fr")


async def test_a_download_while_the_workers_are_taken_is_answered_503_with_a_delay(
    tmp_path: Path,
) -> None:
    """Said in the page's language, with Retry-After; the same download works after."""
    settings = Settings(data_dir=tmp_path, backend="memory", secret="s", demo=True)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        workers = Workers(size=1, queue=0)
        app.state.exports = Exports(workers)
        k = Signer("s").sign("ariege-2020", "organizer")
        url = f"/e/ariege-2020/synthesis?format=pdf&k={k}"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relais.test") as web:
            taken = asyncio.create_task(workers.run(time.sleep, 1.0))
            await asyncio.sleep(0.1)
            refused = await web.get(url)
            await taken
            served = await web.get(url)
        workers.close()
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
    assert "Le serveur prépare déjà d'autres documents" in html.unescape(refused.text)
    assert served.status_code == 200 and served.content.startswith(b"%PDF-")
