"""Events, their topics, and publishing after the SQL commit.

An event is `{"type": "notification.new", "id": "<cursor>", "data": {...}}`. Types are the
constants below. `publish_on_commit` queues an event on the SQL session; once the transaction
commits it is written to Redis (nothing is published on rollback).

Redis keys owned here:
- `bb:user:<id>` — pub/sub channel: a user's events.
- `bb:session:<token hash>` — pub/sub channel: the end of one login session.
- `bb:seeker:<id>` — pub/sub channel: a user's match events (services/matching.lua publishes).
- `bb:room:<id>` — pub/sub channel: a voice room's presence, signaling and end.
- `bb:conv:<uuid>` — pub/sub channel: a conversation's messages, receipts, typing, deletions, blocks.
- `bb:news` — pub/sub channel: new stories (public: every news page listens, signed in or not).
- `bb:stream:user:<id>` — stream of the user's recent events for replay
  (MAXLEN ~ STREAM_MAXLEN, TTL STREAM_TTL_S refreshed on every add).
A published message is `<stream id>\\n<json of type and data>` (the stream id is empty for
topics without a stream).
"""

import hashlib
import json
import logging
from dataclasses import dataclass

import redis

from blueberry.aftercommit import defer, on_commit
from blueberry.extensions import get_redis
from blueberry.inputs import text_int

log = logging.getLogger(__name__)
STREAM_ID_MAX = 2**64 - 1  # each part of a Redis stream id is an unsigned 64-bit number

NOTIFICATION_NEW = "notification.new"
NOTIFICATION_READ = "notification.read"
SESSION_ENDED = "session.ended"
LIVE_DOWN = "live.down"  # the server lost Redis: live delivery paused
LIVE_UP = "live.up"  # delivery resumed; missed notifications follow
# Never sent to clients: this process is stopping (a deploy). Sockets close with 1012, streams end.
SERVER_RESTARTING = "server.restarting"
ERROR = "error"
PONG = "pong"

MATCH_IDLE = "match.idle"
MATCH_SEARCHING = "match.searching"
MATCH_OFFER = "match.offer"
MATCH_PARTNER_ACCEPTED = "match.partner_accepted"
MATCH_CONNECTED = "match.connected"
MATCH_ENDED = "match.ended"
MATCH_REPLACED = "match.replaced"  # the user opened matching elsewhere; this connection stops

MESSAGE_NEW = "message.new"
MESSAGE_DELETED = "message.deleted"
RECEIPT_UPDATED = "receipt.updated"
TYPING = "typing"
CONVERSATION_UPDATED = "conversation.updated"  # on the user's topic: a message in one of theirs
CONVERSATION_READ = "conversation.read"  # on the user's topic: they read; their unread total
CONVERSATION_BLOCKED = "conversation.blocked"  # one member blocked the other: the blocked one's windows close

ROOM_STATE = "room.state"
ROOM_PEER_JOINED = "room.peer_joined"
ROOM_PEER_LEFT = "room.peer_left"
ROOM_SIGNAL = "room.signal"
ROOM_ENDED = "room.ended"
ROOM_KEEP = "room.keep"  # one member would like to keep in touch
ROOM_KEPT = "room.kept"  # both would: their conversation is open
ROOM_NO_MIC = "room.no_mic"  # the other member's microphone could not start

MESSAGE_PINNED = "message.pinned"  # in a group: the message pinned above the others (or none)
READ_POSITION = "read.position"  # in a group: one member has read up to `seq` ("read by N")
PRESENCE_UPDATED = "presence.updated"  # on a group's conversation: who is in its room now
RECOMMENDATION_PROGRESS = "recommendation.progress"  # on the user's topic: a run moved a stage
MEETING_STATE = "meeting.state"  # on a meeting's conversation: its phase changed (lobby, live, ending, ended)
NEWS_NEW = "news.new"  # on the public news topic: stories were added, per category

STREAM_MAXLEN = 500
STREAM_TTL_S = 7 * 24 * 3600

# KEYS: channel, stream, channel, stream, … ARGV: payload, maxlen ('' = no stream), … , ttl.
# One call for a whole batch: a fan-out to a thousand users is one round trip and one script run.
_PUBLISH = """
local ttl = ARGV[#ARGV]
for i = 1, #KEYS, 2 do
  local payload, maxlen, id = ARGV[i], ARGV[i + 1], ''
  if maxlen ~= '' then
    id = redis.call('XADD', KEYS[i + 1], 'MAXLEN', '~', maxlen, '*', 'e', payload)
    redis.call('EXPIRE', KEYS[i + 1], ttl)
  end
  redis.call('PUBLISH', KEYS[i], id .. '\\n' .. payload)
end
return #KEYS / 2
"""
BATCH = 100


def user_topic(user_id: int) -> str:
    return f"bb:user:{user_id}"


def session_topic(token_hash: str) -> str:
    return f"bb:session:{token_hash}"


def seeker_topic(user_id: int) -> str:
    return f"bb:seeker:{user_id}"


def conversation_topic(conversation_id) -> str:
    return f"bb:conv:{conversation_id}"


def room_topic(room_id: int) -> str:
    return f"bb:room:{room_id}"


NEWS_TOPIC = "bb:news"


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
        """The cursor a client sent; a part that is malformed or out of range reads as empty."""
        stream_id, _, nid = (raw or "").strip().partition("~")
        parts = stream_id.split("-")
        valid_stream = len(parts) == 2 and all(text_int(part, 0, STREAM_ID_MAX) is not None for part in parts)
        return cls(stream_id if valid_stream else "", text_int(nid) or 0)

    def __str__(self) -> str:
        return f"{self.stream_id}~{self.notification_id}"


def make_event(type_: str, data: dict, event_id: str = "") -> dict:
    return {"type": type_, "id": event_id, "data": data}


def publish_on_commit(topic: str, type_: str, data: dict) -> None:
    """Publish an event on `topic` once the current SQL transaction commits."""
    defer("events", (topic, type_, data))


def publish_many(client: redis.Redis, events: list[tuple[str, str, dict]]) -> None:
    """Write events (stream, then channel) in batches of one script call each."""
    for start in range(0, len(events), BATCH):
        keys, args = [], []
        for topic, type_, data in events[start : start + BATCH]:
            keys += [topic, stream_key(topic)]
            args += [json.dumps({"type": type_, "data": data}, separators=(",", ":"), default=str)]
            args += [str(STREAM_MAXLEN) if has_stream(topic) else ""]
        _run_publish(client, keys, [*args, STREAM_TTL_S])


_PUBLISH_SHA = hashlib.sha1(_PUBLISH.encode()).hexdigest()


def _run_publish(client: redis.Redis, keys: list, args: list) -> None:
    """EVALSHA: Redis runs its cached script instead of reading and hashing it on every call."""
    try:
        client.evalsha(_PUBLISH_SHA, len(keys), *keys, *args)
    except redis.exceptions.NoScriptError:  # a new or restarted Redis: load it with the first run
        client.eval(_PUBLISH, len(keys), *keys, *args)


def publish_now(client: redis.Redis, topic: str, type_: str, data: dict) -> None:
    """Write one event to Redis now (tests and tools; features use publish_on_commit)."""
    publish_many(client, [(topic, type_, data)])


def _publish_all(pending: list) -> None:
    try:
        publish_many(get_redis(), pending)
    except redis.RedisError:
        # Committed data is safe; clients catch up from SQL when live delivery resumes.
        log.warning("could not publish %d events", len(pending))


on_commit("events", _publish_all)
