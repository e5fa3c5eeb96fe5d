"""Blocks and reports. A block hides the two users from each other everywhere in Blueberry (in a
group conversation, the blocked person from the blocker)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from blueberry.extensions import db
from blueberry.models import Block, Conversation, ConversationMember, Report, User
from blueberry.models.safety import REPORT_CONTEXTS, REPORT_REASONS
from blueberry.realtime.events import CONVERSATION_BLOCKED, conversation_topic, publish_on_commit
from blueberry.services.errors import FieldError

MAX_REPORT_TEXT = 2000


def block(blocker_id: int, blocked_id: int) -> None:
    """Block someone (idempotent); FieldError for yourself."""
    if blocker_id == blocked_id:
        raise FieldError("user", _l("You cannot block yourself."))
    if is_blocking(blocker_id, blocked_id):
        return
    try:
        with db.session.begin_nested():  # two tabs blocking at once: the second is a no-op
            db.session.add(Block(blocker_id=blocker_id, blocked_id=blocked_id))
    except IntegrityError:
        return
    _tell_their_conversations(blocker_id, blocked_id)


def _tell_their_conversations(blocker_id: int, blocked_id: int) -> None:
    """Every conversation the two share hears of the block after the commit: their direct one
    closes to the blocked person, a group hides the blocked person from the blocker's windows."""
    mine = select(ConversationMember.conversation_id).where(ConversationMember.user_id == blocker_id)
    query = (
        select(Conversation.id, Conversation.kind)
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(ConversationMember.user_id == blocked_id, Conversation.id.in_(mine))
    )
    for conversation_id, kind in db.session.execute(query):
        data = {"blocker_id": blocker_id, "blocked_id": blocked_id, "direct": kind == "direct"}
        publish_on_commit(conversation_topic(conversation_id), CONVERSATION_BLOCKED, data)


def unblock(blocker_id: int, blocked_id: int) -> None:
    db.session.execute(delete(Block).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id))


def is_blocking(blocker_id: int, blocked_id: int) -> bool:
    query = select(Block.id).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
    return db.session.scalar(query) is not None


def blocked_between(a: int, b: int) -> bool:
    """True when either of the two blocked the other."""
    return is_blocking(a, b) or is_blocking(b, a)


def blocked_people(blocker_id: int) -> list[User]:
    """The people `blocker_id` blocked, most recent first."""
    query = (
        select(User).join(Block, Block.blocked_id == User.id).where(Block.blocker_id == blocker_id)
        .order_by(Block.id.desc())
    )  # fmt: skip
    return list(db.session.scalars(query))


def blocked_ids(blocker_id: int) -> set[int]:
    """The ids of the people `blocker_id` blocked."""
    return set(db.session.scalars(select(Block.blocked_id).where(Block.blocker_id == blocker_id)))


def hidden_user_ids(user_id: int) -> set[int]:
    """Everyone `user_id` must not see or be offered: those they blocked and those who blocked them."""
    rows = db.session.execute(
        select(Block.blocker_id, Block.blocked_id).where(or_(Block.blocker_id == user_id, Block.blocked_id == user_id))
    )
    return {blocked if blocker == user_id else blocker for blocker, blocked in rows}


def report(
    reporter_id: int, reported_id: int, reason: str, *, text: str = "", context: str = "profile", room_id=None
) -> Report:
    """File a report; FieldError for an unknown reason, yourself, or an over-long text."""
    if reason not in REPORT_REASONS:
        raise FieldError("reason", _l("Choose a reason from the list."))
    if reporter_id == reported_id:
        raise FieldError("reason", _l("You cannot report yourself."))
    if len(text or "") > MAX_REPORT_TEXT:
        raise FieldError("text", _l("Keep it under %(n)d characters.", n=MAX_REPORT_TEXT))
    entry = Report(
        reporter_id=reporter_id,
        reported_id=reported_id,
        reason=reason,
        text=(text or "").strip(),
        context=context if context in REPORT_CONTEXTS else "profile",
        room_id=room_id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry
