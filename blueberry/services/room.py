"""The durable records of a match: who was matched with whom (ever), and their voice room."""

from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from blueberry.extensions import db
from blueberry.models import Conversation, MatchedRoom, MatchHistory, User
from blueberry.models.base import utcnow
from blueberry.realtime.events import (
    MATCH_CONNECTED,
    ROOM_ENDED,
    ROOM_KEEP,
    ROOM_KEPT,
    publish_on_commit,
    room_topic,
    seeker_topic,
)
from blueberry.services import notifications, safety
from blueberry.services.conversation import pair_key, start_direct
from blueberry.services.errors import FieldError


class AlreadyMatched(Exception):
    """These two were matched before: the same pair is never matched twice."""


def ordered_pair(a: int, b: int) -> tuple[int, int]:
    """The pair as stored: smaller id first (one row per pair, whoever joined first)."""
    if a == b:
        raise ValueError("a user cannot be matched with themself")
    return (a, b) if a < b else (b, a)


def have_matched(a: int, b: int) -> bool:
    user1, user2 = ordered_pair(a, b)
    query = select(MatchHistory.id).where(MatchHistory.user1_id == user1, MatchHistory.user2_id == user2)
    return db.session.scalar(query) is not None


def record_match(a: int, b: int) -> MatchedRoom:
    """Write the match history and open the pair's voice room, together; AlreadyMatched if not new."""
    user1, user2 = ordered_pair(a, b)
    try:
        with db.session.begin_nested():
            db.session.add(MatchHistory(user1_id=user1, user2_id=user2))
    except IntegrityError as error:
        raise AlreadyMatched(f"{user1} and {user2} were matched before") from error
    room = MatchedRoom(user1_id=user1, user2_id=user2)
    db.session.add(room)
    db.session.flush()
    return room


def open_matched_room(a: int, b: int) -> MatchedRoom:
    """Record the match and open its room; both users hear `match.connected` once committed."""
    room = record_match(a, b)
    data = {"room_id": room.id, "room_url": url_for("rooms.room", room_id=room.id)}
    for user_id in (a, b):
        publish_on_commit(seeker_topic(user_id), MATCH_CONNECTED, data)
    return room


def avoided_ids(user_id: int) -> set[int]:
    """Everyone `user_id` must never be offered: past matches and blocks either way."""
    rows = db.session.execute(
        select(MatchHistory.user1_id, MatchHistory.user2_id).where(
            or_(MatchHistory.user1_id == user_id, MatchHistory.user2_id == user_id)
        )
    )
    return {b if a == user_id else a for a, b in rows} | safety.hidden_user_ids(user_id)


def end_room(room: MatchedRoom, reason: str) -> bool:
    """End an open room (kept for history); False if it had already ended."""
    if not room.is_open:
        return False
    room.ended_at, room.end_reason = utcnow(), reason[:20]
    db.session.flush()
    return True


def start_room(room: MatchedRoom) -> bool:
    """The call began (both are in the room for the first time); False if it had already."""
    if room.started_at is not None:
        return False
    room.started_at = utcnow()
    db.session.flush()
    return True


def leave_room(room: MatchedRoom, user_id: int, reason: str = "left") -> bool:
    """End the room for both because `user_id` left (or blocked); both hear `room.ended`."""
    if not end_room(room, reason):
        return False
    publish_on_commit(room_topic(room.id), ROOM_ENDED, {"reason": reason, "by": user_id})
    return True


def open_rooms_before(cutoff) -> list[MatchedRoom]:
    """Open rooms matched before `cutoff` (candidates for ending when nobody is in them)."""
    query = select(MatchedRoom).where(MatchedRoom.ended_at.is_(None), MatchedRoom.matched_at < cutoff)
    return list(db.session.scalars(query))


def call_seconds(room: MatchedRoom, now: datetime | None = None) -> int | None:
    """How long the two talked (so far, while open); None if they were never both in the room."""
    if room.started_at is None:
        return None
    until = room.ended_at or now or utcnow()
    return max(0, int((until - room.started_at).total_seconds()))


def keep_deadline(room: MatchedRoom) -> datetime | None:
    """Until when "keep in touch" can still be pressed: a while after the call; None while open."""
    if room.ended_at is None:
        return None
    return room.ended_at + timedelta(seconds=current_app.config["KEEP_IN_TOUCH_AFTER_S"])


def keep_refusal(room: MatchedRoom, now: datetime | None = None) -> str | None:
    """Why keeping in touch is no longer possible from this room (a block, or too late), or None."""
    if safety.blocked_between(room.user1_id, room.user2_id):
        return _("You can no longer keep in touch with this person.")
    deadline = keep_deadline(room)
    if deadline is not None and (now or utcnow()) > deadline and not kept_by_both(room):
        return _("It is too late to keep in touch from this call.")
    return None


def kept_by_both(room: MatchedRoom) -> bool:
    return room.user1_keeps and room.user2_keeps


def keep_in_touch(room: MatchedRoom, user_id: int):
    """`user_id` would like to keep in touch; when both do, their conversation (else None).
    FieldError once either of them blocked the other or the time after the call is over (the
    press is not kept either)."""
    refusal = keep_refusal(room)
    if refusal:
        raise FieldError("room", refusal)
    if room.user1_id == user_id:
        room.user1_keeps = True
    else:
        room.user2_keeps = True
    db.session.flush()
    if not (room.user1_keeps and room.user2_keeps):
        publish_on_commit(room_topic(room.id), ROOM_KEEP, {"from": user_id})
        return None
    conversation = start_direct(room.user1_id, room.user2_id, origin="match")
    url = url_for("chat.conversation", conversation_id=conversation.id)
    publish_on_commit(room_topic(room.id), ROOM_KEPT, {"conversation_url": url})
    if not room.is_open:  # the first to press has left the room: tell them wherever they are
        _tell_kept(other=room.user2_id if room.user1_id == user_id else room.user1_id, by=user_id, link=url)
    return conversation


def _tell_kept(other: int, by: int, link: str) -> None:
    person, presser = db.session.get(User, other), db.session.get(User, by)
    with force_locale(person.language):
        title = _("%(name)s would like to keep in touch too. Say hi!", name=presser.display_name)
    notifications.notify(person, title, link=link, kind="match")


def kept_conversation(room: MatchedRoom):
    """The conversation both members asked for from this room, if they both did."""
    if not kept_by_both(room):
        return None
    return db.session.scalar(
        select(Conversation).where(Conversation.pair_key == pair_key(room.user1_id, room.user2_id))
    )
