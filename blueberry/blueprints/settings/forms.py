"""Settings forms; field names are the model fields they edit."""

import zoneinfo
from functools import cache

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from blueberry.forms import (
    LANGUAGE_CHOICES,
    NewPasswordForm,
    PersonForm,
    SmallIntegerField,
    display_name_field,
    in_range,
)
from blueberry.models.user import MAX_AGE, MIN_AGE
from blueberry.services.email import MAX_EMAIL


@cache
def timezone_choices() -> list[SelectChoice]:
    return [
        SelectChoice(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones()) if "/" in name
    ]


def preferred_gender_choices():
    return [SelectChoice("any", _l("Anyone")), SelectChoice("male", _l("Men")), SelectChoice("female", _l("Women"))]


class ProfileForm(PersonForm):
    display_name = display_name_field(required=True)
    timezone = SelectField(_l("Time zone"), choices=timezone_choices, validators=[DataRequired()])
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, validators=[DataRequired()])


def _age_field(label):
    return SmallIntegerField(label, validators=in_range(MIN_AGE, MAX_AGE, _l("Between 18 and 120.")))


class MatchSettingForm(FlaskForm):
    age_min = _age_field(_l("Youngest age"))
    age_max = _age_field(_l("Oldest age"))
    radius_km = SmallIntegerField(_l("Distance (km)"), validators=in_range(1, 20000, _l("Between 1 and 20,000 km.")))
    preferred_gender = SelectField(_l("Show me"), choices=preferred_gender_choices, validators=[DataRequired()])


class PasswordForm(NewPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])


class SetPasswordForm(NewPasswordForm):
    """A first password for an account that so far logs in only through Kakao or Discord."""


class EmailForm(FlaskForm):
    email = StringField(_l("Email address"), validators=[DataRequired(), Length(max=MAX_EMAIL)])
