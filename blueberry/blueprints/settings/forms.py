"""Settings forms; field names are the model fields they edit."""

import zoneinfo
from functools import cache

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
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
from blueberry.models.user import MAX_AGE, MAX_BIO, MIN_AGE
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


class CardForm(FlaskForm):
    """What a profile card shows besides the name: interests are typed as `books, hiking, jazz`."""

    bio = TextAreaField(_l("About me"), validators=[Length(max=MAX_BIO)])
    interests = StringField(_l("Interests (up to 10, separated by commas)"), validators=[Length(max=400)])
    show_photo_on_offers = BooleanField(_l("Show my photo on match offers and in voice rooms"))

    @classmethod
    def of(cls, user) -> "CardForm":
        """The form as the user's card stands (interests joined back into one line)."""
        form = cls(obj=user)
        form.interests.data = ", ".join(user.interests or [])
        return form


def requests_from_choices():
    return [
        SelectChoice("anyone", _l("Anyone (people I have met can always write)")),
        SelectChoice("nobody", _l("Nobody (only people I have met can write)")),
    ]


class PrivacyForm(FlaskForm):
    requests_from = SelectField(_l("Who can send me message requests"), choices=requests_from_choices,
                                validators=[DataRequired()])  # fmt: skip


def delivery_choices():
    return [
        SelectChoice("app", _l("In Blueberry only")),
        SelectChoice("email", _l("In Blueberry, and by email when I am not on the site")),
        SelectChoice("off", _l("Off")),
    ]


class MeetingNoticesForm(FlaskForm):
    meeting_reminders = SelectField(_l("Reminders 10 minutes before my meetings"), choices=delivery_choices,
                                    validators=[DataRequired()])  # fmt: skip
    meeting_changes = SelectField(_l("Changes to my meetings (a new time, a cancellation)"), choices=delivery_choices,
                                  validators=[DataRequired()])  # fmt: skip


class PasswordForm(NewPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])


class SetPasswordForm(NewPasswordForm):
    """A first password for an account that so far logs in only through Kakao or Discord."""


class EmailForm(FlaskForm):
    email = StringField(_l("Email address"), validators=[DataRequired(), Length(max=MAX_EMAIL)])
