"""Who has met whom. People who have met may write to each other without a request and see each
other's profile card: they shared a voice match both of them kept, or already share a direct
conversation (one of them accepted the other's request). Meetings and rides add themselves here."""

from sqlalchemy import and_, select

from blueberry.extensions import db
from blueberry.models import Conversation, MatchedRoom
from blueberry.models.chat import pair_key


def have_met(a: int, b: int) -> bool:
    if a == b:
        return True
    return _kept_a_match(a, b) or _share_a_conversation(a, b)


def _kept_a_match(a: int, b: int) -> bool:
    low, high = sorted((a, b))
    kept = and_(MatchedRoom.user1_keeps, MatchedRoom.user2_keeps)
    query = select(MatchedRoom.id).where(MatchedRoom.user1_id == low, MatchedRoom.user2_id == high, kept).limit(1)
    return db.session.scalar(query) is not None


def _share_a_conversation(a: int, b: int) -> bool:
    return db.session.scalar(select(Conversation.id).where(Conversation.pair_key == pair_key(a, b))) is not None
