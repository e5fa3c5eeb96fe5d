"""Safety: blocks and reports between users (used by matching, rooms, chats, rides)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from blueberry.extensions import db
from blueberry.models.base import UTCDateTime, utcnow

REPORT_REASONS = ("harassment", "spam", "inappropriate", "underage", "other")
REPORT_CONTEXTS = ("offer", "room", "profile", "chat", "request")


class Block(db.Model):
    """`blocker` never sees `blocked` again, and neither sees the other anywhere in Blueberry;
    in a group conversation the blocker stops seeing the blocked person's messages, not the reverse."""

    __tablename__ = "block"
    __table_args__ = (
        UniqueConstraint("blocker_id", "blocked_id", name="uq_block_pair"),
        CheckConstraint("blocker_id <> blocked_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    blocker_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    blocked_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(db.Model):
    """A user's report about another, for operators to review."""

    __tablename__ = "report"
    __table_args__ = (
        CheckConstraint("reporter_id <> reported_id", name="not_self"),
        CheckConstraint(f"reason IN {REPORT_REASONS}", name="reason_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    reported_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Where it was reported from, and the room if it happened in one.
    context: Mapped[str] = mapped_column(String(20), default="profile", server_default="profile")
    room_id: Mapped[int | None] = mapped_column(ForeignKey("matched_room.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
