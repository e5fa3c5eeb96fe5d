"""Meeting reminders: "starts at 19:00, its room is open" to everyone going, 10 minutes ahead,
once each, wherever they are (a notification: a toast and a badge live, and kept in the list).

When: one timed job per due time (`reminders-<time>` on the `alarms` queue) handles every
meeting due by then together — meetings start on the hour, so thousands may share a minute —
and the sweep does the same for whatever a lost job left. Both read the meetings from SQL, so a
meeting moved to another time is reminded at its new time and a cancelled one not at all.

Once: each reminder is a claim (services/claims.py), unique per (meeting, person), written in
the transaction of its notification. A job that runs twice, or a sweep racing the job, sends
nothing the second time. Someone who started going after the reminder time gets none (the
meeting page tells them when it starts); a reminder whose time passed unsent until the start is
recorded as missed instead of arriving late.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import String, cast, exists, literal, select

from blueberry import clock
from blueberry.extensions import db
from blueberry.jobs import schedule_at_on_commit
from blueberry.links import path_for, public_url_for
from blueberry.models import Claim, Meeting, MeetingParticipant, User
from blueberry.services import claims, meeting_mail, notifications

KIND = "meeting.reminder"
LEAD = timedelta(minutes=10)
JOB = "blueberry.jobs.reminders.send_meeting_reminders"
BATCH = 200  # meetings per transaction
EARLY = timedelta(seconds=3)
MISSED_LOOKBACK = timedelta(days=1)


def due_at(meeting: Meeting) -> datetime:
    return meeting.starts_at - LEAD


def schedule(meeting: Meeting) -> None:
    """The job for the meeting's reminder time, after the commit (shared with every meeting due
    then: scheduling it again changes nothing; a moved meeting's old job finds nothing to do).
    It is put on the queue a little early (RQ's scheduler looks once a second) and waits in the
    alarms worker for the exact time."""
    when = due_at(meeting)
    if when > clock.now():
        job_id = f"reminders-{when:%Y%m%dT%H%M%S}"
        schedule_at_on_commit(job_id, when - EARLY, "alarms", JOB, when.isoformat())


def subject(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


def send_due(now: datetime, done: dict, after_id: int = 0) -> int | None:
    """Remind everyone going to the next `BATCH` meetings (by id, after `after_id`) whose reminder
    time has come and that have not started; adds to `done` (sent, skipped, lateness in ms).
    The last meeting id handled, to go on from after the commit, or None when there are no more."""
    query = (
        select(Meeting)
        .where(Meeting.status == "scheduled", Meeting.starts_at > now, Meeting.starts_at <= now + LEAD)
        .where(Meeting.id > after_id)
        .order_by(Meeting.id)
        .limit(BATCH)
    )
    meetings = db.session.scalars(query).all()
    if meetings:
        _remind(meetings, _going([meeting.id for meeting in meetings]), done)
    return meetings[-1].id if len(meetings) == BATCH else None


def _going(meeting_ids: list[int]) -> dict[int, list[tuple[User, datetime]]]:
    """The people going to each meeting, with since when: one query for a batch."""
    found = defaultdict(list)
    rows = db.session.execute(
        select(MeetingParticipant.meeting_id, User, MeetingParticipant.state_at)
        .join(User, User.id == MeetingParticipant.user_id)
        .where(MeetingParticipant.meeting_id.in_(meeting_ids), MeetingParticipant.state == "going")
    )
    for meeting_id, user, since in rows:
        found[meeting_id].append((user, since))
    return found


def _remind(meetings: list[Meeting], going: dict, done: dict) -> None:
    """A batch of meetings: their claims in two statements, their notifications in one."""
    now = clock.now()  # when these go out, for their lateness
    wanted, passed, by_subject = [], [], {}
    for meeting in meetings:
        by_subject[subject(meeting.id)] = meeting
        for user, since in going.get(meeting.id, []):
            skip = since > due_at(meeting) or user.meeting_reminders == "off"
            (passed if skip else wanted).append((claims.Wanted(subject(meeting.id), user.id, due_at(meeting)), user))
    done["skipped"] += len(claims.claim_all(KIND, "skipped", [w for w, _ in passed], now))
    mine = claims.claim_all(KIND, "sent", [w for w, _ in wanted], now)
    reminded = [(by_subject[w.subject], user) for w, user in wanted if (w.subject, w.user_id) in mine]
    notes = [notifications.Note(user.id, _words(meeting, user), _room(meeting)) for meeting, user in reminded]
    notifications.notify_each(notes, KIND)
    away = {user.id for user in meeting_mail.to_mail([user for _, user in reminded], "meeting_reminders")}
    for meeting, user in reminded:
        if user.id in away:
            words = _words(meeting, user)
            meeting_mail.mail(user, "meeting_reminders", words, [words, _room(meeting, external=True)])
    done["sent"] += len(mine)
    done["lateness_ms"] += [max(0, int((now - due_at(meeting)).total_seconds() * 1000)) for meeting, _ in reminded]


def _room(meeting: Meeting, external: bool = False) -> str:
    link = public_url_for if external else path_for
    return link("chat.conversation", conversation_id=meeting.conversation_id)


def _words(meeting: Meeting, user: User) -> str:
    """In the person's language and time zone (a job has no request to take them from)."""
    starts = format_time(meeting.starts_at, "short", tzinfo=ZoneInfo(user.timezone), locale=user.language)
    with force_locale(user.language):
        return _("“%(title)s” starts at %(time)s. Its room is open: come in.", title=meeting.title, time=starts)


def record_missed(now: datetime | None = None) -> int:
    """Reminders whose meeting started while nobody sent them: recorded as missed (a "starts in
    10 minutes" after the start would be wrong), so the runs page shows them."""
    now = now or clock.now()
    claimed = exists().where(
        Claim.kind == KIND, Claim.subject == literal("meeting:") + cast(Meeting.id, String),
        Claim.user_id == MeetingParticipant.user_id,
    )  # fmt: skip
    query = (
        select(Meeting.id, Meeting.starts_at, MeetingParticipant.user_id, MeetingParticipant.state_at)
        .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
        .where(Meeting.status != "cancelled", Meeting.starts_at <= now, Meeting.starts_at > now - MISSED_LOOKBACK)
        .where(MeetingParticipant.state == "going", ~claimed)
        .limit(5000)
    )
    theirs = [(since <= starts - LEAD, claims.Wanted(subject(mid), uid, starts - LEAD))
              for mid, starts, uid, since in db.session.execute(query).all()]  # fmt: skip
    # Someone who came after the reminder time never had one to miss: settled as skipped, once.
    claims.claim_all(KIND, "skipped", [wanted for due, wanted in theirs if not due], now)
    return len(claims.claim_all(KIND, "missed", [wanted for due, wanted in theirs if due], now))
