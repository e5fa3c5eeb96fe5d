"""Chat forms: writing to someone by username (a conversation or a request)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from blueberry.services.chat import MAX_CONTENT


class WriteForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Write a username.")), Length(max=30)])
    content = TextAreaField(
        _l("Message"),
        validators=[DataRequired(_l("Write something first.")), Length(max=MAX_CONTENT)],
    )
