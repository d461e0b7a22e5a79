"""The shared notes' size and rate limits, in one place because each depends on another
(`room.py`'s docstring explains why each one is what it is)."""

from __future__ import annotations

from live.config import WS_MAX_SIZE

# One frame a client may send: strictly below the websocket's own limit, so a change that
# is too large is refused by the room, with a reason the editor shows, instead of the
# socket being cut (1009) and the client reconnecting into the same refusal. The editor
# page gets this figure and refuses a paste over it before sending anything.
MAX_FRAME = WS_MAX_SIZE // 2
# A document's content: its merged state, what a joining client is sent in one frame.
# About a million characters: far beyond a workshop's notes (two hours of typing make
# under 100 KB), small enough that one full state per connection is affordable.
MAX_DOC = 2 << 20
# Stored history past the last compaction that makes the next one due.
COMPACT_GROWTH = MAX_DOC // 4
MAX_AWARENESS = 16 << 10  # one awareness update (names, colours, cursors)
OUTBOX = 512  # frames a peer may lag behind before it is closed and resynced
OUTBOX_BYTES = 2 * MAX_DOC  # bytes queued or being written: one full state and then some
SYNC_BURST = 8  # sync step 1 answered in a row on one connection...
SYNC_EVERY = 5.0  # ...then one per this many seconds (12 a minute)
