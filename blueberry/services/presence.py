"""Who is in a group conversation's room now: live only, never stored as messages.

Every open window (connection) holds an entry in `bb:presence:<conversation id>`, a sorted set
of `<user id>:<connection id>` scored by the time the entry lapses:

- a connection refreshes its entry while it lives (`PRESENCE_BEAT_S`), so the entries of a
  worker that crashed lapse within `PRESENCE_TTL_S` and leave no ghost;
- a connection that closes keeps its entry `PRESENCE_GRACE_S` (10 s) longer, so a reload, whose
  new window arrives meanwhile, does not show the person leaving and coming back;
- a person is online while any entry of theirs has not lapsed: two tabs count once.

Changes go out as `presence.updated` (`online`: the user ids in the room; `left`: the ids whose
last entry lapsed just now; `at`: when, in µs by Redis's clock). An arrival publishes when the
person was not there yet; lapsed entries are removed by one atomic script (after a departure's
grace, and on every heartbeat), so a person's leaving is announced once, by whoever removed
their last entry. Each script publishes from inside Redis, so announcements go out in the order
of the changes. A window that opens is sent who is there now, stamped by the same clock
(`snapshot`), and passes on only announcements made after it: one made before, still on its
way, would show the room as it was.
"""

import threading
import time
import uuid

import redis

from blueberry.realtime.events import PRESENCE_UPDATED, conversation_topic

KEY = "bb:presence:{}"

# Redis's clock in µs: the announcements' `at` and a snapshot's time, comparable to each other.
_CLOCK = """
local function clock()
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', t[2])
end
"""
# Both scripts publish from inside Redis, in the same atomic step as the change they describe:
# published from Python afterwards, two changes at once could go out in the other order, and a
# room would hear "Mina and Ara" after "Mina, Ara and Jun" with nobody said to have left.
# A published message is `<stream id>\n<event JSON>` (no stream for conversation topics).
_ANNOUNCE = (
    _CLOCK
    + """
redis.replicate_commands()  -- Redis 6: TIME among writes (Redis 7 always replicates effects)
local function ids(entries)
  local seen, list = {}, {}
  for _, entry in ipairs(entries) do
    local uid = string.match(entry, '^(%d+):')
    if uid and not seen[uid] then
      seen[uid] = true
      table.insert(list, uid)
    end
  end
  table.sort(list, function(a, b) return tonumber(a) < tonumber(b) end)
  return list, seen
end
local function publish(channel, now, left)
  local online = ids(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf'))
  redis.call('PUBLISH', channel, '\\n{"type":"EVENT_TYPE","data":{"online":[' ..
    table.concat(online, ',') .. '],"left":[' .. table.concat(left, ',') .. '],"at":' .. clock() .. '}}')
end
""".replace("EVENT_TYPE", PRESENCE_UPDATED)
)
# Who is there, and when by Redis's clock.
_SNAPSHOT = (
    _CLOCK
    + """
return {clock(), redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')}
"""
)

# Arrive: ARGV now, entry, lapse time, key TTL, user id. Writes the entry; announces the room
# when the person was not in it yet. Returns 1 when it announced.
_ARRIVE = (
    _ANNOUNCE
    + """
local _, there = ids(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf'))
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
if there[ARGV[5]] then return 0 end
publish(KEYS[2], ARGV[1], {})
return 1
"""
)

# Settle: ARGV now. Removes the lapsed entries; announces the people with no entry left, once
# (whoever removes an entry is the only one to see it). Returns their ids.
_SETTLE = (
    _ANNOUNCE
    + """
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #lapsed == 0 then return {} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local _, staying = ids(redis.call('ZRANGE', KEYS[1], 0, -1))
local gone = ids(lapsed)
local left = {}
for _, uid in ipairs(gone) do
  if not staying[uid] then table.insert(left, uid) end
end
if #left > 0 then publish(KEYS[2], ARGV[1], left) end
return left
"""
)


class Presence:
    """One connection's place in one room's presence."""

    def __init__(self, client: redis.Redis, conversation_id, user_id: int, config):
        self.client, self.topic = client, conversation_topic(conversation_id)
        self.key, self.entry = KEY.format(conversation_id), f"{user_id}:{uuid.uuid4().hex}"
        self.user_id = user_id
        self.ttl_s, self.grace_s = config["PRESENCE_TTL_S"], config["PRESENCE_GRACE_S"]
        self.beat_s, self.beaten = config["PRESENCE_BEAT_S"], 0.0

    def arrive(self) -> None:
        """This window is open: the others hear of it if the person was not in the room. One
        script reads who was there, writes the entry and announces who is there now, so of two
        people arriving at once the later one announces them both, and after the earlier one."""
        now = time.time()
        args = (now, self.entry, now + self.ttl_s, self._key_ttl_s(), self.user_id)
        self.client.eval(_ARRIVE, 2, self.key, self.topic, *args)

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

    def _hold(self, seconds: float) -> None:
        pipe = self.client.pipeline()
        pipe.zadd(self.key, {self.entry: time.time() + seconds})
        pipe.expire(self.key, self._key_ttl_s())
        pipe.execute()

    def _key_ttl_s(self) -> int:
        return int(max(self.ttl_s, self.grace_s)) + 60


def online(client: redis.Redis, key: str) -> set[int]:
    """The ids of the people with an entry that has not lapsed."""
    return _ids(client.zrangebyscore(key, time.time(), "+inf"))


def _ids(entries) -> set[int]:
    return {int(entry.partition(":")[0]) for entry in entries}


def online_in(client: redis.Redis, conversation_id) -> set[int]:
    return online(client, KEY.format(conversation_id))


def snapshot(client: redis.Redis, conversation_id) -> tuple[int, list[int]]:
    """(when by Redis's clock in µs, the ids of who is in the room then, sorted)."""
    at, entries = client.eval(_SNAPSHOT, 1, KEY.format(conversation_id), time.time())
    return int(at), sorted(_ids(entries))


def settle(client: redis.Redis, key: str, topic: str) -> list[int]:
    """Remove lapsed entries; publish who left, if anyone did (once: the removal is atomic)."""
    try:
        left = [int(uid) for uid in client.eval(_SETTLE, 2, key, topic, time.time())]
    except redis.RedisError:
        return []  # the next heartbeat, or the next departure, tries again
    return left
