"""How many public news streams one address holds open at once.

The news stream needs no session, and `NEWS_STREAM_LIMIT` only says how often an address may
open one: streams opened slowly would still pile up. `bb:news:streams:<address>` is a sorted set
of the address's open streams scored by when each lapses, like a user's connections in
services/online.py: a stream refreshes its entry while it lives and removes it when it closes,
and the entries of a worker that crashed lapse by themselves.
"""

import time

import redis

from blueberry.services.online import Entry

KEY = "bb:news:streams:{}"

# Atomic, so two streams opened at once cannot both take the last slot: drop lapsed entries,
# then add this one only while fewer than the limit are open.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class NewsStreamSlot(Entry):
    """One open news stream of `address`."""

    def __init__(self, address: str):
        super().__init__(KEY.format(address))

    def take(self, limit: int) -> bool:
        """Whether the address may open one more stream (it holds this slot from now on).
        Without Redis, yes: the stream then has no live events to hold anyone for."""
        now = time.time()
        try:
            taken = self.client.eval(_TAKE, 1, self.key, now, now + self.ttl_s, self.entry, limit, int(self.ttl_s) + 60)
        except redis.RedisError:
            return True
        self.beaten = time.monotonic()
        return bool(taken)
