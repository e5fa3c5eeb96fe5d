"""A meeting's life on an injected clock: phases, a timed job per moment under a stable id,
moments handled once (a job twice, a late job, an early one), and the sweep for jobs that never
ran; `meeting.state` published on the meeting's conversation after the commit."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from rq.job import Job
from rq.serializers import JSONSerializer

from blueberry.extensions import db, get_redis
from blueberry.jobs import book as book_jobs
from blueberry.jobs import get_queue
from blueberry.jobs.meeting import reach_moment, sweep_meetings
from blueberry.models import Meeting
from blueberry.realtime.events import conversation_topic
from blueberry.services import book as catalog
from blueberry.services import meeting as meetings
from blueberry.services import meeting_lifecycle
from blueberry.services.meeting_lifecycle import moment_job_id, phase

START = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)  # 19:00 in Seoul


@pytest.fixture
def meeting(app, clock, make_user, rdb):
    clock.at = START - timedelta(days=1)
    book_jobs.load_sample(if_empty=True)
    form = meetings.MeetingForm(book=catalog.bestsellers(1)[0], title="Night of reading", description="",
                                starts_at=START, ends_at=START + timedelta(hours=2), capacity=5, online=True,
                                place="")  # fmt: skip
    created = meetings.create(make_user("mina"), form)
    db.session.commit()
    return created


@pytest.fixture
def listen(meeting):
    """A function giving the events published on the meeting's conversation since the last call."""
    pubsub = get_redis().pubsub()
    pubsub.subscribe(conversation_topic(meeting.conversation_id))
    pubsub.get_message(timeout=1)

    def events() -> list[dict]:
        seen = []
        while message := pubsub.get_message(timeout=0.2):
            if message["type"] == "message":
                seen.append(json.loads(message["data"].partition("\n")[2]))
        return seen

    yield events
    pubsub.close()


def test_the_phases_follow_the_clock(meeting, clock):
    for at, expected in [
        (START - timedelta(minutes=11), "before"),
        (START - timedelta(minutes=10), "lobby"),
        (START, "live"),
        (START + timedelta(hours=2) - timedelta(seconds=1), "live"),
        (START + timedelta(hours=2), "ended"),
    ]:
        assert phase(meeting, at) == expected
    meeting.status = "cancelled"
    assert phase(meeting, START) == "cancelled"


def test_each_moment_is_a_timed_job_with_a_stable_id(meeting, rdb):
    registry = get_queue("alarms").scheduled_job_registry
    connection = get_redis(decode=False)
    times = {moment: registry.get_scheduled_time(moment_job_id(meeting.id, moment)) for moment in
             ("lobby", "start", "ending", "end")}  # fmt: skip
    assert times == {
        "lobby": START - timedelta(minutes=10),
        "start": START,
        "ending": START + timedelta(minutes=115),
        "end": START + timedelta(hours=2),
    }
    job = Job.fetch(moment_job_id(meeting.id, "start"), connection=connection, serializer=JSONSerializer)
    assert (job.func_name, job.args) == ("blueberry.jobs.meeting.reach_moment", [meeting.id, "start"])


def test_cancelling_removes_the_jobs(app, meeting, rdb):
    with app.test_request_context():
        meetings.cancel(meeting, meeting.leader)
    db.session.commit()
    registry = get_queue("alarms").scheduled_job_registry
    # The meeting's own jobs go; its reminder time's job, shared with any meeting due then, stays
    # (and finds nothing to send for a cancelled one).
    assert [job_id for job_id in registry.get_job_ids() if not job_id.startswith("reminders-")] == []


def test_a_moment_is_handled_once_and_published_after_commit(meeting, clock, listen):
    clock.at = START + timedelta(seconds=3)  # the start job runs a little late
    assert reach_moment(meeting.id, "start") is True
    assert reach_moment(meeting.id, "start") is False  # delivered twice: nothing the second time
    assert reach_moment(meeting.id, "lobby") is False  # an older moment after a newer one: nothing
    events = listen()
    assert [(e["type"], e["data"]["type"]) for e in events if e["type"] == "message.new"] == [("message.new", "system")]
    states = [(e["data"]["phase"], e["data"]["ending"]) for e in events if e["type"] == "meeting.state"]
    assert states == [("live", False)]
    clock.at = START + timedelta(minutes=116)
    assert reach_moment(meeting.id, "ending") is True
    assert [e["data"]["ending"] for e in listen() if e["type"] == "meeting.state"] == [True]


def test_an_early_job_does_nothing(meeting, clock, listen):
    clock.at = START - timedelta(minutes=30)
    assert reach_moment(meeting.id, "start") is False
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).moment == "" and listen() == []


def test_the_sweep_handles_what_no_job_did(meeting, clock, listen):
    clock.at = START - timedelta(minutes=20)
    assert sweep_meetings() == 0  # nothing due yet
    clock.at = START + timedelta(hours=3)  # every job was lost: the sweep finds the meeting over
    assert sweep_meetings() == 1
    assert sweep_meetings() == 0  # once
    db.session.expire_all()
    ended = db.session.get(Meeting, meeting.id)
    assert (ended.status, ended.moment) == ("finished", "end")
    assert [e["data"]["phase"] for e in listen() if e["type"] == "meeting.state"] == ["ended"]
    assert reach_moment(meeting.id, "end") is False  # the late job finds it done


def test_a_new_time_replaces_the_jobs(meeting):
    meeting.starts_at, meeting.ends_at = START + timedelta(days=1), START + timedelta(days=1, hours=1)
    meeting_lifecycle.schedule_moments(meeting)
    db.session.commit()
    registry = get_queue("alarms").scheduled_job_registry
    moments = [job_id for job_id in registry.get_job_ids() if job_id.startswith(f"meeting-{meeting.id}-")]
    assert len(moments) == 4  # the same four ids, not eight
    assert registry.get_scheduled_time(moment_job_id(meeting.id, "start")) == START + timedelta(days=1)
