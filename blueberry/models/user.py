"""Accounts: the user and their server-side login sessions."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueberry.extensions import db
from blueberry.models.base import UTCDateTime, utcnow

GENDERS = ("male", "female")
MIN_AGE, MAX_AGE = 18, 120


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(f"age BETWEEN {MIN_AGE} AND {MAX_AGE}", name="age_range"),
        CheckConstraint("gender IN ('male', 'female')", name="gender_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case: logins are case-insensitive and a name is taken once.
    username: Mapped[str] = mapped_column(String(30), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(50))
    age: Mapped[int]
    gender: Mapped[str] = mapped_column(String(6))
    # E.164 (`+821012345678`): one spelling per number, so uniqueness means one owner.
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Seoul", server_default="Asia/Seoul")
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    date_joined: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    is_staff: Mapped[bool] = mapped_column(default=False, server_default=false())

    match_setting: Mapped["MatchSetting"] = relationship(  # noqa: F821 (models.matching)
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )
    sessions: Mapped[list["UserSession"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserSession(db.Model):
    """One signed-in browser or client. The cookie carries a random token; only its hash is stored."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(200), default="", server_default="")
    ip: Mapped[str] = mapped_column(String(45), default="", server_default="")

    user: Mapped[User] = relationship(back_populates="sessions")
