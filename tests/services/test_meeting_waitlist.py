"""The waitlist: a freed place is offered to the first person waiting for 15 minutes (held for
them, told at once); accept takes it, decline or a lapse passes it on; the leader removes
people (who cannot come back) and hands the lead over."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from blueberry import clock as app_clock
from blueberry.extensions import db, get_redis
from blueberry.jobs import book as book_jobs
from blueberry.jobs import get_queue
from blueberry.jobs.meeting import expire_offer, sweep_meetings
from blueberry.models import Meeting, Notification
from blueberry.services import book as catalog
from blueberry.services import meeting as meetings
from blueberry.services import meeting_waitlist as waitlist
from blueberry.services.errors import FieldError


@pytest.fixture
def full(app, clock, make_user, rdb):
    """A meeting of 2 (Mina leads, Jun goes) with Ara then Bo waiting; in a request context (links)."""
    book_jobs.load_sample(if_empty=True)
    people = {name: make_user(name, gender="male" if name in ("jun", "bo") else "female")
              for name in ("mina", "jun", "ara", "bora")}  # fmt: skip
    starts = clock.at + timedelta(days=1)
    form = meetings.MeetingForm(book=catalog.bestsellers(1)[0], title="Small circle", description="",
                                starts_at=starts, ends_at=starts + timedelta(hours=1), capacity=2, online=True,
                                place="")  # fmt: skip
    with app.test_request_context():
        meeting = meetings.create(people["mina"], form)
        assert [meetings.join(meeting, people[n]) for n in ("jun", "ara", "bora")] == [
            "going", "waitlisted", "waitlisted"]  # fmt: skip
        db.session.commit()
        yield meeting, people


def state(meeting, user) -> tuple[str, bool]:
    row = meetings.participant(meeting.id, user.id)
    return row.state, row.offer_expires_at is not None


def going(meeting) -> int:
    db.session.expire_all()
    return db.session.get(Meeting, meeting.id).going


def test_a_freed_place_is_offered_held_and_taken(full, clock):
    meeting, people = full
    meetings.leave(meeting, people["jun"])
    db.session.commit()
    assert state(meeting, people["ara"]) == ("waitlisted", True) and going(meeting) == 2  # held for her
    assert state(meeting, people["bora"]) == ("waitlisted", False)
    note = db.session.scalar(select(Notification).where(Notification.user_id == people["ara"].id))
    assert "15 minutes" in note.title and note.link == f"/meetings/{meeting.id}"
    registry = get_queue("alarms").scheduled_job_registry
    job_id = waitlist.offer_job_id(meeting.id, people["ara"].id)
    assert registry.get_scheduled_time(job_id) == clock.at + timedelta(minutes=15)
    assert meetings.join(meeting, people["jun"]) == "waitlisted"  # he cannot take the held place back
    waitlist.accept(meeting, meetings.participant(meeting.id, people["ara"].id))
    db.session.commit()
    assert state(meeting, people["ara"]) == ("going", False) and going(meeting) == 2
    assert job_id not in registry.get_job_ids()


def test_decline_and_lapse_pass_the_place_on(full, clock):
    meeting, people = full
    meetings.leave(meeting, people["jun"])
    db.session.commit()
    waitlist.decline(meeting, meetings.participant(meeting.id, people["ara"].id))
    db.session.commit()
    assert state(meeting, people["ara"]) == ("left", False)
    assert state(meeting, people["bora"]) == ("waitlisted", True) and going(meeting) == 2
    assert expire_offer(meeting.id, people["bora"].id) is False  # not due yet
    clock.at += timedelta(minutes=16)
    with pytest.raises(FieldError, match="lapsed"):
        waitlist.accept(meeting, meetings.participant(meeting.id, people["bora"].id))
    db.session.rollback()
    assert expire_offer(meeting.id, people["bora"].id) is True
    assert expire_offer(meeting.id, people["bora"].id) is False  # once
    assert state(meeting, people["bora"]) == ("left", False) and going(meeting) == 1  # nobody left waiting


def test_the_sweep_lapses_offers_whose_job_was_lost(full, clock):
    meeting, people = full
    meetings.leave(meeting, people["jun"])
    db.session.commit()
    get_redis().flushdb()  # the timed job is gone
    clock.at += timedelta(minutes=20)
    assert sweep_meetings() == 1
    assert state(meeting, people["ara"]) == ("left", False)
    assert state(meeting, people["bora"]) == ("waitlisted", True)  # the next one has it now


def test_the_leader_removes_and_hands_over(full, clock):
    meeting, people = full
    meetings.remove(meeting, people["mina"], people["jun"].id)
    db.session.commit()
    assert state(meeting, people["jun"]) == ("removed", False)
    assert state(meeting, people["ara"]) == ("waitlisted", True)  # his place is offered on
    with pytest.raises(FieldError, match="removed you"):
        meetings.join(meeting, people["jun"])
    with pytest.raises(FieldError, match="Only the leader"):
        meetings.remove(meeting, people["ara"], people["bora"].id)
    waitlist.accept(meeting, meetings.participant(meeting.id, people["ara"].id))
    meetings.hand_over(meeting, people["mina"], people["ara"].id)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).leader_id == people["ara"].id
    assert meetings.participant(meeting.id, people["mina"].id).role == "member"
    meetings.leave(meeting, people["mina"])  # no longer the leader: she may go
    with pytest.raises(FieldError, match="Only someone going"):
        meetings.hand_over(meeting, people["ara"], people["bora"].id)  # waiting, not going
    assert app_clock.now() == clock.at
