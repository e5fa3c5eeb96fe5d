"""Book-club meetings: opening one, joining (a place or the waitlist), leaving, cancelling, and
the lists people browse.

Taking a place is one conditional UPDATE of the meeting's `going` count (`going < capacity`):
of twenty people asking for the last place at once, exactly one row update succeeds, on SQLite
(the write lock) and PostgreSQL (the row lock) alike; the others are waitlisted.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from blueberry import clock
from blueberry.extensions import db
from blueberry.links import path_for, public_url_for
from blueberry.models import Book, Category, Conversation, Meeting, MeetingParticipant, User
from blueberry.models.meeting import MAX_CAPACITY, MIN_CAPACITY
from blueberry.services import (
    chat_system,
    meeting_chat,
    meeting_lifecycle,
    meeting_mail,
    meeting_reminders,
    meeting_waitlist,
    notifications,
)
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
    now = now or clock.now()
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
    meeting_chat.enter(meeting, leader, announce=False)
    meeting_lifecycle.schedule_moments(meeting)
    meeting_reminders.schedule(meeting)
    return meeting


def update(meeting: Meeting, leader: User, form: MeetingForm) -> None:
    """The leader changes the meeting (until its lobby opens): its timed moments follow the new
    time, more places go to the people waiting, and everyone in it is told."""
    _check_leader(meeting, leader)
    if meeting_lifecycle.phase(meeting) != "before":
        raise FieldError("meeting", _l("The meeting can no longer be changed: its room is open."))
    check(form)
    if form.capacity < meeting.going:
        raise FieldError("capacity", _l("%(n)d places are taken already.", n=meeting.going))
    meeting.book_id, meeting.title, meeting.description = (
        form.book.id,
        form.title.strip()[:100],
        form.description.strip(),
    )
    meeting.starts_at, meeting.ends_at, meeting.capacity = form.starts_at, form.ends_at, form.capacity
    meeting.online, meeting.place = form.online, "" if form.online else form.place.strip()[:200]
    meeting.updated_at = clock.now()
    db.session.get(Conversation, meeting.conversation_id).title = meeting.title
    db.session.flush()
    meeting_lifecycle.schedule_moments(meeting)
    meeting_reminders.schedule(meeting)
    meeting_waitlist.offer_freed_places(meeting)
    _tell_everyone(
        meeting, leader, lambda: _("“%(title)s” changed: have a look at the new details.", title=meeting.title)
    )


def join(meeting: Meeting, user: User) -> str:
    """Ask for a place: "going", or "waitlisted" when the meeting is full. FieldError when the
    meeting is over or cancelled, the person was removed from it, or has too many meetings."""
    now = clock.now()
    if meeting.status != "scheduled" or meeting.ends_at <= now:
        raise FieldError("meeting", _l("This meeting is not taking anyone any more."))
    mine = participant(meeting.id, user.id)
    if mine is not None and mine.state in ACTIVE:
        return mine.state
    if mine is not None and mine.state == "removed":
        raise FieldError("meeting", _l("The leader removed you from this meeting."))
    _check_room_in_schedule(user.id)
    mine = mine or _new_participant(meeting.id, user.id)
    mine.state, mine.state_at = ("going" if meeting_waitlist.take_place(meeting.id) else "waitlisted"), now
    db.session.flush()
    if mine.state == "going":
        meeting_chat.enter(meeting, user)
    return mine.state


def leave(meeting: Meeting, user: User) -> None:
    """Give up a place (or a spot on the waitlist, or an offered place); a freed place is
    offered to the next person waiting. The leader hands the lead over or cancels."""
    mine = participant(meeting.id, user.id)
    if mine is None or mine.state not in ACTIVE:
        return
    if mine.role == "leader":
        raise FieldError("meeting", _l("You lead this meeting: cancel it instead."))
    _drop(meeting, mine, "left")


def remove(meeting: Meeting, leader: User, user_id: int) -> None:
    """The leader removes someone (going or waiting); they cannot join this meeting again."""
    _check_leader(meeting, leader)
    row = participant(meeting.id, user_id)
    if row is None or row.role == "leader" or row.state not in ACTIVE:
        raise FieldError("meeting", _l("That person is not in this meeting."))
    _drop(meeting, row, "removed")
    person = db.session.get(User, user_id)
    with force_locale(person.language):
        title = _("The leader of “%(title)s” removed you from it.", title=meeting.title)
    notifications.notify(person, title, link=path_for("meeting.index"), kind="meeting")


def hand_over(meeting: Meeting, leader: User, user_id: int) -> None:
    """Make someone going the leader; the old leader stays, as a member."""
    _check_leader(meeting, leader)
    row = participant(meeting.id, user_id)
    if row is None or row.state != "going" or row.user_id == leader.id:
        raise FieldError("meeting", _l("Only someone going can lead the meeting."))
    participant(meeting.id, leader.id).role, row.role = "member", "leader"
    meeting.leader_id, meeting.updated_at = user_id, clock.now()
    db.session.flush()
    person = db.session.get(User, user_id)
    with force_locale(person.language):
        title = _("You lead “%(title)s” now.", title=meeting.title)
    notifications.notify(person, title, link=path_for("meeting.detail", meeting_id=meeting.id), kind="meeting")


def _drop(meeting: Meeting, row: MeetingParticipant, state: str) -> None:
    """Take `row` out of the meeting (`left` or `removed`); a place it held goes to the next
    person waiting."""
    if row.offer_expires_at is not None:  # waitlisted, holding an offered place: it passes on
        meeting_waitlist.decline(meeting, row)
        row.state = state
        db.session.flush()
        return
    was_going = row.state == "going"
    row.state, row.state_at = state, clock.now()
    db.session.flush()
    if was_going:
        meeting_chat.leave(meeting, db.session.get(User, row.user_id), state)
        meeting_waitlist.release_place(meeting.id)
        db.session.refresh(meeting)
        meeting_waitlist.offer_freed_places(meeting)


def _check_leader(meeting: Meeting, user: User) -> None:
    if meeting.leader_id != user.id:
        raise FieldError("meeting", _l("Only the leader can do that."))


def cancel(meeting: Meeting, user: User) -> bool:
    """The leader calls it off; everyone going or waiting is told. False if it was not scheduled."""
    if meeting.leader_id != user.id:
        raise FieldError("meeting", _l("Only the leader can cancel the meeting."))
    if meeting.status != "scheduled":
        return False
    meeting.status, meeting.updated_at = "cancelled", clock.now()
    db.session.flush()
    meeting_lifecycle.unschedule_moments(meeting)
    chat_system.post(meeting.conversation_id, "cancelled")
    meeting_lifecycle.announce(meeting)
    _tell_everyone(meeting, user, lambda: _("“%(title)s” was cancelled.", title=meeting.title))
    return True


def _tell_everyone(meeting: Meeting, but: User, words) -> None:
    """A notification to everyone going or waiting (but the one who acted, and those who turned
    meeting changes off), in their language; by email too for those who chose it and are away."""
    link = path_for("meeting.detail", meeting_id=meeting.id)
    told = [person for person in people(meeting.id, ACTIVE) if person.id != but.id and person.meeting_changes != "off"]
    for person in told:
        with force_locale(person.language):
            title = words()
        notifications.notify(person, title, link=link, kind="meeting")
    for person in meeting_mail.to_mail(told, "meeting_changes"):
        with force_locale(person.language):
            title = words()
        page = public_url_for("meeting.detail", meeting_id=meeting.id)
        meeting_mail.mail(person, "meeting_changes", title, [title, page])


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
            Meeting.ends_at > clock.now(),
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


def upcoming(
    category: str | None = None, book_id: int | None = None, limit: int = 50, book_ids: list[int] | None = None
) -> list[Meeting]:
    """Scheduled meetings that have not ended, soonest first."""
    query = select(Meeting).where(Meeting.status == "scheduled", Meeting.ends_at > clock.now())
    if category:
        query = query.join(Book, Book.id == Meeting.book_id).join(Category).where(Category.name == category)
    if book_id:
        query = query.where(Meeting.book_id == book_id)
    if book_ids is not None:
        query = query.where(Meeting.book_id.in_(book_ids))
    return list(db.session.scalars(query.order_by(Meeting.starts_at, Meeting.id).limit(limit)))


def mine(user_id: int) -> list[tuple[Meeting, MeetingParticipant]]:
    """The user's meetings that are still ahead (or on), with their place in each."""
    rows = db.session.execute(
        select(Meeting, MeetingParticipant)
        .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
        .where(
            MeetingParticipant.user_id == user_id, MeetingParticipant.state.in_(ACTIVE), Meeting.ends_at > clock.now()
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
        .where(Meeting.status == "scheduled", Meeting.ends_at > clock.now())
        .distinct()
        .order_by(Category.name)
    )
    return list(db.session.scalars(query))
