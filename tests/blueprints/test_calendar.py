"""Meetings in calendar apps: a meeting's `.ics` and a person's secret feed, parsed back with a
real iCalendar library; a hostile title stays one escaped value; a new link revokes the old."""

from datetime import timedelta

import icalendar
import pytest

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.models import User
from blueberry.models.base import utcnow
from blueberry.services import book as catalog
from blueberry.services import calendar
from blueberry.services import meeting as meetings
from tests.conftest import get_csrf, login

HOSTILE = "Night, readers; \\ fun\r\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:injected"


@pytest.fixture
def meeting(app, make_user):
    book_jobs.load_sample(if_empty=True)
    starts = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    form = meetings.MeetingForm(book=catalog.bestsellers(1)[0], title="x", description="Bring tea, please",
                                starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=4, online=False,
                                place="Café Blue, Mapo")  # fmt: skip
    meeting = meetings.create(make_user("mina"), form)
    meeting.title = HOSTILE  # past the form's checks, as a title with everything in it could be
    db.session.commit()
    return meeting


def test_a_meetings_ics_parses_back_with_the_title_intact(client, meeting):
    login(client, "mina")
    response = client.get(f"/meetings/{meeting.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    raw = response.get_data()
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded
    parsed = icalendar.Calendar.from_ical(raw)
    (event,) = parsed.walk("VEVENT")  # the title started no event of its own
    assert str(event["SUMMARY"]) == HOSTILE.replace("\r\n", "\n")
    assert event.decoded("DTSTART") == meeting.starts_at and event.decoded("DTEND") == meeting.ends_at
    assert str(event["LOCATION"]) == "Café Blue, Mapo" and "Bring tea, please" in str(event["DESCRIPTION"])
    assert str(event["URL"]).endswith(f"/meetings/{meeting.id}")
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(minutes=10)


def test_folding_never_splits_a_character():
    line = "SUMMARY:" + "채식주의자 함께 읽기 " * 12
    folded = calendar.fold(line)
    pieces = folded.encode().split(b"\r\n ")
    assert all(len(piece) <= 75 for piece in pieces) and all(piece.decode() for piece in pieces)
    assert folded.replace("\r\n ", "") == line


def test_the_feed_is_behind_a_secret_link_that_can_be_replaced_or_turned_off(app, client, meeting, make_user):
    jun = make_user("jun")
    meetings.join(meeting, jun)
    db.session.commit()
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    login(client, "jun")
    token = get_csrf(client, "/settings/notices")
    assert client.post("/settings/calendar", data={"csrf_token": token}).status_code == 303
    first = db.session.scalar(db.select(User.calendar_token).where(User.id == jun.id))
    anonymous = app.test_client()  # a calendar app has no session
    feed = anonymous.get(f"/calendar/{first}.ics")
    assert feed.status_code == 200
    (event,) = icalendar.Calendar.from_ical(feed.get_data()).walk("VEVENT")
    assert str(event["UID"]) == f"meeting-{meeting.id}@blueberry"
    assert first in client.get("/settings/notices").get_data(as_text=True)
    client.post("/settings/calendar", data={"csrf_token": token})  # a new link
    second = db.session.scalar(db.select(User.calendar_token).where(User.id == jun.id))
    assert second != first and anonymous.get(f"/calendar/{first}.ics").status_code == 404
    client.post("/settings/calendar", data={"csrf_token": token, "action": "off"})
    assert anonymous.get(f"/calendar/{second}.ics").status_code == 404
