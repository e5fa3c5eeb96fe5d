"""The durable records of a match: who was matched with whom (ever), and their voice room."""

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from blueberry.extensions import db
from blueberry.models import Conversation, MatchedRoom, MatchHistory
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
from blueberry.services import safety
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


def keep_in_touch(room: MatchedRoom, user_id: int):
    """`user_id` would like to keep in touch; when both do, their conversation (else None).
    FieldError once either of them blocked the other (the press is not kept either)."""
    if safety.blocked_between(room.user1_id, room.user2_id):
        raise FieldError("room", _l("You can no longer keep in touch with this person."))
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
    return conversation


def kept_conversation(room: MatchedRoom):
    """The conversation both members asked for from this room, if they both did."""
    if not (room.user1_keeps and room.user2_keeps):
        return None
    return db.session.scalar(
        select(Conversation).where(Conversation.pair_key == pair_key(room.user1_id, room.user2_id))
    )
