"""Wait (up to 20 s) for Redis to answer, so processes started beside it don't race it."""

import sys
import time

import redis

from blueberry.config import redis_url_default


def wait_for_redis(url: str, seconds: float = 20) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return bool(client.ping())
        except redis.RedisError:
            time.sleep(0.2)
    return False


if __name__ == "__main__":
    sys.exit(0 if wait_for_redis(redis_url_default()) else 1)
