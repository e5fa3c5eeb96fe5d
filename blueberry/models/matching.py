"""Random-matching data that must last: preferences, who was matched with whom, voice rooms."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueberry.extensions import db
from blueberry.models.base import UTCDateTime, utcnow
from blueberry.models.user import User


class MatchSetting(db.Model):
    """Who a user wants to be matched with; created with the user."""

    __tablename__ = "match_setting"
    __table_args__ = (
        CheckConstraint("age_min >= 18 AND age_max <= 120", name="age_bounds"),
        CheckConstraint("age_min <= age_max", name="age_order"),
        CheckConstraint("radius_km >= 1", name="radius_positive"),
        CheckConstraint("preferred_gender IN ('male', 'female', 'any')", name="gender_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    age_min: Mapped[int] = mapped_column(default=18, server_default="18")
    age_max: Mapped[int] = mapped_column(default=99, server_default="99")
    radius_km: Mapped[int] = mapped_column(default=1, server_default="1")
    preferred_gender: Mapped[str] = mapped_column(String(6), default="any", server_default="any")

    user: Mapped[User] = relationship(back_populates="match_setting")


class MatchHistory(db.Model):
    """Two people who were matched. The pair is stored ordered and is unique:
    the same two people are never matched twice."""

    __tablename__ = "match_history"
    __table_args__ = (
        UniqueConstraint("user1_id", "user2_id", name="uq_match_history_pair"),
        CheckConstraint("user1_id < user2_id", name="pair_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user1_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    user2_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MatchedRoom(db.Model):
    """The voice room of a match. Ended, never deleted, so history is kept."""

    __tablename__ = "matched_room"
    __table_args__ = (
        CheckConstraint("user1_id < user2_id", name="pair_ordered"),
        Index("ix_matched_room_user1_id_user2_id", "user1_id", "user2_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user1_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    user2_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it ended: "left" (someone hung up), "blocked", "abandoned" (nobody came back to it); empty
    # while open.
    end_reason: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # "Keep in touch": when both pressed it, they get a conversation.
    user1_keeps: Mapped[bool] = mapped_column(default=False, server_default=false())
    user2_keeps: Mapped[bool] = mapped_column(default=False, server_default=false())

    def has_member(self, user_id: int) -> bool:
        return user_id in (self.user1_id, self.user2_id)

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
