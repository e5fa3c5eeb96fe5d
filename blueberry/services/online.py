"""Who has a live connection anywhere: an SSE stream or a websocket, on any device or process.

`bb:online:<user id>` is a sorted set of connection ids scored by when each lapses. A connection
adds itself when it opens, refreshes itself while it lives (at most every `ONLINE_BEAT_S`) and
removes itself when it closes; the connections of a worker that crashed lapse after
`ONLINE_TTL_S`, so they leave no ghost. Reminders ask it whether someone will see a toast, or
needs an email instead.
"""

import contextlib
import time
import uuid

import redis
from flask import current_app

from blueberry.extensions import get_redis

KEY = "bb:online:{}"


class Entry:
    """One connection's entry in a sorted set of entries that lapse unless refreshed (all calls
    are best effort: without Redis the entry is simply not there)."""

    def __init__(self, key: str):
        config = current_app.config
        self.client, self.key = get_redis(), key
        self.entry, self.ttl_s, self.beat_s = uuid.uuid4().hex, config["ONLINE_TTL_S"], config["ONLINE_BEAT_S"]
        self.beaten = 0.0

    def arrive(self) -> None:
        self._hold()

    def beat(self) -> None:
        if time.monotonic() - self.beaten >= self.beat_s:
            self._hold()

    def depart(self) -> None:
        with contextlib.suppress(redis.RedisError):  # else it lapses by itself
            self.client.zrem(self.key, self.entry)

    def _hold(self) -> None:
        self.beaten = time.monotonic()
        now = time.time()
        with contextlib.suppress(redis.RedisError):
            pipe = self.client.pipeline()
            pipe.zadd(self.key, {self.entry: now + self.ttl_s})
            pipe.zremrangebyscore(self.key, "-inf", now)  # lapsed ones of crashed workers
            pipe.expire(self.key, int(self.ttl_s) + 60)
            pipe.execute()


class Online(Entry):
    """A user's connection: without Redis nobody counts as online, which errs toward sending
    the email."""

    def __init__(self, user_id: int):
        super().__init__(KEY.format(user_id))


def online_ids(user_ids: list[int]) -> set[int]:
    """Those of `user_ids` with a connection that has not lapsed (one round trip)."""
    if not user_ids:
        return set()
    now = time.time()
    pipe = get_redis().pipeline(transaction=False)
    for user_id in user_ids:
        pipe.zcount(KEY.format(user_id), now, "+inf")
    return {uid for uid, count in zip(user_ids, pipe.execute(), strict=True) if count}
