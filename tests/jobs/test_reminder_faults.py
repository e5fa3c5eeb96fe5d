"""Reminders when the timed machinery fails, with the real alarms worker: a scheduler that was
down at the reminder time comes back and runs the overdue job after the sweep has sent the
reminders: nobody gets one twice."""

import os
import subprocess
import sys
import time
from datetime import timedelta

from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import func, select, update

from blueberry.extensions import db, get_redis
from blueberry.jobs import book as book_jobs
from blueberry.jobs.reminders import sweep_reminders
from blueberry.models import MeetingParticipant, Notification
from blueberry.models.base import utcnow
from blueberry.services import book as catalog
from blueberry.services import meeting as meetings
from tests.servers import ROOT, wait_for


def reminders_sent() -> int:
    db.session.expire_all()
    query = select(func.count()).select_from(Notification).where(Notification.kind == "meeting.reminder")
    return db.session.scalar(query)


def test_a_scheduler_back_after_the_reminder_time_sends_nothing_twice(app, make_user, redis_server, database_url):
    book_jobs.load_sample(if_empty=True)
    mina, jun = make_user("mina"), make_user("jun")
    starts = utcnow().replace(microsecond=0) + timedelta(minutes=10, seconds=5)
    form = meetings.MeetingForm(book=catalog.bestsellers(1)[0], title="Night readers", description="",
                                starts_at=starts, ends_at=starts + timedelta(hours=1), capacity=4, online=True,
                                place="")  # fmt: skip
    meeting = meetings.create(mina, form)
    meetings.join(meeting, jun)
    db.session.execute(update(MeetingParticipant).values(state_at=utcnow() - timedelta(days=1)))
    db.session.commit()  # schedules the reminder time's job
    due = starts - timedelta(minutes=10)
    job_id = f"reminders-{due:%Y%m%dT%H%M%S}"
    assert Job.exists(job_id, connection=get_redis(decode=False))
    time.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.5)  # no worker, no scheduler: the time passes
    assert sweep_reminders()["sent"] == 2  # the sweep sends them
    env = {**os.environ, "REDIS_URL": redis_server.url, "DATABASE_URL": database_url, "SECRET_KEY": "x"}
    worker = subprocess.Popen([sys.executable, "worker.py", "alarms"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:  # the scheduler is back: it moves the overdue job, and the job finds everything claimed
        job = Job.fetch(job_id, connection=get_redis(decode=False), serializer=JSONSerializer)
        assert wait_for(lambda: job.get_status(refresh=True) in ("finished", "failed"), 20)
        assert job.get_status() == "finished", job.exc_info
        assert job.return_value()["sent"] == 0
    finally:
        worker.terminate()
        worker.wait(timeout=15)
    assert reminders_sent() == 2
