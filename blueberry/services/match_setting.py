"""A user's match preferences: who they want to be offered."""

from flask_babel import lazy_gettext as _l

from blueberry.extensions import db
from blueberry.models import MatchSetting
from blueberry.services.errors import FieldError


def update_match_setting(
    setting: MatchSetting, age_min: int, age_max: int, radius_km: int, preferred_gender: str
) -> None:
    """Save match preferences; FieldError when the age range is upside down."""
    check_age_range(age_min, age_max)
    setting.age_min, setting.age_max = age_min, age_max
    setting.radius_km, setting.preferred_gender = radius_km, preferred_gender
    db.session.flush()


def check_age_range(age_min: int, age_max: int) -> None:
    """FieldError unless age_min ≤ age_max."""
    if age_min > age_max:
        raise FieldError("age_max", _l("The oldest age must not be below the youngest."))
