"""Blueberry's background processes.

Usage:
  python worker.py work [queue ...]   an RQ worker (every queue but `alarms`, `ai` and `ingest`
                                      by default)
  python worker.py alarms             the `alarms` worker: reminders and meeting moments, run
                                      in-process (no fork per job), never behind other work
  python worker.py ai [processes]     the `ai` queue's workers (AI_WORKERS processes by default):
                                      a reader waiting for recommendations never waits behind
                                      ingestion, and one slow model call holds up one process
  python worker.py ingest             the `ingest` queue's worker (feeds, the catalog), INGEST_NICE
                                      nicer than the web: a bulk run waits for readers, not
                                      they for it
  python worker.py schedule           the periodic-job scheduler (1-second polling)
"""

import contextlib
import gc
import logging
import os
import signal
import sys
import time

import redis
from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

from blueberry import create_app
from blueberry.extensions import db, make_redis
from blueberry.jobs import QUEUES
from blueberry.jobs import recommendation as recommendation_jobs
from blueberry.jobs.schedule import periodic_jobs, run_scheduler
from blueberry.wait_redis import wait_for_redis

log = logging.getLogger("blueberry.worker")
OWN_WORKERS = ("alarms", "ai", "ingest")  # queues with workers of their own, not `work`'s


def _forget_inherited_connections() -> None:
    """A forked job must open its own database connections, never share the parent's."""
    db.engine.dispose(close=False)


class Recovering:
    """For an RQ worker class: its scheduler comes back as soon as Redis does.

    RQ's scheduler (delayed jobs and retries) runs in a process that exits when Redis goes away,
    and RQ starts it again only at its ten-minute maintenance: a retry would wait that long. This
    worker looks every few seconds (an idle worker waits for jobs that long at a time, not the
    20 s RQ would) and starts the scheduler again while it is not running; while Redis is away it
    retries every 2 s at most. A Redis that restarted empty has also forgotten the
    worker itself: it registers again, or /healthz would never see it. RQ quits when Redis goes
    away during its maintenance or its suspension check (outside its reconnecting dequeue): this
    one skips them and waits in the dequeue like for any other outage.
    """

    max_connection_wait_time = 2.0
    stop_asked = False  # a stop signal, as opposed to quitting on an error
    scheduler_retry_s = 3.0
    _scheduler_tried = 0.0

    @property
    def dequeue_timeout(self) -> int:
        return min(super().dequeue_timeout, int(self.scheduler_retry_s))

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        if pipeline is None and self.birth_date is not None and not self.connection.exists(self.key):
            self.register_birth()
        super().heartbeat(timeout, pipeline)

    def request_stop(self, signum, frame) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)

    def run_maintenance_tasks(self) -> None:
        try:
            self._start_stopped_scheduler()  # RQ's own check is skipped until a first cleaning
            super().run_maintenance_tasks()
        except (redis.ConnectionError, redis.TimeoutError) as error:
            self.log.warning("maintenance skipped, Redis is away: %s", error)

    def check_for_suspension(self, burst: bool) -> None:
        try:
            super().check_for_suspension(burst)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            self.log.warning("suspension check skipped, Redis is away: %s", error)

    @property
    def should_run_maintenance_tasks(self) -> bool:
        return super().should_run_maintenance_tasks or self._scheduler_due()

    def _scheduler_stopped(self) -> bool:
        process = self.scheduler._process if self.scheduler else None
        return self.scheduler is not None and not (process and process.is_alive())

    def _start_stopped_scheduler(self) -> None:
        # Not once a stop was asked: RQ stops its scheduler while shutting down, and one started
        # again then is a child process the exiting worker would wait for.
        if not self.stop_asked and self._scheduler_stopped():
            self.log.info("the scheduler is not running; starting it again")
            self.scheduler.acquire_locks(auto_start=True)

    def _scheduler_due(self) -> bool:
        if self.stop_asked or not self._scheduler_stopped():
            return False
        if time.monotonic() - self._scheduler_tried < self.scheduler_retry_s:
            return False
        self._scheduler_tried = time.monotonic()
        return True


class RecoveringWorker(Recovering, Worker):
    """The worker of the `default` and `ingest` queues: a work horse forked per job."""


def lower_priority(nice: int) -> None:
    """Make this process, and what it forks and starts from here on, `nice` nicer: its bursts of
    CPU wait for the web's requests instead of queueing them. With the kernel's autogroups (a
    scheduling group per session) niceness counts only within a session, and `make run` starts
    each process in a session of its own: that session's group is made nicer too, unless it is
    a terminal's (someone's shell, left as it was)."""
    os.nice(nice)
    if _has_terminal():
        return
    try:
        with open("/proc/self/autogroup", "r+") as autogroup:  # "/autogroup-12 nice 0"
            current = int(autogroup.read().split()[-1])
            autogroup.write(str(min(19, current + nice)))
    except (OSError, ValueError, IndexError) as error:  # no autogroups here: niceness is enough
        log.info("the session's scheduling group stays as it was: %s", error)


def _has_terminal() -> bool:
    try:
        os.close(os.open("/dev/tty", os.O_RDONLY))
    except OSError:
        return False
    return True


class InProcessWorker(Recovering, SimpleWorker):
    """A worker that runs each job in its own process: no fork per job, which costs more than
    the short jobs of `alarms` take and adds to every AI run's wait."""

    def perform_job(self, job, queue, *args, **kwargs) -> bool:
        try:
            return super().perform_job(job, queue, *args, **kwargs)
        finally:
            db.session.remove()  # the next job starts from the database, not this one's objects


class AlarmWorker(InProcessWorker):
    """The `alarms` queue's own worker: its jobs are due at a time, and nothing queued elsewhere
    (an AI call, an ingestion) waits in front of them."""


def work(app, queues: list[str], worker_class: type = RecoveringWorker) -> None:
    """Work until asked to stop. RQ's worker quits on a Redis error in several places outside its
    reconnecting dequeue: then wait for Redis and start a fresh worker (and scheduler)."""
    url = app.config["REDIS_URL"]
    connection = make_redis(url, socket_timeout=None, decode=False)
    os.register_at_fork(after_in_child=_forget_inherited_connections)
    while True:
        worker = worker_class(
            queues or [queue for queue in QUEUES if queue not in OWN_WORKERS],
            connection=connection, serializer=JSONSerializer,
            worker_ttl=app.config["WORKER_TTL_S"],
        )  # fmt: skip
        try:
            worker.work(with_scheduler=True)
        except (redis.ConnectionError, redis.TimeoutError) as error:  # its sign-off needed Redis too
            log.warning("the worker lost Redis: %s", error)
        if worker.stop_asked:
            return
        time.sleep(1)  # whatever made it quit, never in a tight loop
        while not wait_for_redis(url):
            log.warning("waiting for Redis to start the worker again")


def work_warm(app, queues: list[str], worker_class: type) -> None:
    """Work, once this process has run a job's queries and built its clients: a reader's click
    should not pay for a fresh process's first run."""
    try:
        recommendation_jobs.warm_up()
    except Exception:  # a cold first run is slower, never a reason not to work
        log.exception("warming up failed")
    # What is loaded by now lives as long as the process: out of the collector's way, so a full
    # collection in the middle of a run walks only what runs allocate.
    gc.collect()
    gc.freeze()
    work(app, queues, worker_class)


def work_in_processes(count: int, target) -> None:
    """Run `target` in `count` child processes, each in its own process group (a signal to this
    one reaches each of them once, passed on here); a child that dies is started again."""
    children: dict[int, None] = {}
    stopping = False

    def start() -> None:
        pid = os.fork()
        if pid == 0:
            os.setpgid(0, 0)
            _forget_inherited_connections()
            target()
            os._exit(0)
        children[pid] = None

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(count):
        start()
    while children:
        pid, _ = os.wait()
        children.pop(pid, None)
        if not stopping:
            log.warning("ai worker %s exited; starting another", pid)
            time.sleep(1)
            start()


def schedule(app) -> None:
    def connect():
        return make_redis(app.config["REDIS_URL"], socket_timeout=5, decode=False)

    run_scheduler(connect, periodic_jobs(app.config), app.config["SCHEDULER_INTERVAL"])


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not argv or argv[0] not in ("work", "alarms", "ai", "ingest", "schedule"):
        print(__doc__)
        return 2
    app = create_app()
    with app.app_context():
        if argv[0] == "work":
            work(app, argv[1:])
        elif argv[0] == "alarms":
            work(app, ["alarms"], AlarmWorker)
        elif argv[0] == "ingest":
            lower_priority(app.config["INGEST_NICE"])
            work(app, ["ingest"])
        elif argv[0] == "ai":
            count = int(argv[1]) if len(argv) > 1 else app.config["AI_WORKERS"]
            work_in_processes(count, lambda: work_warm(app, ["ai"], InProcessWorker))
        else:
            schedule(app)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
