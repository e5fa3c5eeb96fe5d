"""Housekeeping of state the app owns in SQL and Redis.

Redis keys the app owns always carry a TTL. A key of an ephemeral family found without one
is a leftover (a process that died between writing and expiring it) and is deleted.
Ephemeral families, by prefix (each owner's module docstring lists its keys):
- `bb:limit` — Flask-Limiter counters (login, signup, sends)
- `bb:scheduler:` — the scheduler's heartbeat (jobs/schedule.py)
"""

import redis

EPHEMERAL_PREFIXES = ("bb:limit", "bb:scheduler:")
SCAN_BATCH = 500


def sweep_orphan_keys(client: redis.Redis, prefixes: tuple[str, ...] = EPHEMERAL_PREFIXES) -> int:
    """Delete keys of ephemeral families that have no TTL; returns how many."""
    removed = 0
    for prefix in prefixes:
        for key in client.scan_iter(match=f"{prefix}*", count=SCAN_BATCH):
            if client.ttl(key) == -1:
                removed += client.delete(key)
    return removed
