"""Periodic jobs: idempotent sync, the purge job, a real worker, a scheduler that survives Redis."""

import json
import os
import subprocess
import sys
import time
import zlib
from datetime import timedelta

import pytest
import redis
from rq import Worker
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.jobs import get_queue
from blueberry.jobs.schedule import JOB_ID_PREFIX, PeriodicJob, make_scheduler, periodic_jobs, sync_periodic_jobs
from blueberry.models import UserSession
from blueberry.models.base import utcnow
from blueberry.services import sessions
from blueberry.services.health import SCHEDULER_HEARTBEAT_KEY
from tests.servers import ROOT, RedisServer, wait_for


@pytest.fixture
def rq_redis(redis_server):
    return redis.Redis.from_url(redis_server.url)


def test_sync_twice_stays_one_job(app, rq_redis):
    scheduler = make_scheduler(rq_redis)
    jobs = periodic_jobs(app.config)
    sync_periodic_jobs(scheduler, jobs)
    sync_periodic_jobs(make_scheduler(rq_redis), jobs)
    ids = [job.id for job in scheduler.get_jobs()]
    assert ids.count(JOB_ID_PREFIX + "purge-stale-state") == 1
    assert len(ids) == len(jobs)


def test_sync_drops_jobs_that_left_the_list(app, rq_redis):
    scheduler = make_scheduler(rq_redis)
    old = PeriodicJob("retired", "blueberry.jobs.maintenance.purge_stale_state", 60)
    sync_periodic_jobs(scheduler, [old, *periodic_jobs(app.config)])
    sync_periodic_jobs(scheduler, periodic_jobs(app.config))
    assert JOB_ID_PREFIX + "retired" not in scheduler


def test_periodic_jobs_are_stored_as_json(app, rq_redis):
    sync_periodic_jobs(make_scheduler(rq_redis), periodic_jobs(app.config))
    raw = rq_redis.hget(f"rq:job:{JOB_ID_PREFIX}purge-stale-state", "data")
    payload = json.loads(zlib.decompress(raw))  # RQ compresses; a pickle would not parse
    assert payload[0] == "blueberry.jobs.maintenance.purge_stale_state"


def _sessions_for(user, count):
    return [sessions.start_session(user) for _ in range(count)]


def test_purge_job_runs_on_a_real_worker(app, make_user, rq_redis, rdb):
    user = make_user("mina")
    live, revoked, idle = _sessions_for(user, 3)
    sessions.revoke_session(revoked)
    db.session.execute(
        UserSession.__table__.update()
        .where(UserSession.token_hash == sessions.token_hash(revoked))
        .values(revoked_at=utcnow() - timedelta(days=2))
    )
    db.session.execute(
        UserSession.__table__.update()
        .where(UserSession.token_hash == sessions.token_hash(idle))
        .values(last_seen_at=utcnow() - timedelta(days=60))
    )
    db.session.commit()
    rdb.set("bb:limit/leftover", "1")  # an ephemeral key that lost its TTL
    rdb.set("bb:limit/counted", "1", ex=60)
    rdb.set("bb:other", "keep")

    job = get_queue("default", rq_redis).enqueue("blueberry.jobs.maintenance.purge_stale_state")
    Worker(["default"], connection=rq_redis, serializer=JSONSerializer).work(burst=True)

    job.refresh()
    assert job.get_status() == "finished", job.exc_info
    assert job.return_value() == {"sessions": 2, "keys": 1}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1
    assert rdb.exists("bb:limit/leftover") == 0
    assert rdb.exists("bb:limit/counted") == 1 and rdb.get("bb:other") == "keep"


def _heartbeat(client):
    return client.get(SCHEDULER_HEARTBEAT_KEY)


def test_scheduler_process_comes_back_after_a_redis_outage(tmp_path, database_url):
    server = RedisServer(tmp_path / "sched-redis").start()
    env = {**os.environ, "REDIS_URL": server.url, "DATABASE_URL": database_url, "SECRET_KEY": "x"}
    process = subprocess.Popen(
        [sys.executable, "worker.py", "schedule"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis.from_url(server.url, decode_responses=True)
    try:
        assert wait_for(lambda: _heartbeat(client)), "scheduler never beat"
        server.stop()
        time.sleep(1.5)
        server.start()
        assert client.get(SCHEDULER_HEARTBEAT_KEY) is None  # a fresh, empty server
        assert wait_for(lambda: _heartbeat(client)), "scheduler did not come back"
        assert process.poll() is None
        assert client.zscore(
            "rq:scheduler:scheduled_jobs", JOB_ID_PREFIX + "purge-stale-state"
        ) is not None or client.exists(f"rq:job:{JOB_ID_PREFIX}purge-stale-state")
    finally:
        process.terminate()
        process.wait(timeout=10)
        server.stop()


def test_the_daily_book_ingestion_is_scheduled_only_with_a_key(app):
    assert "ingest-books" not in {job.id for job in periodic_jobs(app.config)}  # no key: the sample serves
    app.config["ALADIN_TTB_KEY"] = "ttbkey"
    (job,) = [job for job in periodic_jobs(app.config) if job.id == "ingest-books"]
    assert (job.func, job.queue, job.interval_s) == ("blueberry.jobs.book.ingest_bestsellers", "ingest", 86400)
