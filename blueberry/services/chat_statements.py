"""The chat send path's prebuilt Core statements: no unit of work, and compiled once."""

from sqlalchemy import Integer, Uuid, any_, bindparam, exists, func, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from blueberry.models import Block, Conversation, ConversationMember, Message, User
from blueberry.models.base import UTCDateTime

_conversation, _message, _member, _user = (
    Conversation.__table__, Message.__table__, ConversationMember.__table__, User.__table__,
)  # fmt: skip
MEMBERS = (
    select(
        _member.c.conversation_id,
        _conversation.c.kind,
        _member.c.user_id,
        _user.c.display_name,
        _user.c.username,
        _user.c.photo_name,
    )
    .join(_user, _user.c.id == _member.c.user_id)
    .join(_conversation, _conversation.c.id == _member.c.conversation_id)
    .where(_member.c.conversation_id.in_(bindparam("ids", expanding=True)), _member.c.left_at.is_(None))
)
ADD_SEQ = (  # the row lock orders concurrent senders (PostgreSQL; SQLite writes serially)
    update(_conversation)
    .where(_conversation.c.id == bindparam("cid"))
    .values(last_seq=_conversation.c.last_seq + bindparam("n"), updated_at=bindparam("now"))
    .returning(_conversation.c.last_seq)
)
LOCK_CONVERSATIONS = (  # PostgreSQL: `= ANY(array)` keeps one statement text for any batch size
    select(_conversation.c.id)
    .where(_conversation.c.id == any_(bindparam("ids", type_=postgresql.ARRAY(Uuid))))
    .order_by(_conversation.c.id)
    .with_for_update()
)
ADD_SEQS = text(
    "UPDATE conversation SET last_seq = conversation.last_seq + wanted.n, updated_at = :now"
    " FROM unnest(:ids, :ns) AS wanted(id, n) WHERE conversation.id = wanted.id"
    " RETURNING conversation.id, conversation.last_seq"
).bindparams(
    bindparam("ids", type_=postgresql.ARRAY(Uuid)), bindparam("ns", type_=postgresql.ARRAY(Integer)),
    bindparam("now", type_=UTCDateTime),
).columns(id=Uuid, last_seq=Integer)  # fmt: skip
INSERT_MESSAGES = {
    name: dialect_insert(_message)
    .on_conflict_do_nothing(index_elements=["sender_id", "client_id"])
    .returning(_message.c.id)
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}
_block = Block.__table__
UNREAD = (  # per user and conversation: messages from others after what the user has read…
    select(_member.c.user_id, _message.c.conversation_id, func.count())
    .join(_message, _message.c.conversation_id == _member.c.conversation_id)
    .join(_conversation, _conversation.c.id == _member.c.conversation_id)
    .where(_member.c.user_id.in_(bindparam("ids", expanding=True)), _message.c.sender_id != _member.c.user_id)
    .where(_message.c.seq > _member.c.last_read_seq, _message.c.is_deleted.is_(False))
    .where(_message.c.type != "system")  # what happened in a group is not a message to catch up on
    .where(_member.c.left_at.is_(None))  # …in conversations they have not left
    # …not from someone the user blocked, nor, in a direct conversation, from someone who blocked them
    .where(~exists().where(_block.c.blocker_id == _member.c.user_id, _block.c.blocked_id == _message.c.sender_id))
    .where(
        (_conversation.c.kind != "direct")
        | ~exists().where(_block.c.blocker_id == _message.c.sender_id, _block.c.blocked_id == _member.c.user_id)
    )
    .group_by(_member.c.user_id, _message.c.conversation_id)
)
