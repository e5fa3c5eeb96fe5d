"""Meeting reminders, on the injected clock: who gets one (in their language and time zone,
with the room's link), exactly once whatever runs twice, a moved meeting reminded at its new
time, a cancelled one never, someone who joined after the reminder time skipped, a reminder
whose time passed unsent until the start recorded as missed, and each run on the runs page."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.jobs import get_queue
from blueberry.jobs.reminders import send_meeting_reminders, sweep_reminders
from blueberry.models import Claim, JobRun, Meeting, Notification
from blueberry.models.base import utcnow
from blueberry.services import book as catalog
from blueberry.services import meeting as meetings
from blueberry.services import meeting_waitlist

START = (utcnow() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)  # 19:00 in Seoul


@pytest.fixture
def club(app, clock, make_user, rdb):
    clock.at = START - timedelta(days=1)
    book_jobs.load_sample(if_empty=True)
    people = {
        "mina": make_user("mina", display_name="Mina", language="ko", timezone="Asia/Seoul"),
        "jun": make_user("jun", display_name="Jun", language="en", timezone="Europe/Berlin"),
        "ara": make_user("ara"), "bomi": make_user("bomi"), "dan": make_user("dan"),
    }  # fmt: skip
    form = meetings.MeetingForm(book=catalog.bestsellers(1)[0], title="Night readers", description="",
                                starts_at=START, ends_at=START + timedelta(hours=1), capacity=3, online=True,
                                place="")  # fmt: skip
    meeting = meetings.create(people["mina"], form)
    for name in ("jun", "ara", "bomi", "dan"):  # ara takes the last place; bomi and dan wait
        meetings.join(meeting, people[name])
    meetings.leave(meeting, people["ara"])  # her place is offered to bomi, who has not answered
    db.session.commit()
    return meeting, people


def reminded() -> dict[int, str]:
    db.session.expire_all()
    rows = db.session.execute(
        select(Notification.user_id, Notification.title).where(Notification.kind == "meeting.reminder")
    )
    return dict(rows.all())


def test_everyone_going_is_reminded_once_in_their_language_and_zone(club, clock):
    meeting, people = club
    clock.at = START - timedelta(minutes=10)
    assert send_meeting_reminders()["sent"] == 2
    got = reminded()
    assert set(got) == {people["mina"].id, people["jun"].id}  # not those waiting, not who left
    assert got[people["mina"].id] == "“Night readers” 모임이 오후 7:00에 시작해요. 방이 열렸어요. 들어오세요."
    # 10:00 UTC is 11:00 in Berlin (CLDR puts a narrow no-break space before AM)
    assert got[people["jun"].id] == "“Night readers” starts at 11:00\u202fAM. Its room is open: come in."
    note = db.session.scalar(select(Notification).where(Notification.user_id == people["jun"].id))
    assert note.link == f"/conversations/{meeting.conversation_id}"
    clock.at += timedelta(seconds=20)
    assert send_meeting_reminders()["sent"] == 0 and sweep_reminders()["sent"] == 0  # a duplicate job, the sweep
    assert len(reminded()) == 2 and db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "meeting.reminder")) == 2  # fmt: skip


def test_a_job_and_a_sweep_at_once_send_each_reminder_once(app, club, clock):
    clock.at = START - timedelta(minutes=10) + timedelta(seconds=1)
    barrier, results = threading.Barrier(2), []

    def run(job):
        with app.app_context():
            barrier.wait()
            try:
                results.append(job()["sent"])
            except Exception as error:  # noqa: BLE001 (shown by the assertion below)
                results.append(repr(error))

    threads = [threading.Thread(target=run, args=(job,)) for job in (send_meeting_reminders, sweep_reminders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results, key=str) == [0, 2] and len(reminded()) == 2, results


def test_the_reminder_follows_the_meeting(club, clock):
    meeting, people = club
    registry = get_queue("alarms").scheduled_job_registry
    job_id = f"reminders-{START - timedelta(minutes=10):%Y%m%dT%H%M%S}"
    assert registry.get_scheduled_time(job_id) == START - timedelta(minutes=10, seconds=3)  # and waits
    later_start = START + timedelta(hours=2)
    form = meetings.MeetingForm(book=meeting.book, title=meeting.title, description="", capacity=3, online=True,
                                place="", starts_at=later_start, ends_at=later_start + timedelta(hours=1))  # fmt: skip
    meetings.update(meeting, people["mina"], form)
    db.session.commit()
    clock.at = START - timedelta(minutes=10)  # the old time: its job finds nothing due
    assert send_meeting_reminders()["sent"] == 0
    later = START + timedelta(hours=2) - timedelta(minutes=10)
    assert registry.get_scheduled_time(f"reminders-{later:%Y%m%dT%H%M%S}") == later - timedelta(seconds=3)
    clock.at = later
    assert send_meeting_reminders()["sent"] == 2


def test_a_cancelled_meeting_reminds_nobody(club, clock):
    meeting, people = club
    meetings.cancel(meeting, people["mina"])
    db.session.commit()
    clock.at = START - timedelta(minutes=5)
    assert sweep_reminders()["sent"] == 0
    clock.at = START + timedelta(minutes=1)
    assert sweep_reminders()["missed"] == 0  # not missed either: there is nothing to remind of
    assert reminded() == {}


def test_joining_after_the_reminder_time_gets_no_reminder(club, clock):
    meeting, people = club
    clock.at = START - timedelta(minutes=10)
    send_meeting_reminders()
    clock.at = START - timedelta(minutes=3)
    assert meeting_waitlist.expire(meeting.id, people["bomi"].id)  # her offer lapsed: the place goes to dan
    meeting_waitlist.accept(meeting, meetings.participant(meeting.id, people["dan"].id))  # 3 minutes ahead
    db.session.commit()
    counts = sweep_reminders()
    assert (counts["sent"], counts["skipped"]) == (0, 1) and people["dan"].id not in reminded()
    assert sweep_reminders()["skipped"] == 0  # decided once


def test_a_reminder_nobody_sent_before_the_start_is_recorded_missed(club, clock):
    meeting, people = club
    clock.at = START - timedelta(minutes=3)  # dan takes a place after the reminder time
    assert meeting_waitlist.expire(meeting.id, people["bomi"].id)
    meeting_waitlist.accept(meeting, meetings.participant(meeting.id, people["dan"].id))
    db.session.commit()
    clock.at = START + timedelta(minutes=1)  # every job was lost, and the sweeps too
    counts = sweep_reminders()
    assert counts["missed"] == 2 and reminded() == {}  # no "starts in 10 minutes" after the start
    assert sweep_reminders()["missed"] == 0  # recorded once
    query = select(Claim.user_id, Claim.outcome).where(Claim.subject == f"meeting:{meeting.id}")
    outcomes = dict(db.session.execute(query).all())
    mina, jun, dan = (people[name].id for name in ("mina", "jun", "dan"))
    assert outcomes == {mina: "missed", jun: "missed", dan: "skipped"}  # he never had one to miss


def test_a_lost_job_is_made_up_by_the_sweep_and_its_lateness_recorded(club, clock):
    clock.at = START - timedelta(minutes=10) + timedelta(seconds=12)  # Redis lost the job; the sweep runs
    counts = sweep_reminders()
    assert counts["sent"] == 2 and counts["lateness_max_ms"] == 12_000
    run = db.session.scalar(select(JobRun).where(JobRun.kind == "meetings.reminders"))
    assert run.counts["sent"] == 2 and run.counts["lateness_p50_ms"] == 12_000
    claims = db.session.scalars(select(Claim.lateness_ms).where(Claim.outcome == "sent")).all()
    assert claims == [12_000, 12_000]


def test_a_meeting_cannot_be_moved_into_the_past(club, clock):
    meeting, people = club
    form = meetings.MeetingForm(book=meeting.book, title=meeting.title, description="", capacity=3, online=True,
                                place="", starts_at=clock.at - timedelta(hours=1), ends_at=clock.at)  # fmt: skip
    with pytest.raises(meetings.FieldError) as refused:
        meetings.update(meeting, people["mina"], form)
    assert refused.value.field == "start"
    db.session.rollback()
    assert db.session.get(Meeting, meeting.id).starts_at == START


def test_the_job_comes_early_and_waits_for_its_time(club, clock):
    due = START - timedelta(minutes=10)
    clock.at = due - timedelta(seconds=0.5)  # RQ's scheduler put it on the queue ahead of time
    started = time.monotonic()
    assert send_meeting_reminders(due.isoformat())["sent"] == 2
    assert time.monotonic() - started >= 0.5  # it waited
    assert db.session.scalars(select(Claim.lateness_ms)).all() == [0, 0]
