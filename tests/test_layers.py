"""The shape of the package, as issue 21 set it: `web/` is the one HTTP layer, under `app`
and the CLI alone; the capabilities below it; the base below them; nothing imports upward
and no modules import each other in a circle (but the backend factory, which picks a
backend by name among the modules beside it). `python -m tests.support.imports` prints
the graph these tests read."""

from __future__ import annotations

from tests.support.imports import cycles, graph, part_of, parts_graph

TOP = {"app", "cli"}
CAPABILITIES = {
    "agenda",
    "links",
    "notes",
    "participation",
    "people",
    "plenary",
    "studio",
    "retention",
}
BASE = {
    "assets",
    "backends",
    "config",
    "errors",
    "event_checks",
    "event_file",
    "eventlog",
    "gcpolicy",
    "i18n",
    "logs",
    "model",
    "ratelimit",
    "territories",
    "workers",
}
# Capabilities may use those listed before them, never those after.
ORDER = [
    "links",
    "accounts",
    "agenda",
    "participation",
    "consultation",
    "people",
    "notes",
    "plenary",
    "studio",
    "retention",
]


def test_only_the_web_layer_and_the_app_speak_http() -> None:
    speaking = {
        module
        for module, names in graph().items()
        if any(n == "starlette" or n.startswith("starlette.") for n in names)
    }
    assert {m for m in speaking if part_of(m) not in ("web", "app")} == set()


def test_the_web_layer_sits_under_the_app_and_the_cli_alone() -> None:
    parts = parts_graph()
    assert {p for p, uses in parts.items() if "web" in uses} <= TOP


def test_nothing_imports_the_app_or_the_cli() -> None:
    parts = parts_graph()
    assert {p for p, uses in parts.items() if uses & TOP and p not in TOP} == set()


def test_the_base_imports_no_capability() -> None:
    parts = parts_graph()
    assert {p: uses - BASE for p, uses in parts.items() if p in BASE and uses - BASE} == {}


def test_no_capability_imports_one_above_it() -> None:
    parts = parts_graph()
    upward = {
        (p, q)
        for p, uses in parts.items()
        if p in ORDER
        for q in uses
        if q in ORDER and ORDER.index(q) > ORDER.index(p)
    }
    assert upward == set()


def test_no_modules_import_each_other_in_a_circle_but_the_backend_factory() -> None:
    modules = {m: {n for n in names if n.startswith("live.")} for m, names in graph().items()}
    factory = ["live.backends.base", "live.backends.memory", "live.backends.redis"]
    factory += ["live.backends.sqlite"]
    assert [c for c in cycles(modules) if c != sorted(factory)] == []
