"""Times as the reader sees them: every time on a page or in a live fragment goes through these
filters, in the reader's time zone and language (flask-babel's selectors: the user's settings).

Values are aware datetimes or the ISO strings events carry (`message.new`'s `created_at`)."""

from datetime import date, datetime, timedelta

from babel.dates import format_skeleton
from flask import Flask
from flask_babel import format_date, format_datetime, format_time, get_locale, gettext, to_user_timezone

from blueberry.models.base import utcnow


def _aware(value) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def local_time(value) -> str:
    """The time of day: `7:23 PM`, `오후 7:23`."""
    return format_time(_aware(value), "short")


def local_datetime(value) -> str:
    """Date and time, short: `12/2/26, 7:23 PM`, `26. 12. 2. 오후 7:23`."""
    return format_datetime(_aware(value), "short")


def day_key(value) -> str:
    """The reader's calendar day (`2026-12-03`): messages on one day share a separator."""
    return to_user_timezone(_aware(value)).date().isoformat()


def day_label(value) -> str:
    """A day separator: `Thursday, December 3, 2026`, `2026년 12월 3일 목요일`."""
    return format_date(_aware(value), "full")


def list_time(value) -> str:
    """When, in a list row: the time today, "Yesterday", the date this year, else a short date."""
    moment = to_user_timezone(_aware(value))
    today = to_user_timezone(utcnow()).date()
    if moment.date() == today:
        return local_time(value)
    if moment.date() == today - timedelta(days=1):
        return gettext("Yesterday")
    if moment.year == today.year:  # `Dec 2`, `12월 2일`
        return format_skeleton("MMMd", moment, locale=get_locale())
    return format_date(_aware(value), "short")


def calendar_date(value: date, width: str = "long") -> str:
    """A date that is not a moment (a book's publication day): no time zone, the reader's language."""
    return format_date(value, width)


def init_time_filters(app: Flask) -> None:
    for function in (local_time, local_datetime, day_key, day_label, list_time, calendar_date):
        app.jinja_env.filters[function.__name__] = function
