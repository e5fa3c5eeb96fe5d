"""Sign-up and login forms. Field names match the model fields (and `login` for the login id)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from blueberry.forms import PersonForm, display_name_field


class SignupForm(PersonForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=30)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=8, max=128, message=_l("Use 8 to 128 characters."))]
    )
    display_name = display_name_field(required=False)


class LoginForm(FlaskForm):
    login = StringField(_l("Username or phone number"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    next = HiddenField()


class SocialSignupForm(PersonForm):
    """Finishing a sign-up that started at Kakao or Discord: what the provider did not give."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=30)])
    display_name = display_name_field(required=False)
    phone = None  # a phone comes only from the provider, which has verified it


class PasswordCheckForm(FlaskForm):
    """Proving it is you: to link a login to an existing account, or before a sensitive change."""

    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    next = HiddenField()
