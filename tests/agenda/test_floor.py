"""The floor of the plenary as agenda commands, as a régie and the sites' hosts would say it:
a site asks, the régie gives it the floor, then takes it back to the speaker."""

from __future__ import annotations

import pytest

from live.agenda.commands import CommandError, check, replay
from live.agenda.state import Rejected, State
from tests.agenda.test_run_of_show import POITIERS, T0, Run


def poitiers() -> Run:
    run = Run(POITIERS)
    run.do("step.goto", T0, step="ouverture")
    return run


def test_the_speaker_has_the_floor_at_first() -> None:
    state = State()
    assert state.floor == "speaker" and state.requests == []


def test_sites_asking_for_the_floor_wait_in_the_order_they_asked() -> None:
    run = poitiers()
    run.do("floor.ask", site="niort")
    run.do("floor.ask", site="angouleme")
    assert run.state.requests == ["niort", "angouleme"]
    assert run.state.floor == "speaker"


def test_the_regie_gives_the_floor_to_a_site_and_that_answers_its_request() -> None:
    run = poitiers()
    run.do("floor.ask", site="niort")
    run.do("floor.ask", site="angouleme")
    run.do("floor.give", feed="site:niort")
    assert run.state.floor == "site:niort"
    assert run.state.requests == ["angouleme"]


def test_the_regie_may_give_the_floor_to_a_site_that_did_not_ask() -> None:
    run = poitiers()
    run.do("floor.give", feed="site:saint-jean")
    assert run.state.floor == "site:saint-jean"


def test_taking_the_floor_back_returns_it_to_the_speaker() -> None:
    run = poitiers()
    run.do("floor.give", feed="site:niort")
    run.do("floor.back")
    assert run.state.floor == "speaker"
    run.do("floor.give", feed="site:niort")
    run.do("floor.give", feed="speaker")  # the same, said the other way
    assert run.state.floor == "speaker"


def test_a_request_is_withdrawn_by_its_host_or_dismissed_by_the_regie() -> None:
    run = poitiers()
    run.do("floor.ask", site="niort")
    run.do("floor.ask", site="angouleme")
    run.do("floor.cancel", site="niort")
    assert run.state.requests == ["angouleme"]


@pytest.mark.parametrize(
    ("name", "args", "code"),
    [
        ("floor.give", {"feed": "site:nowhere"}, "no_such_site"),
        ("floor.ask", {"site": "nowhere"}, "no_such_site"),
        ("floor.ask", {"site": "niort"}, "already_asked"),
        ("floor.ask", {"site": "angouleme"}, "has_floor"),
        ("floor.give", {"feed": "site:angouleme"}, "has_floor"),
        ("floor.cancel", {"site": "poitiers"}, "not_asked"),
    ],
)
def test_what_cannot_apply_is_refused_and_changes_nothing(
    name: str, args: dict[str, str], code: str
) -> None:
    run = poitiers()
    run.do("floor.ask", site="niort")
    run.do("floor.give", feed="site:angouleme")
    before = run.state
    with pytest.raises(Rejected) as exc:
        run.do(name, **args)
    assert exc.value.code == code
    assert run.state is before


def test_back_when_the_speaker_has_the_floor_is_refused() -> None:
    with pytest.raises(Rejected) as exc:
        poitiers().do("floor.back")
    assert exc.value.code == "floor_with_speaker"


def test_a_host_asks_for_its_own_site_only() -> None:
    assert check("floor.ask", {}, "host", "niort") == {"site": "niort"}
    assert check("floor.cancel", {"site": "niort"}, "host", "niort") == {"site": "niort"}
    for args, site in (({"site": "angouleme"}, "niort"), ({}, None)):
        with pytest.raises(CommandError) as exc:
            check("floor.ask", args, "host", site)
        assert exc.value.code == "forbidden"


def test_only_the_regie_gives_and_takes_back_the_floor_and_only_hosts_ask() -> None:
    for role in ("host", "screen", "speaker", "participant", "rapporteur", "public"):
        for name, args in (("floor.give", {"feed": "site:niort"}), ("floor.back", {})):
            with pytest.raises(CommandError) as exc:
                check(name, args, role, "niort")
            assert exc.value.code == "forbidden"
    for role in ("facilitator", "organizer", "screen", "speaker", "participant"):
        with pytest.raises(CommandError):
            check("floor.ask", {"site": "niort"}, role, "niort")
    assert check("floor.give", {"feed": "site:niort"}, "facilitator") == {"feed": "site:niort"}
    assert check("floor.cancel", {"site": "niort"}, "organizer") == {"site": "niort"}
    with pytest.raises(CommandError) as bad:
        check("floor.give", {"feed": "niort"}, "facilitator")  # not a feed name
    assert bad.value.code == "invalid_args"


def test_undo_takes_back_the_regies_command_never_a_sites_request() -> None:
    run = poitiers()
    run.do("floor.ask", site="niort")
    run.do("floor.give", feed="site:niort")
    run.do("floor.ask", site="angouleme")  # since: the régie's undo must keep it
    assert run.state.last is not None and run.state.last["name"] == "floor.give"
    run.do("undo", seq=run.state.last["seq"])
    assert run.state.floor == "speaker"
    assert run.state.requests == ["niort", "angouleme"]


def test_who_has_the_floor_is_rebuilt_from_the_log_and_kept_in_snapshots() -> None:
    run = poitiers()
    run.do("floor.ask", site="niort")
    run.do("floor.ask", site="angouleme")
    run.do("floor.give", feed="site:niort")
    assert replay(run.log, POITIERS) == run.state
    restored = State.from_dict(run.state.to_dict())
    assert restored.floor == "site:niort" and restored.requests == ["angouleme"]
    assert run.state.public()["floor"] == "site:niort"


def test_a_snapshot_from_before_the_floor_existed_still_loads() -> None:
    old = State().to_dict()
    del old["floor"], old["requests"]
    assert State.from_dict(old).floor == "speaker"


def test_the_floor_may_be_taken_back_after_the_end_of_the_day() -> None:
    run = poitiers()
    run.do("floor.give", feed="site:niort")
    run.do("event.end")
    run.do("floor.back")
    assert run.state.floor == "speaker"
    with pytest.raises(Rejected) as exc:
        run.do("floor.give", feed="site:niort")
    assert exc.value.code == "ended"
