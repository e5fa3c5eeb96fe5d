"""Background jobs: the queues, and enqueueing that waits for the SQL commit.

Queues are declared here once. Jobs use RQ's JSON serializer (no pickle) and take ids and
primitives. `enqueue_on_commit` holds a job until the SQL transaction commits (see aftercommit).
"""

import logging

import redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

from blueberry.aftercommit import defer, on_commit
from blueberry.extensions import get_redis

QUEUES = ("default", "ai", "ingest", "alarms")
log = logging.getLogger(__name__)


def get_queue(name: str = "default", connection: redis.Redis | None = None) -> Queue:
    """An RQ queue by purpose, JSON-serialized, on the app's (bytes) Redis client."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connection or get_redis(decode=False), serializer=JSONSerializer)


def enqueue_on_commit(queue: str, func: str, *args, **kwargs) -> None:
    """Enqueue `func(*args)` on `queue` once the current SQL transaction commits (retried with backoff)."""
    defer("jobs", (queue, func, args, kwargs))


def _enqueue_all(pending: list) -> None:
    for queue, func, args, kwargs in pending:
        try:
            get_queue(queue).enqueue(func, *args, retry=Retry(max=3, interval=[10, 60, 300]), **kwargs)
        except redis.RedisError:
            # The data is committed; the periodic jobs pick up what a lost enqueue skipped.
            log.exception("could not enqueue %s on %s", func, queue)


on_commit("jobs", _enqueue_all)
