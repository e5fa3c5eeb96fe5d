"""The form a leader fills in to open a meeting; times are in the leader's own zone."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from blueberry.models.meeting import MAX_CAPACITY, MIN_CAPACITY

DURATIONS = [30, 60, 90, 120, 150, 180, 240, 300, 360]


def _length(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _l("%(m)d min", m=rest)
    return _l("%(h)d h %(m)02d min", h=hours, m=rest) if rest else _l("%(h)d h", h=hours)


class MeetingForm(FlaskForm):
    book = StringField(_l("Book"), validators=[DataRequired(_l("Choose a book.")), Length(max=13)])
    title = StringField(_l("Name"), validators=[DataRequired(_l("Give the meeting a name.")), Length(max=100)])
    description = TextAreaField(_l("What you will talk about (optional)"), validators=[Optional(), Length(max=2000)])
    day = DateField(_l("Day"), validators=[DataRequired(_l("Choose a day."))])
    start = TimeField(_l("Starts at"), validators=[DataRequired(_l("Choose a time."))])
    duration = SelectField(_l("Length"), coerce=int, default=90, choices=lambda: [
        SelectChoice(minutes, _length(minutes)) for minutes in DURATIONS
    ])  # fmt: skip
    capacity = IntegerField(
        _l("People (you included)"), default=8,
        validators=[DataRequired(), NumberRange(MIN_CAPACITY, MAX_CAPACITY)],
    )  # fmt: skip
    online = BooleanField(_l("Online"))
    place = StringField(_l("Place (an address)"), validators=[Optional(), Length(max=200)])
