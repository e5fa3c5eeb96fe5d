"""Chat: conversations, their members (with how far each has received and read), messages.

A conversation has any number of members, so meetings and rides can reuse it; only a `direct`
one is limited to a unique pair.
"""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueberry.extensions import db
from blueberry.models.base import UTCDateTime, utcnow

KINDS = ("direct", "meeting", "ride")
ORIGINS = ("match", "meeting", "ride", "profile")
MESSAGE_TYPES = ("text", "image", "file", "system")


def pair_key(a: int, b: int) -> str:
    """A direct conversation's key: the same two people share one, whoever started it."""
    low, high = sorted((a, b))
    return f"{low}:{high}"


class Conversation(db.Model):
    __tablename__ = "conversation"
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS}", name="kind_known"),
        CheckConstraint(f"origin IN {ORIGINS}", name="origin_known"),
        Index("ix_conversation_updated_at", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(10), default="direct", server_default="direct")
    origin: Mapped[str] = mapped_column(String(10), default="profile", server_default="profile")
    # `<smaller user id>:<larger>` for a direct conversation: the same two people share one.
    pair_key: Mapped[str | None] = mapped_column(String(41), unique=True)
    # A group's name (a meeting's title); a direct conversation is named by the other person.
    title: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # The sequence number of the newest message; the next one takes last_seq + 1.
    last_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    # The one message pinned above a group's messages (a meeting's leader pins it), by sequence.
    pinned_seq: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationMember(db.Model):
    """A person in a conversation, with their own settings and how far they have got.

    Receipts are two positions, not a row per message: a window receives messages in sequence
    order, so everything up to `delivered_seq` has reached one of this member's windows, and
    everything up to `last_read_seq` has been seen. A message from someone else is `read` for
    this member at or below `last_read_seq`, `delivered` at or below either position, else `sent`.
    """

    __tablename__ = "conversation_member"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id", name="uq_conversation_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when they left a group: they keep the history up to then, read nothing newer, send nothing.
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last message they may read after leaving (their own "left", by sequence).
    left_seq: Mapped[int | None]
    delivered_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    last_read_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    # Hides my read receipts from the others, and theirs from me.
    hide_read_receipts: Mapped[bool] = mapped_column(default=False, server_default=false())


class Message(db.Model):
    """A message in a conversation's sequence. A `system` one (someone joined or left, a meeting
    started or ended) has no sender: its content is JSON (`services/chat_system.py`), rendered in
    each reader's language, and it never counts as unread."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_message_conversation_seq"),
        # A retried send carries the same client id: it lands once (system messages have no sender).
        UniqueConstraint("sender_id", "client_id", name="uq_message_sender_client_id"),
        CheckConstraint(f"type IN {MESSAGE_TYPES}", name="type_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    seq: Mapped[int]
    client_id: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text, default="", server_default="")
    type: Mapped[str] = mapped_column(String(6), default="text", server_default="text")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_deleted: Mapped[bool] = mapped_column(default=False, server_default=false())

    # Loaded in one query for a page of messages.
    attachment: Mapped["Attachment | None"] = relationship(lazy="selectin", uselist=False)


class Attachment(db.Model):
    """A stored image or file of a message: kept under a generated name, outside `static/`."""

    __tablename__ = "attachment"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), unique=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64))
    thumb_name: Mapped[str] = mapped_column(String(64), default="", server_default="")
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
