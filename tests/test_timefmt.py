"""`list_time`, the time in a list row, in the reader's zone and language: today's time,
"Yesterday", this year's date, an older date. Its texts are remembered across requests, so a
reader in another language or zone must get their own, not the first reader's."""

import time
from datetime import UTC, date, datetime

import pytz
from babel import Locale
from flask_login import login_user

from blueberry.timefmt import ReaderClock, list_time, reader_clock

SEOUL, LOS_ANGELES = pytz.timezone("Asia/Seoul"), pytz.timezone("America/Los_Angeles")
TODAY = date(2026, 12, 3)  # in Seoul
MOMENTS = [
    "2026-12-03T03:05:00+00:00",  # 12:05 on 3 December in Seoul: today
    datetime(2026, 12, 2, 3, 5, tzinfo=UTC),  # yesterday (a datetime, as rows carry)
    "2026-01-01T03:05:00+00:00",  # this year
    "2019-03-09T03:00:00+00:00",  # an earlier year
]


def clock(language: str, zone=SEOUL, yesterday: str = "Yesterday") -> ReaderClock:
    return ReaderClock(zone, Locale.parse(language), TODAY, yesterday)


def test_each_branch_in_english_and_korean():
    assert [clock("en").list_time(m) for m in MOMENTS] == ["12:05\u202fPM", "Yesterday", "Jan 1", "3/9/19"]
    assert [clock("ko", yesterday="어제").list_time(m) for m in MOMENTS] == [
        "오후 12:05",
        "어제",
        "1월 1일",
        "19. 3. 9.",
    ]


def test_a_naive_time_is_read_as_utc_whatever_the_machines_zone(monkeypatch):
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        assert clock("en").list_time("2026-12-02T16:05:00") == "1:05\u202fAM"  # 1:05 on 3 December in Seoul
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_remembered_text_belongs_to_the_readers_zone_and_language():
    older = MOMENTS[3]
    assert clock("en").list_time(older) == "3/9/19"
    assert clock("en", LOS_ANGELES).list_time(older) == "3/8/19"  # 03:00 UTC is the evening before there
    assert clock("ko", LOS_ANGELES).list_time(older) == "19. 3. 8."


def test_the_clock_is_the_signed_in_readers(app, make_user):
    user = make_user("clock", language="ko", timezone="America/Los_Angeles")
    with app.test_request_context():
        login_user(user)
        found = reader_clock()
        now = datetime.now(UTC)

        assert (str(found.zone), str(found.locale), found.yesterday) == ("America/Los_Angeles", "ko", "어제")
        assert found.today == now.astimezone(LOS_ANGELES).date()
        assert list_time(now) == found.list_time(now) and list_time(now).startswith(("오전", "오후"))
