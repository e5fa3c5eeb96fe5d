"""Message requests: the one message someone who has not met you may send, until you accept it."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from blueberry.extensions import db
from blueberry.models.base import UTCDateTime, utcnow

# `withheld`: nobody has the name, the recipient takes no requests, or a block stands between the
# two. The sender sees it exactly as a pending one; the recipient never sees it.
STATES = ("pending", "withheld", "accepted", "declined")


class MessageRequest(db.Model):
    __tablename__ = "message_request"
    __table_args__ = (
        CheckConstraint(f"state IN {STATES}", name="state_known"),
        Index("ix_message_request_sender_id_created_at", "sender_id", "created_at"),
        Index("ix_message_request_recipient_id_state", "recipient_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # The name as the sender wrote it (canonical): their list and the 30-day rule go by it, so a
    # name nobody has behaves like any other.
    recipient_name: Mapped[str] = mapped_column(String(30))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
