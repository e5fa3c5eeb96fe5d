"""Places in a meeting and its waitlist.

A place is taken by one conditional UPDATE of `meeting.going` (`going < capacity`). When one
frees up (someone leaves or is removed, the leader makes room), the first person waiting is
offered it for MEETING_OFFER_S (15 minutes): the place is held for them meanwhile, they are told
at once (a notification, live), and they accept or decline; a decline, or an offer that lapses
(its timed job, or the sweep), passes the place to the next person waiting.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from blueberry import clock
from blueberry.extensions import db
from blueberry.jobs import schedule_at_on_commit, unschedule_on_commit
from blueberry.links import path_for
from blueberry.models import Meeting, MeetingParticipant, User
from blueberry.services import meeting_chat, notifications
from blueberry.services.errors import FieldError

EXPIRE_JOB = "blueberry.jobs.meeting.expire_offer"


def take_place(meeting_id: int) -> bool:
    """One place, if one is free: the UPDATE only matches while `going < capacity`."""
    result = db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id, Meeting.going < Meeting.capacity)
        .values(going=Meeting.going + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_place(meeting_id: int) -> None:
    db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id, Meeting.going > 0)
        .values(going=Meeting.going - 1)
        .execution_options(synchronize_session=False)
    )


def offer_freed_places(meeting: Meeting) -> int:
    """Offer every free place to the next people waiting; how many were offered."""
    if meeting.status != "scheduled" or meeting.ends_at <= clock.now():
        return 0
    offered = 0
    for waiting in _waiting(meeting.id):
        if not take_place(meeting.id):
            break
        _offer(meeting, waiting)
        offered += 1
    return offered


def _waiting(meeting_id: int) -> list[MeetingParticipant]:
    return list(
        db.session.scalars(
            select(MeetingParticipant)
            .where(
                MeetingParticipant.meeting_id == meeting_id,
                MeetingParticipant.state == "waitlisted",
                MeetingParticipant.offer_expires_at.is_(None),
            )  # fmt: skip
            .order_by(MeetingParticipant.state_at, MeetingParticipant.id)
        )
    )


def _offer(meeting: Meeting, waiting: MeetingParticipant) -> None:
    expires = clock.now() + timedelta(seconds=current_app.config["MEETING_OFFER_S"])
    waiting.offer_expires_at = expires
    db.session.flush()
    person = db.session.get(User, waiting.user_id)
    with force_locale(person.language):
        title = _("A place opened in “%(title)s”: it is yours for 15 minutes.", title=meeting.title)
    link = path_for("meeting.detail", meeting_id=meeting.id)
    notifications.notify(person, title, link=link, kind="meeting")
    schedule_at_on_commit(offer_job_id(meeting.id, person.id), expires, "alarms", EXPIRE_JOB, meeting.id, person.id)


def offer_job_id(meeting_id: int, user_id: int) -> str:
    return f"meeting-{meeting_id}-offer-{user_id}"


def holds_offer(row: MeetingParticipant | None) -> bool:
    return bool(row and row.state == "waitlisted" and row.offer_expires_at and row.offer_expires_at > clock.now())


def accept(meeting: Meeting, row: MeetingParticipant | None) -> None:
    """Take the offered place (before it lapses)."""
    if not holds_offer(row):
        raise FieldError("meeting", _l("That offer has lapsed."))
    row.state, row.state_at, row.offer_expires_at = "going", clock.now(), None
    db.session.flush()
    meeting_chat.enter(meeting, db.session.get(User, row.user_id))
    unschedule_on_commit(offer_job_id(meeting.id, row.user_id))


def decline(meeting: Meeting, row: MeetingParticipant) -> None:
    """Let the place go to the next person waiting (and leave the waitlist)."""
    if row.offer_expires_at is None:
        return
    _give_back(meeting, row)
    unschedule_on_commit(offer_job_id(meeting.id, row.user_id))


def expire(meeting_id: int, user_id: int) -> bool:
    """An offer's time is up (its timed job, or the sweep): the place passes on. False when it
    was answered already, or is not due yet."""
    mine = (MeetingParticipant.meeting_id == meeting_id, MeetingParticipant.user_id == user_id)
    row = db.session.scalar(select(MeetingParticipant).where(*mine))
    if row is None or row.state != "waitlisted" or row.offer_expires_at is None or row.offer_expires_at > clock.now():
        return False
    _give_back(db.session.get(Meeting, meeting_id), row)
    return True


def lapsed_offers() -> list[tuple[int, int]]:
    """(meeting id, user id) of offers past their time, for the sweep."""
    query = select(MeetingParticipant.meeting_id, MeetingParticipant.user_id).where(
        MeetingParticipant.state == "waitlisted", MeetingParticipant.offer_expires_at <= clock.now()
    )
    return [(meeting_id, user_id) for meeting_id, user_id in db.session.execute(query.limit(500))]


def _give_back(meeting: Meeting, row: MeetingParticipant) -> None:
    row.state, row.state_at, row.offer_expires_at = "left", clock.now(), None
    db.session.flush()
    release_place(meeting.id)
    db.session.refresh(meeting)
    offer_freed_places(meeting)
