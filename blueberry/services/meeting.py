"""Book-club meetings: opening one, joining (a place or the waitlist), leaving, cancelling, and
the lists people browse.

Taking a place is one conditional UPDATE of the meeting's `going` count (`going < capacity`):
of twenty people asking for the last place at once, exactly one row update succeeds, on SQLite
(the write lock) and PostgreSQL (the row lock) alike; the others are waitlisted.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from blueberry.extensions import db
from blueberry.models import Book, Category, Conversation, Meeting, MeetingParticipant, User
from blueberry.models.base import utcnow
from blueberry.models.meeting import MAX_CAPACITY, MIN_CAPACITY
from blueberry.services import meeting_lifecycle, notifications
from blueberry.services.errors import FieldError

MIN_LENGTH, MAX_LENGTH = timedelta(minutes=30), timedelta(hours=6)
ACTIVE = ("going", "waitlisted")


@dataclass
class MeetingForm:
    """What a leader fills in (times already in UTC)."""

    book: Book
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    online: bool
    place: str


def check(form: MeetingForm, now: datetime | None = None) -> None:
    """FieldError for the first rule the form breaks."""
    now = now or utcnow()
    if not form.title.strip():
        raise FieldError("title", _l("Give the meeting a name."))
    if form.starts_at <= now:
        raise FieldError("start", _l("Choose a time in the future."))
    if not MIN_LENGTH <= form.ends_at - form.starts_at <= MAX_LENGTH:
        raise FieldError("duration", _l("A meeting lasts from 30 minutes to 6 hours."))
    if not MIN_CAPACITY <= form.capacity <= MAX_CAPACITY:
        raise FieldError("capacity", _l("From %(low)d to %(high)d people.", low=MIN_CAPACITY, high=MAX_CAPACITY))
    if not form.online and not form.place.strip():
        raise FieldError("place", _l("Say where, or make it an online meeting."))


def create(leader: User, form: MeetingForm) -> Meeting:
    """Open a meeting led by `leader` (who is its first participant) with its own conversation."""
    check(form)
    _check_room_in_schedule(leader.id)
    conversation = Conversation(kind="meeting", origin="meeting", title=form.title.strip()[:100])
    db.session.add(conversation)
    db.session.flush()
    meeting = Meeting(
        book_id=form.book.id, leader_id=leader.id, title=form.title.strip()[:100],
        description=form.description.strip(), starts_at=form.starts_at, ends_at=form.ends_at,
        capacity=form.capacity, going=1, online=form.online, place="" if form.online else form.place.strip()[:200],
        conversation_id=conversation.id,
    )  # fmt: skip
    db.session.add(meeting)
    db.session.flush()
    db.session.add(MeetingParticipant(meeting_id=meeting.id, user_id=leader.id, role="leader", state="going"))
    db.session.flush()
    meeting_lifecycle.schedule_moments(meeting)
    return meeting


def join(meeting: Meeting, user: User) -> str:
    """Ask for a place: "going", or "waitlisted" when the meeting is full. FieldError when the
    meeting is over or cancelled, the person was removed from it, or has too many meetings."""
    now = utcnow()
    if meeting.status != "scheduled" or meeting.ends_at <= now:
        raise FieldError("meeting", _l("This meeting is not taking anyone any more."))
    mine = participant(meeting.id, user.id)
    if mine is not None and mine.state in ACTIVE:
        return mine.state
    if mine is not None and mine.state == "removed":
        raise FieldError("meeting", _l("The leader removed you from this meeting."))
    _check_room_in_schedule(user.id)
    mine = mine or _new_participant(meeting.id, user.id)
    mine.state, mine.state_at = ("going" if _take_place(meeting.id) else "waitlisted"), now
    db.session.flush()
    return mine.state


def leave(meeting: Meeting, user: User) -> None:
    """Give up a place (or a spot on the waitlist). The leader hands the lead over or cancels."""
    mine = participant(meeting.id, user.id)
    if mine is None or mine.state not in ACTIVE:
        return
    if mine.role == "leader":
        raise FieldError("meeting", _l("You lead this meeting: cancel it instead."))
    if mine.state == "going":
        db.session.execute(update(Meeting).where(Meeting.id == meeting.id).values(going=Meeting.going - 1))
    mine.state, mine.state_at = "left", utcnow()
    db.session.flush()


def cancel(meeting: Meeting, user: User) -> bool:
    """The leader calls it off; everyone going or waiting is told. False if it was not scheduled."""
    if meeting.leader_id != user.id:
        raise FieldError("meeting", _l("Only the leader can cancel the meeting."))
    if meeting.status != "scheduled":
        return False
    meeting.status, meeting.updated_at = "cancelled", utcnow()
    db.session.flush()
    meeting_lifecycle.unschedule_moments(meeting)
    link = url_for("meeting.detail", meeting_id=meeting.id)
    for person in people(meeting.id, ACTIVE):
        if person.id != user.id:
            with force_locale(person.language):
                title = _("“%(title)s” was cancelled.", title=meeting.title)
            notifications.notify(person, title, link=link, kind="meeting")
    return True


def _take_place(meeting_id: int) -> bool:
    """One place, if one is free: the UPDATE only matches while `going < capacity`."""
    result = db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id, Meeting.going < Meeting.capacity)
        .values(going=Meeting.going + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _new_participant(meeting_id: int, user_id: int) -> MeetingParticipant:
    try:
        with db.session.begin_nested():  # the same person asking twice at once: one row
            row = MeetingParticipant(meeting_id=meeting_id, user_id=user_id, role="member", state="left")
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        row = participant(meeting_id, user_id)
    return row


def _check_room_in_schedule(user_id: int) -> None:
    limit = current_app.config["MEETINGS_GOING_MAX"]
    if upcoming_count(user_id) >= limit:
        raise FieldError("meeting", _l("You are going to %(n)d meetings already: leave one first.", n=limit))


def upcoming_count(user_id: int) -> int:
    """Upcoming meetings the user holds a place in (or waits for)."""
    return db.session.scalar(
        select(func.count())
        .select_from(MeetingParticipant)
        .join(Meeting, Meeting.id == MeetingParticipant.meeting_id)
        .where(
            MeetingParticipant.user_id == user_id,
            MeetingParticipant.state.in_(ACTIVE),
            Meeting.status == "scheduled",
            Meeting.ends_at > utcnow(),
        )  # fmt: skip
    )


def participant(meeting_id: int, user_id: int) -> MeetingParticipant | None:
    mine = (MeetingParticipant.meeting_id == meeting_id, MeetingParticipant.user_id == user_id)
    return db.session.scalar(select(MeetingParticipant).where(*mine))


def participants(meeting_id: int, state: str = "going") -> list[MeetingParticipant]:
    """In the order they came: the leader first, then by when they asked."""
    return list(
        db.session.scalars(
            select(MeetingParticipant)
            .where(MeetingParticipant.meeting_id == meeting_id, MeetingParticipant.state == state)
            .order_by((MeetingParticipant.role == "leader").desc(), MeetingParticipant.state_at, MeetingParticipant.id)
        )
    )


def people(meeting_id: int, states: tuple[str, ...]) -> list[User]:
    query = (
        select(User)
        .join(MeetingParticipant, MeetingParticipant.user_id == User.id)
        .where(MeetingParticipant.meeting_id == meeting_id, MeetingParticipant.state.in_(states))
    )
    return list(db.session.scalars(query))


def upcoming(category: str | None = None, book_id: int | None = None, limit: int = 50) -> list[Meeting]:
    """Scheduled meetings that have not ended, soonest first."""
    query = select(Meeting).where(Meeting.status == "scheduled", Meeting.ends_at > utcnow())
    if category:
        query = query.join(Book, Book.id == Meeting.book_id).join(Category).where(Category.name == category)
    if book_id:
        query = query.where(Meeting.book_id == book_id)
    return list(db.session.scalars(query.order_by(Meeting.starts_at, Meeting.id).limit(limit)))


def mine(user_id: int) -> list[tuple[Meeting, MeetingParticipant]]:
    """The user's meetings that are still ahead (or on), with their place in each."""
    rows = db.session.execute(
        select(Meeting, MeetingParticipant)
        .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
        .where(
            MeetingParticipant.user_id == user_id, MeetingParticipant.state.in_(ACTIVE), Meeting.ends_at > utcnow()
        )  # fmt: skip
        .order_by(Meeting.starts_at)
    )
    return [(meeting, row) for meeting, row in rows]


def categories() -> list[str]:
    """The book categories of upcoming meetings (for browsing by category)."""
    query = (
        select(Category.name)
        .join(Book, Book.category_id == Category.id)
        .join(Meeting, Meeting.book_id == Book.id)
        .where(Meeting.status == "scheduled", Meeting.ends_at > utcnow())
        .distinct()
        .order_by(Category.name)
    )
    return list(db.session.scalars(query))
