"""Book-club meetings: a leader, a book, a time, a place, and the people going.

A meeting owns its chat: `conversation_id` points at a Conversation of kind `meeting` whose
members follow the going participants. `going` counts the places taken (by people going, and
by a waitlisted person holding an offer for a freed place), so that taking one is a single
conditional UPDATE (`going < capacity`), which no two people can both win.
"""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueberry.extensions import db
from blueberry.models.base import UTCDateTime, utcnow
from blueberry.models.book import Book
from blueberry.models.user import User

STATUSES = ("scheduled", "cancelled", "finished")
ROLES = ("leader", "member")
STATES = ("going", "waitlisted", "left", "removed")
MIN_CAPACITY, MAX_CAPACITY = 2, 50


class Meeting(db.Model):
    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status_known"),
        CheckConstraint(f"capacity >= {MIN_CAPACITY} AND capacity <= {MAX_CAPACITY}", name="capacity_range"),
        CheckConstraint("going >= 0 AND going <= capacity", name="going_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_meeting_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("book.id"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int]
    going: Mapped[int] = mapped_column(default=0, server_default="0")
    online: Mapped[bool] = mapped_column(default=False, server_default=false())
    place: Mapped[str] = mapped_column(String(200), default="", server_default="")  # an address, when not online
    status: Mapped[str] = mapped_column(String(10), default="scheduled", server_default="scheduled")
    # The last moment of its life it reached ("", lobby, start, ending, end): each is handled once.
    moment: Mapped[str] = mapped_column(String(10), default="", server_default="")
    conversation_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("conversation.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    book: Mapped[Book] = relationship()
    leader: Mapped[User] = relationship()


class MeetingParticipant(db.Model):
    """Someone in a meeting: its leader or a member; going, waiting for a place, gone or removed."""

    __tablename__ = "meeting_participant"
    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id", name="uq_meeting_participant"),
        CheckConstraint(f"role IN {ROLES}", name="role_known"),
        CheckConstraint(f"state IN {STATES}", name="state_known"),
        Index("ix_meeting_participant_user_id_state", "user_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10), default="member", server_default="member")
    state: Mapped[str] = mapped_column(String(10), default="going", server_default="going")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When they last asked for a place: the waitlist is served in this order.
    state_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A waitlisted person offered a freed place holds it until then (accept, decline, or it lapses).
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
