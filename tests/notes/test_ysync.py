"""The y-websocket codec, without a socket: what is accepted, what is refused, and why."""

from __future__ import annotations

import pytest
from pycrdt import Awareness as PyAwareness
from pycrdt import Doc, Text, create_sync_message, create_update_message

from live.notes import ysync


def test_frames_built_by_pycrdt_parse() -> None:
    doc = Doc()
    doc.get("notes", type=Text).insert(0, "é")
    assert ysync.parse(create_sync_message(doc)) == ysync.SyncStep1(doc.get_state())
    update = doc.get_update()
    assert ysync.parse(create_update_message(update)) == ysync.Update(update)


def test_frames_built_here_round_trip() -> None:
    assert ysync.parse(ysync.sync_step1(b"\x00")) == ysync.SyncStep1(b"\x00")
    assert ysync.parse(ysync.sync_step2(b"\x00\x00")) == ysync.SyncStep2(b"\x00\x00")
    assert ysync.parse(ysync.update(b"\x01\x02")) == ysync.Update(b"\x01\x02")
    assert ysync.parse(ysync.awareness(b"\x00")) == ysync.Awareness(b"\x00")
    assert ysync.parse(ysync.query_awareness()) == ysync.QueryAwareness()


def test_the_error_reply_is_a_permission_denied_auth_message() -> None:
    frame = ysync.error("read_only", "lecture seule")
    assert frame[:2] == bytes((ysync.AUTH, ysync.PERMISSION_DENIED))
    assert ysync.parse(frame) == ysync.Auth("read_only: lecture seule")


@pytest.mark.parametrize(
    "frame",
    [
        b"",  # no type
        b"\x00",  # sync without a step
        b"\x00\x02",  # update without its length
        b"\x00\x02\x05ab",  # length past the end
        b"\x00\x02\x01ab",  # trailing bytes
        b"\x01\x80",  # truncated number
        b"\x00\x02" + b"\xff" * 9 + b"\x01",  # number beyond 2**53
    ],
)
def test_malformed_frames_are_refused(frame: bytes) -> None:
    with pytest.raises(ysync.SyncError) as err:
        ysync.parse(frame)
    assert err.value.code == "malformed"


@pytest.mark.parametrize("frame", [b"\x07", b"\x00\x03\x00"])
def test_unknown_types_are_refused(frame: bytes) -> None:
    with pytest.raises(ysync.SyncError) as err:
        ysync.parse(frame)
    assert err.value.code == "unknown_type"


def test_awareness_entries_decode_as_pycrdt_encodes_them() -> None:
    doc = Doc()
    aw = PyAwareness(doc)
    aw.set_local_state({"user": {"name": "Zoé", "color": "#123456"}})
    (entry,) = ysync.decode_awareness(aw.encode_awareness_update([doc.client_id]))
    assert entry.client == doc.client_id and entry.clock == 1 and not entry.gone
    assert ysync.decode_awareness(ysync.encode_awareness([entry])) == [entry]


def test_awareness_state_must_be_a_json_object_or_null() -> None:
    gone = ysync.encode_awareness([ysync.Presence(1, 2, "null")])
    assert ysync.decode_awareness(gone)[0].gone
    for bad in ("[1]", "{nope"):
        with pytest.raises(ysync.SyncError):
            ysync.decode_awareness(ysync.encode_awareness([ysync.Presence(1, 1, bad)]))


def test_state_vectors_decode_to_clocks() -> None:
    doc = Doc()
    doc.get("notes", type=Text).insert(0, "abc")
    assert ysync.decode_state_vector(doc.get_state()) == {doc.client_id: 3}
