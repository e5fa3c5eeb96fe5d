"""The real worker process, and jobs that wait for the SQL commit."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from rq import Worker
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer

from blueberry.extensions import db
from blueberry.jobs import enqueue_on_commit, get_queue
from tests.servers import ROOT, RedisServer, wait_for
from worker import RecoveringWorker  # the script at the repository's root

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


def test_worker_process_runs_a_job_in_a_forked_horse(app, redis_server, database_url):
    connection = redis.Redis.from_url(redis_server.url)
    job = get_queue("default", connection).enqueue(PURGE)
    env = {**os.environ, "REDIS_URL": redis_server.url, "DATABASE_URL": database_url, "SECRET_KEY": "x"}
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


def test_ingestion_has_a_worker_of_its_own_nicer_than_the_web(app, redis_server, database_url):
    """`worker.py ingest` takes the `ingest` queue at INGEST_NICE more than it was started with,
    its session's scheduling group too (where the kernel has them); `worker.py work` neither."""
    connection = redis.Redis.from_url(redis_server.url)
    ingest = get_queue("ingest", connection).enqueue("os.nice", 0)  # answers its niceness
    default = get_queue("default", connection).enqueue("os.nice", 0)
    env = {**os.environ, "REDIS_URL": redis_server.url, "DATABASE_URL": database_url, "SECRET_KEY": "x",
           "INGEST_NICE": "7"}  # fmt: skip
    base = os.nice(0)
    processes = [subprocess.Popen([sys.executable, "worker.py", command], cwd=ROOT, env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for command in ("ingest", "work")]  # fmt: skip
    try:
        for job in (ingest, default):
            assert wait_for(lambda job=job: job.get_status(refresh=True) in ("finished", "failed"), 20)
            assert job.get_status() == "finished", job.exc_info
        assert ingest.return_value() == min(base + 7, 19)
        assert default.return_value() == base
        own = _autogroup_nice(os.getpid())
        if own is not None:  # the kernel schedules by autogroups here
            assert _autogroup_nice(processes[0].pid) == min(own + 7, 19)
            assert _autogroup_nice(processes[1].pid) == own
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)


def _autogroup_nice(pid: int) -> int | None:
    """The autogroup's niceness, or None where there is none: the file is missing without
    autogroups, and empty for a task whose cgroup, not an autogroup, decides its share."""
    path = Path(f"/proc/{pid}/autogroup")
    words = path.read_text().split() if path.exists() else []
    return int(words[-1]) if words else None


def test_alarms_and_ai_have_workers_of_their_own_that_do_not_fork(app, redis_server, database_url):
    """`worker.py alarms` takes only the alarms queue, `worker.py ai 2` two processes on the ai
    queue, each running its jobs in its own process (the job answers with its process id);
    `worker.py work` leaves both queues to them. Stopping `worker.py ai` stops its children."""
    connection = redis.Redis.from_url(redis_server.url)
    alarm = get_queue("alarms", connection).enqueue("os.getpid")
    ai_jobs = [get_queue("ai", connection).enqueue("os.getpid") for _ in range(4)]
    env = {**os.environ, "REDIS_URL": redis_server.url, "DATABASE_URL": database_url, "SECRET_KEY": "x"}
    processes = [subprocess.Popen([sys.executable, "worker.py", *command], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for command in (["alarms"], ["work"], ["ai", "2"])]  # fmt: skip
    try:
        for job in [alarm, *ai_jobs]:
            assert wait_for(lambda job=job: job.get_status(refresh=True) in ("finished", "failed"), 20)
            assert job.get_status() == "finished", job.exc_info
        assert alarm.return_value() == processes[0].pid  # no work horse: the job ran in the worker
        ai_children = {int(pid) for pid in _children(processes[2].pid)}
        assert len(ai_children) == 2
        assert {job.return_value() for job in ai_jobs} <= ai_children  # in the ai workers themselves
        assert wait_for(lambda: len(Worker.all(connection=connection)) == 4, 20)
        queues = sorted(tuple(w.queue_names()) for w in Worker.all(connection=connection))
        assert queues == [("ai",), ("ai",), ("alarms",), ("default",)]
        processes[2].terminate()
        processes[2].wait(timeout=15)
        assert wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in ai_children), 10)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)


def _children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def start_worker(redis_url: str, database_url: str, log_dir: Path, **env) -> subprocess.Popen:
    """A worker process; what it logs goes to `worker.log` in `log_dir` (shown on failure)."""
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": database_url, "SECRET_KEY": "x", **env}
    command = [sys.executable, "worker.py", "work", "default"]
    with open(log_dir / "worker.log", "ab") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def worker_log(log_dir: Path) -> str:
    return (log_dir / "worker.log").read_text(errors="replace")[-4000:]


@pytest.fixture
def scheduling_worker(tmp_path, database_url):
    """A worker process on a Redis of its own, once its scheduler holds the lock."""
    server = RedisServer(tmp_path / "worker-redis").start()
    connection = redis.Redis.from_url(server.url)
    process = start_worker(server.url, database_url, tmp_path)
    try:
        assert wait_for(lambda: connection.exists("rq:scheduler-lock:default"), 15), "no scheduler"
        yield server, connection, process
    finally:
        process.terminate()
        process.wait(timeout=15)
        server.stop()


def delayed_job_runs(connection, log_dir: Path) -> None:
    job = get_queue("default", connection).enqueue_in(timedelta(seconds=1), PURGE)
    # RQ alone starts its scheduler again only at its ten-minute maintenance.
    assert wait_for(lambda: job.get_status(refresh=True) == "finished", 15), worker_log(log_dir)


def test_a_delayed_job_runs_on_time_after_a_redis_restart(scheduling_worker, tmp_path):
    server, connection, _ = scheduling_worker
    server.stop()
    time.sleep(1.5)  # the worker and its scheduler lose Redis
    server.start()
    delayed_job_runs(connection, tmp_path)
    assert wait_for(lambda: len(Worker.all(connection=connection)) == 1, 5)  # registered again


def test_a_killed_scheduler_process_is_started_again_while_redis_stays_up(scheduling_worker, tmp_path):
    _, connection, process = scheduling_worker
    for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split():
        os.kill(int(pid), signal.SIGKILL)  # the scheduler process; its lock, in the worker's name, lives on
    delayed_job_runs(connection, tmp_path)


def test_a_killed_worker_is_reported_within_seconds(app, redis_server, database_url, tmp_path, client):
    app.config["WORKER_STALE_S"] = 4
    process = start_worker(redis_server.url, database_url, tmp_path, WORKER_TTL_S="16")  # heartbeats every second
    try:
        assert wait_for(lambda: client.get("/healthz?require=workers").status_code == 200, 15)
        process.kill()
        process.wait(timeout=5)
        assert wait_for(lambda: client.get("/healthz?require=workers").status_code == 503, 8)
        assert client.get("/healthz").status_code == 200  # liveness is this web process's own
    finally:
        if process.poll() is None:
            process.kill()


def test_a_stopping_worker_never_starts_its_scheduler_again(tmp_path):
    """RQ stops the scheduler while a worker shuts down; restarting it then left a child process
    the exiting worker waited for (the worker outlived its SIGTERM)."""
    server = RedisServer(tmp_path / "redis").start()  # no lock left by another test's worker
    connection = redis.Redis.from_url(server.url)
    worker = RecoveringWorker(["default"], connection=connection, serializer=JSONSerializer)
    worker.scheduler = RQScheduler(["default"], connection=connection, serializer=JSONSerializer)  # not running
    worker._scheduler_tried = 0.0
    assert worker._scheduler_due()  # a running worker would start it again
    worker.stop_asked = True
    assert not worker._scheduler_due()
    worker._start_stopped_scheduler()
    assert not connection.exists("rq:scheduler-lock:default") and worker.scheduler._process is None
    server.stop()
