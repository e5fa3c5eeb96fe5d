"""A meeting's life on the clock: before → lobby (10 minutes ahead) → live → ending (5 minutes
left) → ended, or cancelled at any point.

The phase is always computed from the clock, so a check never trusts a job that ran late. The
moments (lobby, start, ending, end) are also handled once each: a timed job per moment, under a
stable id per (meeting, moment), publishes `meeting.state` to the meeting's conversation and, at
the end, marks the meeting finished. `meeting.moment` records the last one handled and moves
only forward, by a conditional UPDATE, so a job that runs twice, or a job and the sweep, handle
a moment once, with its system message in the room's history. The sweep catches moments whose
job never ran (a worker or Redis was down).
"""

from datetime import datetime, timedelta

from sqlalchemy import select, update

from blueberry import clock
from blueberry.extensions import db
from blueberry.jobs import schedule_at_on_commit, unschedule_on_commit
from blueberry.models import Meeting
from blueberry.realtime.events import MEETING_STATE, conversation_topic, publish_on_commit
from blueberry.services import chat_system

LOBBY_OPENS = timedelta(minutes=10)
ENDING_WARNS = timedelta(minutes=5)
MOMENTS = ("lobby", "start", "ending", "end")
MOMENT_JOB = "blueberry.jobs.meeting.reach_moment"
SWEEP_BATCH = 500
# What the room's history says at each moment (the lobby opening says nothing).
SYSTEM_MESSAGES = {"start": "started", "ending": "ending", "end": "ended"}


def moment_times(meeting: Meeting) -> dict[str, datetime]:
    return {
        "lobby": meeting.starts_at - LOBBY_OPENS,
        "start": meeting.starts_at,
        "ending": meeting.ends_at - ENDING_WARNS,
        "end": meeting.ends_at,
    }


def phase(meeting: Meeting, now: datetime | None = None) -> str:
    """`before`, `lobby`, `live`, `ended` or `cancelled`, by the clock."""
    if meeting.status == "cancelled":
        return "cancelled"
    now = now or clock.now()
    if now < meeting.starts_at - LOBBY_OPENS:
        return "before"
    if now < meeting.starts_at:
        return "lobby"
    return "live" if now < meeting.ends_at else "ended"


def state(meeting: Meeting, now: datetime | None = None) -> dict:
    """What `meeting.state` carries."""
    now = now or clock.now()
    current = phase(meeting, now)
    return {
        "meeting_id": meeting.id, "phase": current, "starts_at": meeting.starts_at.isoformat(),
        "ends_at": meeting.ends_at.isoformat(), "ending": current == "live" and now >= meeting.ends_at - ENDING_WARNS,
    }  # fmt: skip


def due_moment(meeting: Meeting, now: datetime) -> str | None:
    """The latest moment whose time has come."""
    due = [moment for moment, at in moment_times(meeting).items() if at <= now]
    return due[-1] if due else None


def reach(meeting_id: int, moment: str, now: datetime | None = None) -> bool:
    """Handle `moment` of the meeting if its time has come and it (or a later one) was not
    handled yet; True when this call did it."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.status != "scheduled":
        return False
    now = now or clock.now()
    if moment_times(meeting)[moment] > now:
        return False  # early (the meeting moved later): its own job comes at the new time
    done = MOMENTS.index(meeting.moment) if meeting.moment else -1
    if MOMENTS.index(moment) <= done:
        return False
    values = {"moment": moment, **({"status": "finished"} if moment == "end" else {})}
    result = db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id, Meeting.moment == meeting.moment, Meeting.status == "scheduled")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False  # another job, or the sweep, got there first
    db.session.refresh(meeting)
    if moment in SYSTEM_MESSAGES:
        chat_system.post(meeting.conversation_id, SYSTEM_MESSAGES[moment])
    announce(meeting, now)
    return True


def announce(meeting: Meeting, now: datetime | None = None) -> None:
    """Open rooms hear the meeting's phase after the commit (`meeting.state`)."""
    publish_on_commit(conversation_topic(meeting.conversation_id), MEETING_STATE, state(meeting, now))


def schedule_moments(meeting: Meeting) -> None:
    """A timed job for each moment still ahead, once the transaction commits (a new time
    replaces the old jobs: the ids are the same)."""
    now = clock.now()
    for moment, at in moment_times(meeting).items():
        job_id = moment_job_id(meeting.id, moment)
        if at > now:
            schedule_at_on_commit(job_id, at, "alarms", MOMENT_JOB, meeting.id, moment)
        else:
            unschedule_on_commit(job_id)


def unschedule_moments(meeting: Meeting) -> None:
    for moment in MOMENTS:
        unschedule_on_commit(moment_job_id(meeting.id, moment))


def moment_job_id(meeting_id: int, moment: str) -> str:
    return f"meeting-{meeting_id}-{moment}"


def sweep(now: datetime | None = None) -> int:
    """Handle the moments that came and went without their job; how many were handled."""
    now = now or clock.now()
    query = (
        select(Meeting)
        .where(Meeting.status == "scheduled", Meeting.starts_at <= now + LOBBY_OPENS)
        .order_by(Meeting.starts_at)
        .limit(SWEEP_BATCH)
    )
    handled = 0
    for meeting in db.session.scalars(query).all():
        moment = due_moment(meeting, now)
        if moment and moment != meeting.moment:
            handled += reach(meeting.id, moment, now)
    return handled
