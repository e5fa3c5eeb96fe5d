"""Sign-up and login forms. Field names match the model fields (and `login` for the login id)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from blueberry.models.user import MAX_AGE, MIN_AGE


def gender_choices():
    return [SelectChoice("male", _l("Male")), SelectChoice("female", _l("Female"))]


class PersonForm(FlaskForm):
    """The fields about the person that sign-up and the profile share (model field names)."""

    age = IntegerField(
        _l("Age"),
        validators=[
            InputRequired(),
            NumberRange(min=MIN_AGE, max=MAX_AGE, message=_l("Blueberry is for people aged 18 to 120.")),
        ],
    )
    gender = SelectField(_l("Gender"), choices=gender_choices, validators=[DataRequired()])
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=25)])


class SignupForm(PersonForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=30)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=8, max=128, message=_l("Use 8 to 128 characters."))]
    )
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=50)])


class LoginForm(FlaskForm):
    login = StringField(_l("Username or phone number"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    next = HiddenField()
