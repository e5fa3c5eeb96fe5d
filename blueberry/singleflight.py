"""Waiting for another request's result in Redis: one request makes a slow thing (fills a news
page, fetches and shrinks a picture) while the others asking at the same moment poll for what
it stores, briefly, rather than all make it too."""

import time

import redis

POLL_S = 0.01


def take(client: redis.Redis, lock: str, hold_ms: int) -> bool:
    """This request makes it (True), or another already does (False)."""
    return bool(client.set(lock, b"1", nx=True, px=hold_ms))


def wait_for(client: redis.Redis, key: str, seconds: float):
    """What another request stores at `key` within `seconds`, else None (the caller makes it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(POLL_S)
        found = client.get(key)
        if found is not None:
            return found
    return None
