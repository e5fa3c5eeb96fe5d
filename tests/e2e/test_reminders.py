"""In Chromium: the meeting reminder arrives as a toast and in the badge on whatever page the
person has open, and its link opens the meeting's room."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.jobs.reminders import send_meeting_reminders
from blueberry.models import MeetingParticipant
from blueberry.models.base import utcnow
from blueberry.services import book as catalog
from blueberry.services import meeting as meetings
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_the_reminder_shows_as_a_toast_and_leads_to_the_room(page, make_user, live_server):
    book_jobs.load_sample(if_empty=True)
    mina, jun = make_user("mina"), make_user("jun")
    starts = utcnow() + timedelta(minutes=9, seconds=30)  # its reminder time has just come
    form = meetings.MeetingForm(book=catalog.bestsellers(1)[0], title="Night readers", description="",
                                starts_at=starts, ends_at=starts + timedelta(hours=1), capacity=4, online=True,
                                place="")  # fmt: skip
    meeting = meetings.create(mina, form)
    meetings.join(meeting, jun)
    db.session.execute(  # both were going well before the reminder time
        update(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id)
        .values(state_at=utcnow() - timedelta(days=1))
    )  # fmt: skip
    db.session.commit()
    sign_in(page, "jun")
    page.goto("/books")
    page.wait_for_timeout(500)  # the stream is connected
    assert send_meeting_reminders()["sent"] == 2
    toast = page.locator(".toast", has_text="“Night readers” starts at")
    expect(toast).to_be_visible()
    expect(page.locator("#notification-badge")).to_have_text("1")
    page.goto("/notifications")
    page.get_by_role("link", name="“Night readers” starts at", exact=False).first.click()
    expect(page.locator("#meeting-state")).to_contain_text("The room is open")
