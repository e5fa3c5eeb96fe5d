"""Book recommendations: a reader's taste profile (the quiz answers) and the books each run
recommended, with what the reader said of them. The run itself is an `AiRun` (models/run.py)."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueberry.extensions import db
from blueberry.models.base import UTCDateTime, utcnow
from blueberry.models.book import Book

FEEDBACK = ("more", "no", "read")  # more like this, not for me, already read


class TasteProfile(db.Model):
    """One reader's quiz answers, kept as they go: leaving at question 4 and coming back
    starts at question 4 with the earlier answers in place."""

    __tablename__ = "taste_profile"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # question key -> answer
    step: Mapped[int] = mapped_column(default=1, server_default="1")  # where the quiz resumes
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the reader agreed that their answers go to the outside AI service (once).
    ai_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Recommendation(db.Model):
    __tablename__ = "recommendation"
    __table_args__ = (
        UniqueConstraint("run_id", "book_id", name="uq_recommendation_run_book"),
        CheckConstraint(f"feedback IS NULL OR feedback IN {FEEDBACK}", name="feedback_known"),
        Index("ix_recommendation_user_id_book_id", "user_id", "book_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ai_run.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    book_id: Mapped[int] = mapped_column(ForeignKey("book.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int]
    comment: Mapped[str] = mapped_column(Text)
    feedback: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    book: Mapped[Book] = relationship()
