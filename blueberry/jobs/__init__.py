"""Background jobs: the queues, and enqueueing that waits for the SQL commit.

Queues are declared here once. Jobs use RQ's JSON serializer (no pickle) and take ids and
primitives. `enqueue_on_commit` holds a job on the SQL session until the transaction commits
(a rollback drops it), so a worker never looks for a row that is not there yet.
"""

import logging

import redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer
from sqlalchemy import event
from sqlalchemy.orm import Session

from blueberry.extensions import db, get_redis

QUEUES = ("default", "ai", "ingest", "alarms")
PENDING = "bb_pending_jobs"
log = logging.getLogger(__name__)


def get_queue(name: str = "default", connection: redis.Redis | None = None) -> Queue:
    """An RQ queue by purpose, JSON-serialized, on the app's (bytes) Redis client."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connection or get_redis(decode=False), serializer=JSONSerializer)


def enqueue_on_commit(queue: str, func: str, *args, **kwargs) -> None:
    """Enqueue `func(*args)` on `queue` once the request's SQL session commits (retried with backoff)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even before any SQL, drops the job
    session.info.setdefault(PENDING, []).append((queue, func, args, kwargs))


def _drain(session: Session) -> None:
    pending = session.info.pop(PENDING, [])
    for queue, func, args, kwargs in pending:
        try:
            get_queue(queue).enqueue(func, *args, retry=Retry(max=3, interval=[10, 60, 300]), **kwargs)
        except redis.RedisError:
            # The data is committed; the periodic jobs pick up what a lost enqueue skipped.
            log.exception("could not enqueue %s on %s", func, queue)


def _discard(session: Session, previous_transaction) -> None:
    # Soft rollback fires even when no SQL ran yet; a savepoint's rollback keeps outer jobs.
    if not previous_transaction.nested:
        session.info.pop(PENDING, None)


def register_session_hooks() -> None:
    """Install the after-commit / after-rollback hooks once per process."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _discard)


def _after_commit(session: Session) -> None:
    if session.info.get(PENDING):
        _drain(session)
