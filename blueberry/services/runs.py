"""Runs of background work, as operators see them on /ops/runs.

The job that owns a run commits it when it starts (so a run in progress, or one whose worker
died, shows) and again when it ends with its counts or its error. Any job can record its runs
here under its own `kind`.
"""

from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import AiRun, JobRun
from blueberry.models.base import utcnow

PAGE_SIZE = 50


def start(kind: str) -> JobRun:
    run = JobRun(kind=kind, status="running", counts={})
    db.session.add(run)
    db.session.flush()
    return run


def finish(run: JobRun, counts: dict) -> None:
    run.status, run.counts, run.finished_at = "ok", dict(counts), utcnow()
    db.session.flush()


def record(kind: str, started_at, counts: dict) -> JobRun:
    """A run that is over already (a short job that records only runs that did something)."""
    run = JobRun(kind=kind, status="ok", counts=dict(counts), started_at=started_at, finished_at=utcnow())
    db.session.add(run)
    db.session.flush()
    return run


def fail(run_id: int, error: str, counts: dict) -> None:
    """Record why the run stopped (call it after rolling back what the failed step wrote)."""
    run = db.session.get(JobRun, run_id)
    run.status, run.error, run.finished_at, run.counts = "failed", error[:2000], utcnow(), dict(counts)
    db.session.flush()


def recent(kind: str | None = None, before_id: int | None = None) -> list[JobRun]:
    query = select(JobRun)
    if kind:
        query = query.where(JobRun.kind == kind)
    if before_id:
        query = query.where(JobRun.id < before_id)
    return list(db.session.scalars(query.order_by(JobRun.id.desc()).limit(PAGE_SIZE)))


def kinds() -> list[str]:
    return list(db.session.scalars(select(JobRun.kind).distinct().order_by(JobRun.kind)))


def recent_ai(limit: int = PAGE_SIZE) -> list[AiRun]:
    """The latest AI runs, with what each cost (model, tokens, time) and how it ended."""
    return list(db.session.scalars(select(AiRun).order_by(AiRun.id.desc()).limit(limit)))
