"""Random matching: preferences, and the durable records of a match (history and voice room).

The live engine (queue, presence, offers in Redis) comes with the matching feature.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blueberry.extensions import db
from blueberry.models import MatchedRoom, MatchHistory, MatchSetting
from blueberry.models.base import utcnow
from blueberry.services.errors import FieldError


def update_match_setting(
    setting: MatchSetting, age_min: int, age_max: int, radius_km: int, preferred_gender: str
) -> None:
    """Save match preferences; FieldError when the age range is upside down."""
    check_age_range(age_min, age_max)
    setting.age_min, setting.age_max = age_min, age_max
    setting.radius_km, setting.preferred_gender = radius_km, preferred_gender
    db.session.flush()


def check_age_range(age_min: int, age_max: int) -> None:
    """FieldError unless age_min ≤ age_max."""
    if age_min > age_max:
        raise FieldError("age_max", _l("The oldest age must not be below the youngest."))


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
