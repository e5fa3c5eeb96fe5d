"""Reminders' timed work (on the `alarms` queue, which has a worker of its own): the job of one
due time, and the sweep that sends what a lost job did not and records what came too late.
Each run is recorded (counts, lateness) for the staff runs page."""

import logging
import time
from datetime import datetime

from blueberry import clock
from blueberry.extensions import db
from blueberry.models.base import utcnow
from blueberry.services import meeting_reminders, runs

log = logging.getLogger(__name__)


def send_meeting_reminders(due: str | None = None) -> dict:
    """Every meeting reminder due now. The job of one due time (`due`, ISO) comes a little early
    and waits for it; the sweep runs it without."""
    started, now = utcnow(), clock.now()
    if due is not None:
        due_at = datetime.fromisoformat(due)
        _wait_until(due_at)
        now = max(clock.now(), due_at)  # the job is for that time, even if the sleep woke a hair early
    done, after = {"sent": 0, "skipped": 0, "lateness_ms": []}, 0
    while after is not None:  # one transaction per batch of meetings; notifications go out after each
        after = meeting_reminders.send_due(now, done, after)
        db.session.commit()
    return _record(started, done)


def sweep_reminders() -> dict:
    counts = send_meeting_reminders()
    missed = meeting_reminders.record_missed()
    db.session.commit()
    if missed:
        log.warning("%d meeting reminders were missed (their meeting started unreminded)", missed)
    return {**counts, "missed": missed}


def _wait_until(due: datetime) -> None:
    """Sleep until `due` by the clock (at most the job's head start: a job picked up late, or a
    clock that moved, does not wait longer)."""
    ahead = (due - clock.now()).total_seconds()
    if 0 < ahead <= meeting_reminders.EARLY.total_seconds():
        time.sleep(ahead)


def _record(started, done: dict) -> dict:
    """A run row when something was sent or skipped (an idle sweep leaves none), with the
    lateness (sent − due) of what it sent."""
    lateness = sorted(done.pop("lateness_ms"))
    counts = {**done, "lateness_p50_ms": _at(lateness, 50), "lateness_max_ms": lateness[-1] if lateness else 0}
    if done["sent"] or done["skipped"]:
        runs.record("meetings.reminders", started, counts)
        db.session.commit()
    return counts


def _at(values: list[int], p: int) -> int:
    return values[min(len(values) - 1, p * len(values) // 100)] if values else 0
