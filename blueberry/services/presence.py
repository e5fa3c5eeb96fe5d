"""Who is in a group conversation's room now: live only, never stored as messages.

Every open window (connection) holds an entry in `bb:presence:<conversation id>`, a sorted set
of `<user id>:<connection id>` scored by the time the entry lapses:

- a connection refreshes its entry while it lives (`PRESENCE_BEAT_S`), so the entries of a
  worker that crashed lapse within `PRESENCE_TTL_S` and leave no ghost;
- a connection that closes keeps its entry `PRESENCE_GRACE_S` (10 s) longer, so a reload, whose
  new window arrives meanwhile, does not show the person leaving and coming back;
- a person is online while any entry of theirs has not lapsed: two tabs count once.

Changes go out as `presence.updated` (`online`: the user ids in the room; `left`: the ids whose
last entry lapsed just now). An arrival publishes when the person was not there yet; lapsed
entries are removed by one atomic script (after a departure's grace, and on every heartbeat),
so a person's leaving is announced once, by whoever removed their last entry.
"""

import threading
import time
import uuid

import redis

from blueberry.realtime.events import PRESENCE_UPDATED, conversation_topic, publish_now

KEY = "bb:presence:{}"

# Removes the lapsed entries; returns the ids of the people with no entry left.
_SETTLE = """
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #lapsed == 0 then return {} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local staying = {}
for _, entry in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  staying[string.match(entry, '^(%d+):')] = true
end
local left, seen = {}, {}
for _, entry in ipairs(lapsed) do
  local uid = string.match(entry, '^(%d+):')
  if not staying[uid] and not seen[uid] then
    seen[uid] = true
    table.insert(left, uid)
  end
end
return left
"""


class Presence:
    """One connection's place in one room's presence."""

    def __init__(self, client: redis.Redis, conversation_id, user_id: int, config):
        self.client, self.topic = client, conversation_topic(conversation_id)
        self.key, self.entry = KEY.format(conversation_id), f"{user_id}:{uuid.uuid4().hex}"
        self.user_id = user_id
        self.ttl_s, self.grace_s = config["PRESENCE_TTL_S"], config["PRESENCE_GRACE_S"]
        self.beat_s, self.beaten = config["PRESENCE_BEAT_S"], 0.0

    def arrive(self) -> None:
        """This window is open: the others hear of it if the person was not in the room. Who
        was there and who is there now are read in the same transaction as the entry is
        written, so of two people arriving at once the later one announces them both."""
        now = time.time()
        pipe = self.client.pipeline()  # MULTI/EXEC
        pipe.zrangebyscore(self.key, now, "+inf")
        self._hold(self.ttl_s, pipe)
        pipe.zrangebyscore(self.key, now, "+inf")
        before, *_, after = pipe.execute()
        if self.user_id not in _ids(before):
            self._publish(_ids(after), [])

    def beat(self) -> None:
        """Keep this entry alive (when due), and clear the entries that lapsed."""
        now = time.monotonic()
        if now - self.beaten < self.beat_s:
            return
        self.beaten = now
        self._hold(self.ttl_s)
        settle(self.client, self.key, self.topic)

    def depart(self) -> None:
        """This window closed: its entry lapses after the grace, and the room is told then."""
        self._hold(self.grace_s)
        timer = threading.Timer(self.grace_s + 0.2, settle, (self.client, self.key, self.topic))
        timer.daemon = True
        timer.start()

    def _hold(self, seconds: float, pipe=None) -> None:
        own = pipe is None
        pipe = self.client.pipeline() if own else pipe
        pipe.zadd(self.key, {self.entry: time.time() + seconds})
        pipe.expire(self.key, int(max(self.ttl_s, self.grace_s)) + 60)
        if own:
            pipe.execute()

    def _publish(self, ids: set[int], left: list[int]) -> None:
        publish_now(self.client, self.topic, PRESENCE_UPDATED, {"online": sorted(ids), "left": left})


def online(client: redis.Redis, key: str) -> set[int]:
    """The ids of the people with an entry that has not lapsed."""
    return _ids(client.zrangebyscore(key, time.time(), "+inf"))


def _ids(entries) -> set[int]:
    return {int(entry.partition(":")[0]) for entry in entries}


def online_in(client: redis.Redis, conversation_id) -> set[int]:
    return online(client, KEY.format(conversation_id))


def settle(client: redis.Redis, key: str, topic: str) -> list[int]:
    """Remove lapsed entries; publish who left, if anyone did (once: the removal is atomic)."""
    try:
        left = [int(uid) for uid in client.eval(_SETTLE, 1, key, time.time())]
        if left:
            publish_now(client, topic, PRESENCE_UPDATED, {"online": sorted(online(client, key)), "left": left})
    except redis.RedisError:
        return []  # the next heartbeat, or the next departure, tries again
    return left
