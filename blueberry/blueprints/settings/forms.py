"""Settings forms; field names are the model fields they edit."""

import zoneinfo
from functools import cache

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange

from blueberry.blueprints.auth.forms import PersonForm
from blueberry.models.user import MAX_AGE, MIN_AGE

LANGUAGE_CHOICES = [SelectChoice("en", "English"), SelectChoice("ko", "한국어")]


@cache
def timezone_choices() -> list[SelectChoice]:
    return [
        SelectChoice(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones()) if "/" in name
    ]


def preferred_gender_choices():
    return [SelectChoice("any", _l("Anyone")), SelectChoice("male", _l("Men")), SelectChoice("female", _l("Women"))]


class ProfileForm(PersonForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=50)])
    timezone = SelectField(_l("Time zone"), choices=timezone_choices, validators=[DataRequired()])
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, validators=[DataRequired()])


def _age_field(label):
    return IntegerField(
        label,
        validators=[InputRequired(), NumberRange(min=MIN_AGE, max=MAX_AGE, message=_l("Between 18 and 120."))],
    )


class MatchSettingForm(FlaskForm):
    age_min = _age_field(_l("Youngest age"))
    age_max = _age_field(_l("Oldest age"))
    radius_km = IntegerField(
        _l("Distance (km)"),
        validators=[InputRequired(), NumberRange(min=1, max=20000, message=_l("Between 1 and 20,000 km."))],
    )
    preferred_gender = SelectField(_l("Show me"), choices=preferred_gender_choices, validators=[DataRequired()])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=128, message=_l("Use 8 to 128 characters."))]
    )
    confirm_password = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))],
    )


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, validators=[DataRequired()])
