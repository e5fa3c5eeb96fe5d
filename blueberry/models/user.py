"""Accounts: the user, their server-side login sessions and their linked social logins."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueberry.extensions import db
from blueberry.models.base import UTCDateTime, utcnow

GENDERS = ("male", "female")
# Who may send me message requests (people I have met can always write).
REQUESTS_FROM = ("anyone", "nobody")
# How meeting reminders and meeting changes reach someone: in the app only, also by email when
# they are not connected anywhere, or not at all.
DELIVERIES = ("app", "email", "off")
MAX_BIO, MAX_INTERESTS, MAX_INTEREST_LENGTH = 300, 10, 20
MIN_AGE, MAX_AGE = 18, 120


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(f"age BETWEEN {MIN_AGE} AND {MAX_AGE}", name="age_range"),
        CheckConstraint("gender IN ('male', 'female')", name="gender_known"),
        CheckConstraint(f"requests_from IN {REQUESTS_FROM}", name="requests_from_known"),
        CheckConstraint(f"meeting_reminders IN {DELIVERIES}", name="meeting_reminders_known"),
        CheckConstraint(f"meeting_changes IN {DELIVERIES}", name="meeting_changes_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case: logins are case-insensitive and a name is taken once.
    username: Mapped[str] = mapped_column(String(30), unique=True)
    # Empty for an account that signs in only through Kakao or Discord.
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(50))
    age: Mapped[int]
    gender: Mapped[str] = mapped_column(String(6))
    # E.164 (`+821012345678`): one spelling per number, so uniqueness means one owner.
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    # Lower-cased; trusted (for password reset, for matching a provider's email) only once verified.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Seoul", server_default="Asia/Seoul")
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    date_joined: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    is_staff: Mapped[bool] = mapped_column(default=False, server_default=false())
    requests_from: Mapped[str] = mapped_column(String(8), default="anyone", server_default="anyone")
    meeting_reminders: Mapped[str] = mapped_column(String(5), default="app", server_default="app")
    meeting_changes: Mapped[str] = mapped_column(String(5), default="app", server_default="app")
    # The secret of the person's calendar feed link (none: no feed); a new one revokes the old.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The profile card: a short bio, up to MAX_INTERESTS tags, and a photo kept as
    # `<photo_name>.webp` and `<photo_name>.thumb.webp` (both square) in PHOTO_DIR; empty: initials.
    bio: Mapped[str] = mapped_column(String(MAX_BIO), default="", server_default="")
    interests: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    photo_name: Mapped[str] = mapped_column(String(64), default="", server_default="")
    show_photo_on_offers: Mapped[bool] = mapped_column(default=True, server_default=true())
    # News cards show a model's summary when there is one; off: the article's own first sentences.
    news_ai_summaries: Mapped[bool] = mapped_column(default=True, server_default=true())

    match_setting: Mapped["MatchSetting"] = relationship(  # noqa: F821 (models.matching)
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )
    sessions: Mapped[list["UserSession"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    social_accounts: Mapped[list["SocialAccount"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True, order_by="SocialAccount.id"
    )

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    @property
    def email_verified(self) -> bool:
        return self.email is not None and self.email_verified_at is not None

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


class SocialAccount(db.Model):
    """A Kakao or Discord login linked to a user; a user may have any number of them."""

    __tablename__ = "social_account"
    __table_args__ = (UniqueConstraint("provider", "uid", name="uq_social_account_provider_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    # The provider's id of the person, as text (Kakao's is a number, Discord's a string).
    uid: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    # What the provider last said about the person (nickname, age range, gender …).
    extra_data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="social_accounts")
