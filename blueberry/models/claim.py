"""Claims: "this was done for this person", once. A timed job and a sweep that both get to a
reminder race for one row, unique per (kind, subject, user): whoever inserts it sends, in the
same transaction as what it sends, and the other one sends nothing.

Meeting reminders use it (`meeting.reminder`, subject `meeting:<id>`); ride departures will too.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from blueberry.extensions import db
from blueberry.models.base import UTCDateTime

OUTCOMES = ("sent", "missed", "skipped")


class Claim(db.Model):
    __tablename__ = "claim"
    __table_args__ = (
        UniqueConstraint("kind", "subject", "user_id", name="uq_claim_kind_subject_user"),
        CheckConstraint(f"outcome IN {OUTCOMES}", name="outcome_known"),
        Index("ix_claim_kind_done_at", "kind", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # sent; missed (its time passed while nothing ran, and it was no longer useful); skipped (the
    # person came too late for it, e.g. joined a meeting after its reminder time).
    outcome: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lateness_ms: Mapped[int] = mapped_column(default=0, server_default="0")  # done − due
