"""The wire schema and the command checks, without a socket."""

from __future__ import annotations

import json

import pytest

from live.agenda import commands, protocol


def error_code(text: str | bytes, limit: int = 1000) -> str:
    with pytest.raises(protocol.MessageError) as exc:
        protocol.parse(text, limit)
    return exc.value.code


def test_valid_messages_parse() -> None:
    assert isinstance(protocol.parse('{"type":"hello","since":3}', 100), protocol.Hello)
    cmd = protocol.parse('{"type":"command","id":"a","name":"step.next"}', 100)
    assert isinstance(cmd, protocol.Command) and cmd.args == {}
    assert isinstance(protocol.parse('{"type":"ping","t0":1.5}', 100), protocol.Ping)


def test_malformed_oversized_and_unknown_messages_have_codes() -> None:
    assert error_code("{") == "bad_json"
    assert error_code(b"\xff\xfe") == "bad_json"
    assert error_code("x" * 2000) == "too_large"
    assert error_code('{"type":"nope"}') == "invalid_message"
    assert error_code('{"type":"hello","since":-1}') == "invalid_message"
    assert error_code('{"type":"command","id":"a","name":"x","extra":1}') == "invalid_message"


def test_an_invalid_command_keeps_its_id_in_the_error() -> None:
    with pytest.raises(protocol.MessageError) as exc:
        protocol.parse('{"type":"command","id":"c7","name":""}', 1000)
    assert exc.value.id == "c7"


def test_only_the_regie_may_send_agenda_commands() -> None:
    for role in ("screen", "participant", "rapporteur", "public"):
        with pytest.raises(commands.CommandError) as exc:
            commands.check("step.next", {}, role)
        assert exc.value.code == "forbidden"
    assert commands.check("step.next", {}, "facilitator") == {"start": True, "first_turn": True}


def test_command_arguments_are_checked_strictly() -> None:
    def code(name: str, args: dict) -> str:  # type: ignore[type-arg]
        with pytest.raises(commands.CommandError) as exc:
            commands.check(name, args, "facilitator")
        return exc.value.code

    assert code("timer.adjust", {"minutes": "5"}) == "invalid_args"
    assert code("timer.adjust", {"minutes": 0}) == "invalid_args"
    assert code("timer.adjust", {"minutes": 1000}) == "invalid_args"
    assert code("step.goto", {}) == "invalid_args"
    assert code("message.show", {"text": ""}) == "invalid_args"
    assert code("timer.pause", {"x": 1}) == "invalid_args"
    assert code("self.destruct", {}) == "unknown_command"


def test_replies_are_json_with_their_type() -> None:
    assert json.loads(protocol.ack("a", 3)) == {"type": "ack", "id": "a", "seq": 3}
    err = json.loads(protocol.error("forbidden", "no", "a"))
    assert err["type"] == "error" and err["code"] == "forbidden"


def test_every_refusal_is_one_family_with_one_table_of_statuses_and_close_codes() -> None:
    from live import errors
    from live.agenda.state import Rejected
    from live.backends.base import SeqConflict
    from live.links.signing import LinkError
    from live.notes.ysync import SyncError
    from live.people.registration import Invalid

    for exc in (
        Rejected("ended", "the event has ended"),
        commands.CommandError("forbidden", "no"),
        protocol.MessageError("bad_json", "no"),
        SyncError("read_only", "no"),
        LinkError("link_revoked", "no"),
        SeqConflict("stale"),
        Invalid({"email": "reg.email"}),
    ):
        assert isinstance(exc, errors.RelaisError) and exc.code and exc.message
    assert errors.http_status("link_invalid") == 401 and errors.close_code("link_invalid") == 4401
    assert errors.http_status("link_revoked") == 403 and errors.close_code("link_revoked") == 4403
    assert errors.close_code("unknown_event") == 4404
