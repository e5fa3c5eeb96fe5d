"""Background jobs: the queues, and enqueueing that waits for the SQL commit.

Queues are declared here once. Jobs use RQ's JSON serializer (no pickle) and take ids and
primitives. `enqueue_on_commit` holds a job until the SQL transaction commits (see aftercommit).
Timed jobs (a meeting's start, a reminder) go through `schedule_at_on_commit` under a stable id
per (object, purpose): scheduling again replaces the time, `unschedule_on_commit` removes it.
RQ's own scheduler, in each worker, moves a due job onto its queue.
"""

import logging
from datetime import datetime

import redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
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


def schedule_at_on_commit(job_id: str, when: datetime, queue: str, func: str, *args) -> None:
    """Run `func(*args)` on `queue` at `when`, as job `job_id` (replacing one of that id), once
    the current SQL transaction commits."""
    defer("timed", ("at", job_id, when, queue, func, args))


def unschedule_on_commit(job_id: str) -> None:
    """Drop timed job `job_id`, if there is one, once the current SQL transaction commits."""
    defer("timed", ("drop", job_id, None, None, None, None))


def _apply_timed(pending: list) -> None:
    for action, job_id, when, queue, func, args in pending:
        try:
            _drop(job_id)
            if action == "at":
                get_queue(queue).enqueue_at(when, func, *args, job_id=job_id, retry=Retry(max=3, interval=[5, 30, 120]))
        except redis.RedisError:
            # The data is committed; the periodic sweeps handle what a lost timed job missed.
            log.exception("could not %s timed job %s", action, job_id)


def _drop(job_id: str) -> None:
    connection = get_redis(decode=False)
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return
    job.delete()  # out of its queue and every registry, the scheduled one included


on_commit("timed", _apply_timed)
