"""Random-matching data that must last: each user's match preferences."""

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueberry.extensions import db
from blueberry.models.user import User

PREFERRED_GENDERS = ("male", "female", "any")


class MatchSetting(db.Model):
    """Who a user wants to be matched with (model spec §2); created with the user."""

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
