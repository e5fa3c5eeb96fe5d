"""A batch job's run on /ops/runs, committed at once: so a run in progress, or one whose worker
died, shows; and a failed run says why after what its failed step wrote is rolled back."""

import logging

from blueberry.extensions import db
from blueberry.services import runs

log = logging.getLogger(__name__)


def begin(kind: str) -> int:
    run = runs.start(kind)
    db.session.commit()
    return run.id


def abandon(run_id: int, error: str, counts: dict) -> None:
    db.session.rollback()
    runs.fail(run_id, error, counts)
    db.session.commit()
    log.error("run %s failed: %s", run_id, error)
