"""The real worker process, and jobs that wait for the SQL commit."""

import os
import subprocess
import sys
import time

import redis
from rq.job import Job
from rq.serializers import JSONSerializer

from blueberry.extensions import db
from blueberry.jobs import enqueue_on_commit, get_queue
from tests.servers import ROOT

PURGE = "blueberry.jobs.maintenance.purge_stale_state"


def test_jobs_are_enqueued_after_commit_and_dropped_on_rollback(app, rdb):
    queue = get_queue("default")
    enqueue_on_commit("default", PURGE)
    assert queue.count == 0  # not before the commit
    db.session.commit()
    assert queue.count == 1
    enqueue_on_commit("default", PURGE)
    db.session.rollback()
    db.session.commit()
    assert queue.count == 1


def test_worker_process_runs_a_job_in_a_forked_horse(app, redis_server, db_path):
    connection = redis.Redis.from_url(redis_server.url)
    job = get_queue("default", connection).enqueue(PURGE)
    env = {**os.environ, "REDIS_URL": redis_server.url, "DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "x"}
    process = subprocess.Popen(
        [sys.executable, "worker.py", "work", "default"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and job.get_status(refresh=True) not in ("finished", "failed"):
            time.sleep(0.2)
        job = Job.fetch(job.id, connection=connection, serializer=JSONSerializer)
        assert job.get_status() == "finished", job.exc_info
        assert job.return_value() == {"sessions": 0, "keys": 0}
    finally:
        process.terminate()
        process.wait(timeout=15)
