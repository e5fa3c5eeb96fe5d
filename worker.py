"""Blueberry's background processes.

Usage:
  python worker.py work [queue ...]   an RQ worker (all queues by default)
  python worker.py schedule           the periodic-job scheduler (1-second polling)
"""

import logging
import os
import sys

from rq import Worker
from rq.serializers import JSONSerializer

from blueberry import create_app
from blueberry.extensions import db, make_redis
from blueberry.jobs import QUEUES
from blueberry.jobs.schedule import periodic_jobs, run_scheduler


def _forget_inherited_connections() -> None:
    """A forked job must open its own database connections, never share the parent's."""
    db.engine.dispose(close=False)


def work(app, queues: list[str]) -> None:
    connection = make_redis(app.config["REDIS_URL"], socket_timeout=None, decode=False)
    os.register_at_fork(after_in_child=_forget_inherited_connections)
    worker = Worker(queues or list(QUEUES), connection=connection, serializer=JSONSerializer)
    worker.work(with_scheduler=True)


def schedule(app) -> None:
    def connect():
        return make_redis(app.config["REDIS_URL"], socket_timeout=5, decode=False)

    run_scheduler(connect, periodic_jobs(app.config), app.config["SCHEDULER_INTERVAL"])


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not argv or argv[0] not in ("work", "schedule"):
        print(__doc__)
        return 2
    app = create_app()
    with app.app_context():
        if argv[0] == "work":
            work(app, argv[1:])
        else:
            schedule(app)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
