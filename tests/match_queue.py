"""Read the matching queue as tests want it: who waits, oldest first."""

import redis

QUEUE_PARTS = [f"bb:match:queue:{g}{w}" for g in "mf" for w in "mfa"]


def waiting(client: redis.Redis, scores: bool = False) -> list:
    """User ids (as strings) waiting in any part of the queue, oldest first; with scores if asked."""
    rows = [row for key in QUEUE_PARTS for row in client.zrange(key, 0, -1, withscores=True)]
    rows = sorted((score, member.split(":")[1]) for member, score in rows)
    return [(uid, score) for score, uid in rows] if scores else [uid for _, uid in rows]
