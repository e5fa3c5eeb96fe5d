"""The durable records of a match: who was matched with whom (ever), and their voice room."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blueberry.extensions import db
from blueberry.models import MatchedRoom, MatchHistory
from blueberry.models.base import utcnow


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


def end_room(room: MatchedRoom, reason: str) -> bool:
    """End an open room (kept for history); False if it had already ended."""
    if not room.is_open:
        return False
    room.ended_at, room.end_reason = utcnow(), reason[:20]
    db.session.flush()
    return True
