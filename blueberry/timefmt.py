"""Times as the reader sees them: every time on a page or in a live fragment goes through these
filters, in the reader's time zone and language (flask-babel's selectors: the user's settings).

Values are aware datetimes or the ISO strings events carry (`message.new`'s `created_at`)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache

from babel import Locale, dates
from flask import Flask
from flask_babel import format_date, format_datetime, format_time, get_locale, get_timezone, gettext, to_user_timezone

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
    return reader_clock().list_time(value)


@dataclass(frozen=True)
class ReaderClock:
    """The reader's zone, language and today, looked up once for a list of many rows (a news
    page's 20 cards): each lookup goes through flask-babel's request context, and the rows'
    texts are remembered across requests, since readers see the same stories again and again."""

    zone: tzinfo
    locale: Locale
    today: date
    yesterday: str

    def list_time(self, value) -> str:
        return _list_time(value if isinstance(value, str) else value.isoformat(), self)


def reader_clock() -> ReaderClock:
    zone, locale = get_timezone(), get_locale()
    return ReaderClock(zone, locale, _local(utcnow(), zone).date(), gettext("Yesterday"))


@lru_cache(maxsize=4096)
def _list_time(value: str, clock: ReaderClock) -> str:
    moment = _local(datetime.fromisoformat(value), clock.zone)
    if moment.date() == clock.today:  # `7:23 PM`, `오후 7:23`
        return dates.format_time(moment, "short", locale=clock.locale)
    if moment.date() == clock.today - timedelta(days=1):
        return clock.yesterday
    if moment.year == clock.today.year:  # `Dec 2`, `12월 2일`
        return dates.format_skeleton("MMMd", moment, locale=clock.locale)
    return dates.format_date(moment.date(), "short", locale=clock.locale)


def _local(moment: datetime, zone) -> datetime:
    if moment.tzinfo is None:  # naive times are UTC here, as flask-babel reads them
        moment = moment.replace(tzinfo=UTC)
    return zone.normalize(moment.astimezone(zone)) if hasattr(zone, "normalize") else moment.astimezone(zone)


def calendar_date(value: date, width: str = "long") -> str:
    """A date that is not a moment (a book's publication day): no time zone, the reader's language."""
    return format_date(value, width)


def init_time_filters(app: Flask) -> None:
    for function in (local_time, local_datetime, day_key, day_label, list_time, calendar_date):
        app.jinja_env.filters[function.__name__] = function
