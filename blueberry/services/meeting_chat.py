"""A meeting's conversation: who is in it, and when it takes messages.

Its members follow the people going: joining (or taking an offered place) adds them, leaving
or being removed marks them `left_at` (they keep what was said until then and get nothing
newer), in the same transaction as the change of place. It takes messages only while the
meeting is live, by the clock: a send before the start or after the end is refused with its
reason, however late a timed job runs.
"""

import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, tuple_

from blueberry import clock
from blueberry.extensions import db
from blueberry.models import Conversation, ConversationMember, Meeting, Message, User
from blueberry.realtime.events import MESSAGE_PINNED, conversation_topic, publish_on_commit
from blueberry.services import chat, chat_system, meeting_lifecycle
from blueberry.services.errors import FieldError

NOT_STARTED, ENDED, LEFT = "meeting_not_started", "meeting_ended", "not_a_member"


class MeetingSendRefused(Exception):
    """A send to a meeting's conversation that is not taken now; `code` says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def enter(meeting: Meeting, user: User, announce: bool = True) -> None:
    """`user` is going: a member again, and (unless they opened the meeting) the room is told."""
    member = _member(meeting.conversation_id, user.id)
    if member is None:
        db.session.add(ConversationMember(conversation_id=meeting.conversation_id, user_id=user.id))
    else:
        member.left_at, member.left_seq = None, None
    db.session.flush()
    if announce:
        chat_system.post(meeting.conversation_id, "joined", user)


def leave(meeting: Meeting, user: User, why: str = "left") -> None:
    """`user` is no longer going (`left`, or `removed`): the room is told, and they keep what
    was said up to that notice."""
    member = _member(meeting.conversation_id, user.id)
    if member is not None and member.left_at is None:
        notice = chat_system.post(meeting.conversation_id, why, user)
        member.left_at, member.left_seq = clock.now(), notice["seq"]
        db.session.flush()


def meeting_of(conversation_id: uuid.UUID) -> Meeting | None:
    """The meeting that owns this conversation, if a meeting does."""
    return db.session.scalar(select(Meeting).where(Meeting.conversation_id == conversation_id))


def _member(conversation_id: uuid.UUID, user_id: int) -> ConversationMember | None:
    query = select(ConversationMember).where(
        ConversationMember.conversation_id == conversation_id, ConversationMember.user_id == user_id
    )
    return db.session.scalar(query)


def refusals(sends: list) -> list[str | None]:
    """For each send (conversation_id, sender_id), why a meeting's conversation refuses it now,
    or None: two queries for a whole batch, none when it holds no meeting conversation."""
    ids = {send.conversation_id for send in sends}
    meetings = {
        m.conversation_id: m for m in db.session.scalars(select(Meeting).where(Meeting.conversation_id.in_(ids)))
    }
    if not meetings:
        return [None] * len(sends)
    pairs = {(send.conversation_id, send.sender_id) for send in sends if send.conversation_id in meetings}
    gone = set(
        db.session.execute(
            select(ConversationMember.conversation_id, ConversationMember.user_id).where(
                tuple_(ConversationMember.conversation_id, ConversationMember.user_id).in_(pairs),
                ConversationMember.left_at.is_not(None),
            )
        ).all()
    )
    now = clock.now()
    return [_refusal(meetings.get(send.conversation_id), (send.conversation_id, send.sender_id) in gone, now)
            for send in sends]  # fmt: skip


def _refusal(meeting: Meeting | None, left: bool, now) -> str | None:
    if meeting is None:
        return None
    if left:
        return LEFT
    current = meeting_lifecycle.phase(meeting, now)
    if current in ("before", "lobby"):
        return NOT_STARTED
    return ENDED if current != "live" else None


def pinned_message(conversation: Conversation) -> dict | None:
    """The message pinned above a group's messages (none once it was deleted)."""
    if not conversation.pinned_seq:
        return None
    query = select(Message).where(Message.conversation_id == conversation.id, Message.seq == conversation.pinned_seq)
    message = db.session.scalar(query)
    return chat.message_data(message) if message is not None and not message.is_deleted else None


def pin(meeting: Meeting, leader: User, seq: int | None) -> dict | None:
    """The leader pins one message above the others (None unpins); everyone in the room sees it.
    FieldError for anyone else, for a cancelled meeting, or for no such message."""
    if meeting.leader_id != leader.id or meeting.status == "cancelled":
        raise FieldError("seq", _l("Only the leader can pin a message."))
    conversation = db.session.get(Conversation, meeting.conversation_id)
    found = None
    if seq is not None:
        found = db.session.scalar(select(Message).where(Message.conversation_id == conversation.id, Message.seq == seq))
        if found is None or found.is_deleted or found.type == "system":
            raise FieldError("seq", _l("That message cannot be pinned."))
    conversation.pinned_seq = seq
    db.session.flush()
    data = chat.message_data(found) if found is not None else None
    publish_on_commit(conversation_topic(conversation.id), MESSAGE_PINNED, {"message": data})
    return data
