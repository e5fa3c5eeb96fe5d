"""Events, their topics, and publishing after the SQL commit.

An event is `{"type": "notification.new", "id": "<cursor>", "data": {...}}`. Types are the
constants below. `publish_on_commit` queues an event on the SQL session; once the transaction
commits it is written to Redis (nothing is published on rollback).

Redis keys owned here:
- `bb:user:<id>` — pub/sub channel: a user's events.
- `bb:session:<token hash>` — pub/sub channel: the end of one login session.
- `bb:stream:user:<id>` — stream of the user's recent events for replay
  (MAXLEN ~ STREAM_MAXLEN, TTL STREAM_TTL_S refreshed on every add).
A published message is `<stream id>\\n<json of type and data>` (the stream id is empty for
topics without a stream).
"""

import json
import logging
from dataclasses import dataclass

import redis

from blueberry.aftercommit import defer, on_commit
from blueberry.extensions import get_redis

log = logging.getLogger(__name__)

NOTIFICATION_NEW = "notification.new"
NOTIFICATION_READ = "notification.read"
SESSION_ENDED = "session.ended"
LIVE_DOWN = "live.down"  # the server lost Redis: live delivery paused
LIVE_UP = "live.up"  # delivery resumed; missed notifications follow
ERROR = "error"
PONG = "pong"

STREAM_MAXLEN = 500
STREAM_TTL_S = 7 * 24 * 3600

_PUBLISH = """
local id = ''
if ARGV[2] ~= '' then
  id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
redis.call('PUBLISH', KEYS[1], id .. '\\n' .. ARGV[1])
return id
"""


def user_topic(user_id: int) -> str:
    return f"bb:user:{user_id}"


def session_topic(token_hash: str) -> str:
    return f"bb:session:{token_hash}"


def stream_key(topic: str) -> str:
    return "bb:stream:" + topic.removeprefix("bb:")


def has_stream(topic: str) -> bool:
    """Only a user's own topic keeps a replay stream."""
    return topic.startswith("bb:user:")


@dataclass(frozen=True)
class Cursor:
    """Where a client is: the last stream id it saw and the last notification id it saw.

    Written `<stream id>~<notification id>`; either part may be empty or 0.
    """

    stream_id: str = ""
    notification_id: int = 0

    @classmethod
    def parse(cls, raw: str | None) -> "Cursor":
        stream_id, _, nid = (raw or "").strip().partition("~")
        valid_stream = all(part.isdigit() for part in stream_id.split("-")) and stream_id.count("-") == 1
        return cls(stream_id if valid_stream else "", int(nid) if nid.isdigit() else 0)

    def __str__(self) -> str:
        return f"{self.stream_id}~{self.notification_id}"


def make_event(type_: str, data: dict, event_id: str = "") -> dict:
    return {"type": type_, "id": event_id, "data": data}


def publish_on_commit(topic: str, type_: str, data: dict) -> None:
    """Publish an event on `topic` once the current SQL transaction commits."""
    defer("events", (topic, type_, data))


def _encode(topic: str, type_: str, data: dict) -> tuple:
    payload = json.dumps({"type": type_, "data": data}, separators=(",", ":"), default=str)
    maxlen = str(STREAM_MAXLEN) if has_stream(topic) else ""
    return (_PUBLISH, 2, topic, stream_key(topic), payload, maxlen, STREAM_TTL_S)


def publish_now(client: redis.Redis, topic: str, type_: str, data: dict) -> str:
    """Write one event to Redis (stream, then channel); returns its stream id ('' if none)."""
    return client.eval(*_encode(topic, type_, data)) or ""


def publish_many(client: redis.Redis, events: list[tuple[str, str, dict]]) -> None:
    """Write events in one round trip (a fan-out to a thousand users costs one, not a thousand)."""
    pipe = client.pipeline(transaction=False)
    for topic, type_, data in events:
        pipe.eval(*_encode(topic, type_, data))
    pipe.execute()


def _publish_all(pending: list) -> None:
    try:
        publish_many(get_redis(), pending)
    except redis.RedisError:
        # Committed data is safe; clients catch up from SQL when live delivery resumes.
        log.warning("could not publish %d events", len(pending))


on_commit("events", _publish_all)
