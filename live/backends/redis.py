"""Redis backend: several server processes (or machines) share one store.

Every key starts with a prefix (`relais:` by default), so several instances can share
one Redis; a separate database number in `REDIS_URL` (`redis://host:6379/1`) does it too.
Keys, under the prefix:

- `log:{stream}`: a Redis Stream, one entry per log entry, its id `{seq}-0` and its one
  field `e` the entry as JSON. One Lua script checks the last seq and appends, so two
  processes can never write the same seq nor skip one; `follow` is `XREAD BLOCK`.
- `snapshot:{stream}`: a hash {seq, state}.
- `definitions` (hash id -> YAML text), `definitions-version` (a counter bumped by the
  same script that writes a definition; it starts from the server's clock in
  microseconds, so that a flushed Redis never hands out a number seen before).
- `notes:{doc}`: a list of binary Yjs updates; `notes-index` a sorted set of the
  documents' names (for `drop_event`, never `KEYS`).
- `records:{kind}` (hash key -> JSON), `records-index:{kind}` (sorted set of its keys, for
  prefix listing by `ZRANGEBYLEX`), `records-kinds` (the kinds in use).

Scripts name keys they compute from the prefix (`drop_event`, records), which a single
Redis (or a primary with replicas) allows; Redis Cluster is not supported.

Durability is Redis's: with `appendonly yes` and `appendfsync everysec` an acknowledged
append may be lost on a power cut (about one second of writes), `always` loses none (see
the README). Unreachable or unresponsive, Redis makes every call fail within about two
seconds with `BackendUnavailable`, never a hang nor a retry loop (each call runs under a
deadline of its own: a socket timeout bounds one read, not a whole call); the pool
reconnects by itself once Redis answers again. A call that got no answer raises `NoAnswer`:
a paused Redis still holds the request and runs it when it wakes. An outage is logged once
per process, in one line, and so is its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from redis import exceptions as rexc
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from live.backends.base import (
    EVENT_STREAMS,
    RESUBSCRIBED,
    Backend,
    BackendUnavailable,
    NoAnswer,
    SeqConflict,
)

log = logging.getLogger("relais.redis")

DEFAULT_URL = "redis://127.0.0.1:6379/0"
# Refusals that mean "Redis cannot serve now" rather than "this command is wrong".
UNAVAILABLE_REPLIES = ("LOADING", "MISCONF", "READONLY", "OOM", "MASTERDOWN", "NOREPLICAS")

# KEYS[1] the stream; ARGV[1] the seq, ARGV[2] the entry, ARGV[3] its command id ("" for
# none, kept in the field `c`). -1 when appended, or when the entry at that seq is the same
# command (a retried append, written once); else the last seq (the caller's view is stale).
APPEND = """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local n = 0
if #last > 0 then n = tonumber(string.match(last[1][1], '^(%d+)')) end
local seq = tonumber(ARGV[1])
if seq ~= n + 1 then
  if ARGV[3] ~= '' and seq <= n then
    local at = redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', ARGV[1] .. '-0')
    if #at > 0 then
      local f = at[1][2]
      for i = 1, #f - 1, 2 do
        if f[i] == 'c' and f[i + 1] == ARGV[3] then return -1 end
      end
    end
  end
  return n
end
if ARGV[3] ~= '' then
  redis.call('XADD', KEYS[1], ARGV[1] .. '-0', 'e', ARGV[2], 'c', ARGV[3])
else
  redis.call('XADD', KEYS[1], ARGV[1] .. '-0', 'e', ARGV[2])
end
return -1
"""

# Bump the definitions counter; a missing one restarts from the clock (µs), above any
# value it had before a flush.
BUMP = """
local function bump(key)
  if redis.call('EXISTS', key) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', key, t[1] .. string.format('%06d', tonumber(t[2])))
  end
  return redis.call('INCR', key)
end
"""

# KEYS[1] definitions, KEYS[2] their version; ARGV[1] id, ARGV[2] text.
PUT_DEFINITION = (
    BUMP
    + """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return bump(KEYS[2])
"""
)

# KEYS[1] the document's list; ARGV[1] merged, ARGV[2] count.
NOTES_COMPACT = """
local count = tonumber(ARGV[2])
if count <= 0 or redis.call('LLEN', KEYS[1]) == 0 then return 0 end
redis.call('LTRIM', KEYS[1], count, -1)
redis.call('LPUSH', KEYS[1], ARGV[1])
return 1
"""

# KEYS[1] the kind's hash, KEYS[2] its index, KEYS[3] the kinds; ARGV[1] key, ARGV[2]
# value, ARGV[3] kind, ARGV[4] "1" to store only if absent. 1 when stored anew, 0 when
# not stored (only if absent) or when it replaced a value.
PUT_RECORD = """
local added = 1
if ARGV[4] == '1' then
  if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
else
  added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('SADD', KEYS[3], ARGV[3])
return added
"""

# KEYS[1] the kind's hash, KEYS[2] its index; ARGV[1] key.
DELETE_RECORD = """
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])
"""

# KEYS[1] the kind's hash, KEYS[2] its index; ARGV[1], ARGV[2] the lex range. One
# consistent read: [key1, value1, key2, value2, ...].
LIST_RECORDS = """
local out = {}
for _, key in ipairs(redis.call('ZRANGEBYLEX', KEYS[2], ARGV[1], ARGV[2])) do
  local value = redis.call('HGET', KEYS[1], key)
  if value then
    out[#out + 1] = key
    out[#out + 1] = value
  end
end
return out
"""

# ARGV[1] prefix, ARGV[2] event id, ARGV[3..] its streams' kinds. Everything of one event,
# atomically.
DROP_EVENT = (
    BUMP
    + """
local p, id = ARGV[1], ARGV[2]
if redis.call('HDEL', p .. 'definitions', id) == 1 then bump(p .. 'definitions-version') end
for i = 3, #ARGV do  -- the event's logs (EVENT_STREAMS)
  redis.call('DEL', p .. 'log:' .. ARGV[i] .. ':' .. id, p .. 'snapshot:' .. ARGV[i] .. ':' .. id)
end
local index = p .. 'notes-index'
for _, doc in ipairs(redis.call('ZRANGEBYLEX', index, '[' .. id .. '/', '[' .. id .. '/\\255')) do
  redis.call('DEL', p .. 'notes:' .. doc)
  redis.call('ZREM', index, doc)
end
local ranges = {{'[' .. id, '[' .. id}, {'[' .. id .. ':', '[' .. id .. ':\\255'},
                {'[' .. id .. '/', '[' .. id .. '/\\255'}}
for _, kind in ipairs(redis.call('SMEMBERS', p .. 'records-kinds')) do
  local hash, zset = p .. 'records:' .. kind, p .. 'records-index:' .. kind
  for _, r in ipairs(ranges) do
    for _, key in ipairs(redis.call('ZRANGEBYLEX', zset, r[1], r[2])) do
      redis.call('HDEL', hash, key)
      redis.call('ZREM', zset, key)
    end
  end
end
return 1
"""
)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else value or ""


def _entries(rows: Any) -> list[dict[str, Any]]:
    """Log entries from XRANGE or XREAD's [(id, {b"e": json}), ...]."""
    return [json.loads(fields[b"e"]) for _id, fields in rows or []]


class RedisBackend(Backend):
    name = "redis"
    shared = True  # several processes, one store: each follows the logs

    def __init__(
        self,
        url: str = DEFAULT_URL,
        prefix: str = "relais:",
        timeout: float = 2.0,
        connect_timeout: float = 1.0,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.timeout = timeout  # a command not answered by then: BackendUnavailable
        self.connect_timeout = connect_timeout
        self._r: aioredis.Redis | None = None
        self._blocking: aioredis.Redis | None = None  # `follow`: no read timeout of its own
        self._down_since: float | None = None  # the outage under way (monotonic), if any
        self._up_since = 0.0  # when the last one ended: calls sent before are its stragglers
        # Something was deleted or overwritten since the files were last rewritten: only
        # then does `forget` rewrite them (a purge that removed nothing rewrites nothing).
        self._erased = False

    def _client(self, read_timeout: float | None) -> aioredis.Redis:
        # Bytes in, bytes out (notes are binary); one try, no backoff: failing fast is
        # what lets the server tell the console at once.
        return aioredis.Redis.from_url(
            self.url,
            decode_responses=False,
            socket_connect_timeout=self.connect_timeout,
            socket_timeout=read_timeout,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
            health_check_interval=0,
        )

    async def open(self) -> None:
        self._r = self._client(self.timeout)
        self._blocking = self._client(None)
        r = self._r
        self._append = r.register_script(APPEND)
        self._put_definition = r.register_script(PUT_DEFINITION)
        self._notes_compact = r.register_script(NOTES_COMPACT)
        self._put_record = r.register_script(PUT_RECORD)
        self._delete_record = r.register_script(DELETE_RECORD)
        self._list_records = r.register_script(LIST_RECORDS)
        self._drop_event = r.register_script(DROP_EVENT)
        async with self._call():
            await r.ping()

    async def close(self) -> None:
        for client in (self._r, self._blocking):
            if client is not None:
                await client.aclose()
        self._r = self._blocking = None

    @property
    def r(self) -> aioredis.Redis:
        assert self._r is not None, "backend not opened"
        return self._r

    @contextlib.asynccontextmanager
    async def _call(self, deadline: float | None = None) -> AsyncIterator[None]:
        """One call to Redis, under a deadline (`timeout` unless given): every fault that
        means "not reachable now" becomes BackendUnavailable, and no answer in time
        NoAnswer (the request may still run). Outages are logged here, once each."""
        sent = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout if deadline is None else deadline):
                yield
        except (rexc.TimeoutError, TimeoutError) as exc:
            raise self._down(NoAnswer, str(exc) or "no answer in time", sent) from exc
        except (rexc.ConnectionError, OSError) as exc:
            raise self._down(BackendUnavailable, str(exc) or "connection lost", sent) from exc
        except rexc.ResponseError as exc:
            if str(exc).startswith(UNAVAILABLE_REPLIES):
                raise self._down(BackendUnavailable, str(exc), sent) from exc
            raise
        if self._down_since is not None:
            self._up_since = time.monotonic()
            away = self._up_since - self._down_since
            self._down_since = None
            log.warning(
                "stockage de nouveau disponible après %.0f s (store available again): redis at %s",
                away,
                self._where(),
            )

    def _down(self, kind: type[BackendUnavailable], reason: str, sent: float) -> BackendUnavailable:
        """The refusal to raise; the first of an outage is logged, in one line (not a call
        sent during the last one that fails after it ended: a paused Redis, resumed, works
        through what piled up before it answers the calls still waiting)."""
        if self._down_since is None and sent >= self._up_since:
            self._down_since = sent  # the outage began by then, not when it was noticed
            log.warning(
                "stockage indisponible (store unavailable): redis at %s: %s", self._where(), reason
            )
        return kind(f"redis at {self._where()}: {reason}")

    def _where(self) -> str:
        """The URL without its password (it goes into messages and logs)."""
        scheme, sep, rest = self.url.partition("://")
        return f"{scheme}{sep}{rest.rpartition('@')[2]}"

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # -- announcements: Redis pub/sub --------------------------------------------------------

    async def announce(self, channel: str, message: bytes) -> None:
        async with self._call():
            await self.r.publish(self._key("announce", channel), message)

    async def announcements(self, channel: str) -> AsyncIterator[bytes]:
        """Subscribed on a connection without read timeout; after a lost connection it
        subscribes again (every half second until Redis answers) and says so."""
        name = self._key("announce", channel)
        while True:
            client = self._client(None)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(name)
                yield RESUBSCRIBED
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is not None and message.get("type") == "message":
                        yield bytes(message["data"])
            except (rexc.ConnectionError, rexc.TimeoutError, OSError):
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()

    # -- the event log ---------------------------------------------------------------------

    async def append(self, stream: str, entry: dict[str, Any]) -> None:
        seq = entry.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise SeqConflict(f"{stream}: seq must be a positive integer, got {seq!r}")
        cid = str(entry.get("cid") or "")
        async with self._call():
            last = await self._append(
                keys=[self._key("log", stream)], args=[seq, _json(entry), cid]
            )
        if int(last) != -1:
            raise SeqConflict(f"{stream}: expected seq {int(last) + 1}, got {seq}")

    async def read(self, stream: str, since: int = 0) -> list[dict[str, Any]]:
        async with self._call():
            rows = await self.r.xrange(self._key("log", stream), f"{max(0, since) + 1}-0", "+")
        return _entries(rows)

    async def follow(self, stream: str, since: int, block_ms: int) -> list[dict[str, Any]]:
        """`XREAD BLOCK` on a connection of its own (no read timeout, the wait is bounded
        here instead): returns as soon as another process appends after `since`. A `since`
        past the end (a flushed Redis restarts at seq 1) only waits: the epoch tells."""
        if block_ms <= 0:
            return await self.read(stream, since)
        assert self._blocking is not None, "backend not opened"
        key = self._key("log", stream)
        async with self._call(block_ms / 1000 + self.timeout):
            reply = await self._blocking.xread({key: f"{max(0, since)}-0"}, block=block_ms)
        if not reply:
            return []
        # RESP2: [[stream, [(id, fields), ...]]]; RESP3: {stream: [[(id, fields), ...]]}
        reply_any: Any = reply
        if isinstance(reply_any, list):
            return _entries(reply_any[0][1])
        return _entries(next(iter(reply_any.values()))[0])

    async def save_snapshot(self, stream: str, seq: int, state: dict[str, Any]) -> None:
        async with self._call():
            await self.r.hset(
                self._key("snapshot", stream), mapping={"seq": seq, "state": _json(state)}
            )

    async def load_snapshot(self, stream: str) -> tuple[int, dict[str, Any]] | None:
        async with self._call():
            seq, state = await self.r.hmget(self._key("snapshot", stream), ["seq", "state"])
        if seq is None or state is None:
            return None
        return int(seq), json.loads(state)

    # -- event definitions -----------------------------------------------------------------

    async def put_definition(self, event_id: str, text: str) -> None:
        keys = [self._key("definitions"), self._key("definitions-version")]
        async with self._call():
            await self._put_definition(keys=keys, args=[event_id, text.encode()])

    async def definitions(self) -> dict[str, str]:
        async with self._call():
            rows = await self.r.hgetall(self._key("definitions"))
        return {_text(k): _text(v) for k, v in sorted(rows.items())}

    async def definitions_version(self) -> int:
        """One GET. The counter is bumped by the script that writes a definition, so a
        put from any process is seen; 0 while none was ever put."""
        async with self._call():
            value = await self.r.get(self._key("definitions-version"))
        return int(value) if value is not None else 0

    # -- collaborative notes ---------------------------------------------------------------

    async def notes_append(self, doc: str, updates: list[bytes]) -> None:
        await self.notes_append_many({doc: updates})

    async def notes_append_many(self, batches: dict[str, list[bytes]]) -> None:
        """One MULTI/EXEC: every document's updates land together or none does."""
        batches = {doc: updates for doc, updates in batches.items() if updates}
        if not batches:
            return
        async with self._call(), self.r.pipeline(transaction=True) as pipe:
            for doc, updates in batches.items():
                pipe.rpush(self._key("notes", doc), *updates)
            pipe.zadd(self._key("notes-index"), dict.fromkeys(batches, 0))
            await pipe.execute()

    async def notes_load(self, doc: str) -> list[bytes]:
        async with self._call():
            rows = await self.r.lrange(self._key("notes", doc), 0, -1)
        return [r if isinstance(r, bytes) else r.encode() for r in rows]

    async def notes_compact(self, doc: str, merged: bytes, count: int) -> None:
        """One script: updates appended by other processes meanwhile stay after it."""
        async with self._call():
            await self._notes_compact(keys=[self._key("notes", doc)], args=[merged, count])
        self._erased = True  # the merged updates may hold text deleted since

    # -- records ---------------------------------------------------------------------------

    def _record_keys(self, kind: str) -> list[str]:
        return [
            self._key("records", kind),
            self._key("records-index", kind),
            self._key("records-kinds"),
        ]

    async def put_record(self, kind: str, key: str, value: dict[str, Any]) -> None:
        async with self._call():
            added = await self._put_record(
                keys=self._record_keys(kind), args=[key, _json(value), kind, 0]
            )
        if not added:  # a value replaced: its old copy stays in the files until `forget`
            self._erased = True

    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        async with self._call():
            value = await self.r.hget(self._key("records", kind), key)
        return json.loads(value) if value is not None else None

    async def list_records(self, kind: str, prefix: str = "") -> dict[str, dict[str, Any]]:
        # Keys starting with `prefix`: from it to it followed by the byte 0xFF, which UTF-8
        # never contains.
        start = b"[" + prefix.encode()
        args = [start, start + b"\xff"] if prefix else [b"-", b"+"]
        async with self._call():
            flat = await self._list_records(keys=self._record_keys(kind)[:2], args=args)
        pairs = zip(flat[::2], flat[1::2], strict=True)
        return {_text(k): json.loads(v) for k, v in pairs}

    async def create_record(self, kind: str, key: str, value: dict[str, Any]) -> bool:
        """HSETNX inside one script: exactly one of many concurrent creators wins."""
        async with self._call():
            stored = await self._put_record(
                keys=self._record_keys(kind), args=[key, _json(value), kind, 1]
            )
        return bool(stored)

    async def delete_record(self, kind: str, key: str) -> bool:
        async with self._call():
            removed = await self._delete_record(keys=self._record_keys(kind)[:2], args=[key])
        self._erased = self._erased or bool(removed)
        return bool(removed)

    async def drop_event(self, event_id: str) -> None:
        """One script: other processes see the event whole or gone, never half."""
        async with self._call():
            await self._drop_event(keys=[], args=[self.prefix, event_id, *EVENT_STREAMS])
        self._erased = True

    async def forget(self) -> None:
        """Rewrite the append-only file (and the RDB dump, when one is configured) from
        the data as it is now: the old files, which still hold deleted records, are
        replaced. Only when this process deleted or replaced something since the last
        rewrite: a purge that found nothing (every event past retention, at each start and
        every hour) rewrites nothing. Best effort: a managed Redis may refuse CONFIG, and a
        rewrite already running started before the deletion (the next one removes it)."""
        if not self._erased:
            return
        async with self._call():
            try:
                config = await self.r.config_get("appendonly")
                save = await self.r.config_get("save")
            except rexc.ResponseError as exc:
                log.warning("cannot rewrite Redis's files (CONFIG refused: %s)", exc)
                return
            settings = {_text(k): _text(v) for k, v in {**config, **save}.items()}
            started = True
            if settings.get("appendonly") == "yes":
                started = await self._background("BGREWRITEAOF")
            if settings.get("save", "").strip():  # after the rewrite if one runs
                started = await self._background("BGSAVE", "SCHEDULE") and started
        self._erased = not started  # one refused: the next `forget` tries again

    async def _background(self, *command: str) -> bool:
        try:
            await self.r.execute_command(*command)
        except rexc.ResponseError as exc:
            log.warning("Redis %s not started now (%s): the next one does it", command[0], exc)
            return False
        return True
