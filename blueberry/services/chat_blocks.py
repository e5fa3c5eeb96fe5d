"""What a block does to chat. Between the two people of a direct conversation it closes the
conversation to both (the history stays). In a group it refuses nothing: it hides the blocked
person's messages from the blocker only — their page, replay, live window (hidden_senders), toasts
and counts (services.chat)."""

import uuid

from sqlalchemy import bindparam, select

from blueberry.extensions import db
from blueberry.models import Block, Conversation, ConversationMember
from blueberry.services.chat import Send


class SendBlocked(Exception):
    """A send that was not stored: one person of the direct conversation blocked the other."""


def sends_blocked(sends: list[Send]) -> list[bool]:
    """Per send: is it into a direct conversation whose two people block each other (either
    way)? Neither may post there any more; one query for a whole batch."""
    ids = list({send.conversation_id for send in sends})
    closed = set(db.session.connection().execute(_BLOCKED_DIRECT, {"ids": ids}).scalars()) if ids else set()
    return [send.conversation_id in closed for send in sends]


def send_blocked(conversation_id: uuid.UUID, sender_id: int) -> bool:
    return sends_blocked([Send(conversation_id, sender_id, "", "")])[0]


_blocker, _blocked = ConversationMember.__table__.alias("blocker"), ConversationMember.__table__.alias("blocked")
_BLOCKED_DIRECT = (  # direct conversations, among these, with a block between their members
    select(_blocker.c.conversation_id)
    .join(Conversation, (Conversation.id == _blocker.c.conversation_id) & (Conversation.kind == "direct"))
    .join(_blocked, _blocked.c.conversation_id == _blocker.c.conversation_id)
    .join(Block, (Block.blocker_id == _blocker.c.user_id) & (Block.blocked_id == _blocked.c.user_id))
    .where(_blocker.c.conversation_id.in_(bindparam("ids", expanding=True)))
)


def blocked_by_other(conversation_id: uuid.UUID, user_id: int) -> bool:
    """In a direct conversation: did the other person block this user?"""
    others = select(ConversationMember.user_id).where(
        ConversationMember.conversation_id == conversation_id, ConversationMember.user_id != user_id
    )
    query = (
        select(Block.id)
        .join(Conversation, (Conversation.id == conversation_id) & (Conversation.kind == "direct"))
        .where(Block.blocked_id == user_id, Block.blocker_id.in_(others))
    )
    return db.session.scalar(query.limit(1)) is not None


def hidden_senders(conversation_id: uuid.UUID, user_id: int) -> frozenset[int]:
    """Whose messages this user does not see in this conversation: in a group, the people they
    blocked; in a direct conversation nobody (the block closed it, the history stays)."""
    query = (
        select(Block.blocked_id)
        .join(Conversation, (Conversation.id == conversation_id) & (Conversation.kind != "direct"))
        .where(Block.blocker_id == user_id)
    )
    return frozenset(db.session.scalars(query))
