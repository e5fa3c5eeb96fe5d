"""Periodic jobs: the list, its idempotent sync into rq-scheduler, and the supervised loop.

rq-scheduler stays contained here (and in worker.py). It pickles unless given JSON job and
queue classes, and its loop exits when Redis goes away, so `run_scheduler` restarts it.

Redis keys owned here: `bb:scheduler:heartbeat` — string, ISO time of the last poll, TTL 30 s.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer
from rq_scheduler import Scheduler

from blueberry.services.health import SCHEDULER_HEARTBEAT_KEY

log = logging.getLogger(__name__)
JOB_ID_PREFIX = "bb-periodic-"


@dataclass(frozen=True)
class PeriodicJob:
    id: str
    func: str
    interval_s: int
    queue: str = "default"


def periodic_jobs(config) -> list[PeriodicJob]:
    """Every periodic job of the app; ids are stable so a sync replaces, never duplicates."""
    return [
        PeriodicJob(
            "purge-stale-state", "blueberry.jobs.maintenance.purge_stale_state", config["SESSION_PURGE_EVERY_S"]
        ),
        PeriodicJob("sweep-matching", "blueberry.jobs.matching.sweep_matching", config["MATCH_SWEEP_EVERY_S"]),
        PeriodicJob(
            "sweep-meetings", "blueberry.jobs.meeting.sweep_meetings", config["MEETING_SWEEP_EVERY_S"], queue="alarms"
        ),  # fmt: skip
        PeriodicJob(
            "sweep-reminders",
            "blueberry.jobs.reminders.sweep_reminders",
            config["REMINDER_SWEEP_EVERY_S"],
            queue="alarms",
        ),  # fmt: skip
        PeriodicJob("ingest-news", "blueberry.jobs.news.ingest_news", config["NEWS_INGEST_EVERY_S"], queue="ingest"),
        *_catalog_jobs(config),
    ]


def _catalog_jobs(config) -> list[PeriodicJob]:
    """The daily bestseller ingestion, when there is a key to ask Aladin with."""
    if not config["ALADIN_TTB_KEY"]:
        return []
    return [PeriodicJob("ingest-books", "blueberry.jobs.book.ingest_bestsellers", config["BOOKS_INGEST_EVERY_S"],
                        queue="ingest")]  # fmt: skip


class JSONJob(Job):
    def __init__(self, *args, serializer=None, **kwargs):
        super().__init__(*args, serializer=JSONSerializer, **kwargs)


class JSONQueue(Queue):
    job_class = JSONJob

    def __init__(self, *args, serializer=None, **kwargs):
        super().__init__(*args, serializer=JSONSerializer, **kwargs)


class HeartbeatScheduler(Scheduler):
    """rq-scheduler that also leaves a timestamp /healthz can read."""

    job_class = JSONJob
    queue_class = JSONQueue

    def heartbeat(self):
        super().heartbeat()
        self.connection.set(SCHEDULER_HEARTBEAT_KEY, datetime.now(UTC).isoformat(), ex=30)


def make_scheduler(connection: redis.Redis, interval: int = 1) -> HeartbeatScheduler:
    return HeartbeatScheduler(connection=connection, interval=interval)


def sync_periodic_jobs(scheduler: Scheduler, jobs: list[PeriodicJob]) -> None:
    """Make the scheduler hold exactly `jobs`: re-create each by its id, drop ours that left the list."""
    wanted = {JOB_ID_PREFIX + job.id for job in jobs}
    for existing in scheduler.get_jobs():
        if existing.id.startswith(JOB_ID_PREFIX) and existing.id not in wanted:
            scheduler.cancel(existing)
            existing.delete()
    for job in jobs:
        job_id = JOB_ID_PREFIX + job.id
        scheduler.cancel(job_id)
        scheduler.schedule(
            datetime.now(UTC), job.func, interval=job.interval_s, id=job_id, queue_name=job.queue, result_ttl=600
        )


def run_scheduler(connect, jobs: list[PeriodicJob], interval: int = 1, max_backoff: float = 30) -> None:
    """Sync and run the scheduler forever, starting over with backoff whenever Redis fails."""
    backoff = 1.0
    while True:
        try:
            scheduler = make_scheduler(connect(), interval)
            sync_periodic_jobs(scheduler, jobs)
            backoff = 1.0
            scheduler.run()
            return
        except (redis.ConnectionError, redis.TimeoutError) as error:
            log.warning("scheduler lost Redis (%s); retrying in %.0f s", error, backoff)
            time.sleep(backoff)
            backoff = min(backoff * 2, max_backoff)
