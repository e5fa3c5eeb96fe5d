"""Form pieces shared by every blueprint: safe fields, the person fields, error rendering.

Errors answer 422 and htmx gets the form fragment; services' FieldErrors land under the
field they name.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional

from blueberry.htmx import render_page_or_fragment
from blueberry.models.safety import REPORT_REASONS
from blueberry.models.user import MAX_AGE, MIN_AGE
from blueberry.services.errors import FieldError

LANGUAGE_CHOICES = [SelectChoice("en", "English"), SelectChoice("ko", "한국어")]
MAX_NUMBER_DIGITS = 6


class SmallIntegerField(IntegerField):
    """An integer field that refuses absurdly long input before converting it.

    (WTForms' NumberRange turns the value into a float: 400 digits would overflow into a 500.)
    """

    def process_formdata(self, valuelist):
        if valuelist and len(valuelist[0].strip()) > MAX_NUMBER_DIGITS:
            self.data = None
            raise ValueError(_l("Enter a smaller number."))
        super().process_formdata(valuelist)


def in_range(low: int, high: int, message):
    return [InputRequired(), NumberRange(min=low, max=high, message=message)]


def gender_choices():
    return [SelectChoice("male", _l("Male")), SelectChoice("female", _l("Female"))]


class PersonForm(FlaskForm):
    """The fields about the person that sign-up and the profile share (model field names)."""

    age = SmallIntegerField(
        _l("Age"), validators=in_range(MIN_AGE, MAX_AGE, _l("Blueberry is for people aged 18 to 120."))
    )
    gender = SelectField(_l("Gender"), choices=gender_choices, validators=[DataRequired()])
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=25)])


class NewPasswordForm(FlaskForm):
    """A new password, typed twice: setting a first one, changing it, resetting it by email."""

    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=128, message=_l("Use 8 to 128 characters."))]
    )
    confirm_password = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))],
    )


def display_name_field(required: bool) -> StringField:
    first = DataRequired() if required else Optional()
    return StringField(_l("Display name"), validators=[first, Length(max=50)])


def report_reason_choices():
    labels = {
        "harassment": _l("Harassment or hate"),
        "spam": _l("Spam or scam"),
        "inappropriate": _l("Sexual or inappropriate"),
        "underage": _l("Seems under 18"),
        "other": _l("Something else"),
    }
    return [SelectChoice(reason, labels[reason]) for reason in REPORT_REASONS]


class ReportForm(FlaskForm):
    """Report a person (offers, rooms, later chats): a reason and what happened."""

    reason = SelectField(_l("Reason"), choices=report_reason_choices, validators=[DataRequired()])
    text = TextAreaField(_l("What happened (optional)"), validators=[Optional(), Length(max=2000)])


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, validators=[DataRequired()])


def apply_field_error(form: FlaskForm, error: FieldError) -> None:
    """Show a service's FieldError under the form field it names."""
    field = getattr(form, error.field, None)
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]


def render_form(page: str, fragment: str, form: FlaskForm, **context):
    """The page (or its form fragment for htmx), 422 when the form has errors."""
    status = 422 if form.errors else 200
    return render_page_or_fragment(page, fragment, form=form, **context), status


def hide_untouched_errors(form: FlaskForm) -> None:
    """While validating inline, say nothing yet about fields the user has left empty."""
    for field in form:
        if not any(field.raw_data or []) and field.type != "CSRFTokenField":
            field.errors = []


def run_field_checks(form: FlaskForm, checks: dict) -> None:
    """Run service checks (`field name → callable(value)`) on filled, so far valid fields."""
    for name, check in checks.items():
        if form[name].data and not form[name].errors:
            try:
                check(form[name].data)
            except FieldError as error:
                apply_field_error(form, error)
