"""Settings forms; field names are the model fields they edit."""

import zoneinfo
from functools import cache

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from blueberry.forms import LANGUAGE_CHOICES, PersonForm, SmallIntegerField, display_name_field, in_range
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


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=128, message=_l("Use 8 to 128 characters."))]
    )
    confirm_password = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))],
    )


class SetPasswordForm(FlaskForm):
    """A first password for an account that so far logs in only through Kakao or Discord."""

    new_password = PasswordForm.new_password
    confirm_password = PasswordForm.confirm_password


class EmailForm(FlaskForm):
    email = StringField(_l("Email address"), validators=[DataRequired(), Length(max=MAX_EMAIL)])
