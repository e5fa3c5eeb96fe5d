"""Twenty people ask the running server for the last place of a meeting at once: exactly one
gets it, the others are waitlisted, and the meeting is never over capacity (SQLite and
PostgreSQL)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.models import Meeting, MeetingParticipant
from blueberry.models.base import utcnow
from blueberry.services import book as catalog
from blueberry.services import meeting as meetings
from tests.conftest import LIVE_SECRET, csrf_from
from tests.realtime.clients import open_session

PEOPLE = 20


def test_twenty_people_race_for_the_last_place(app, make_user, live_server):
    book_jobs.load_sample(if_empty=True)
    starts = utcnow() + timedelta(days=1)
    form = meetings.MeetingForm(book=catalog.bestsellers(1)[0], title="Last seat", description="", starts_at=starts,
                                ends_at=starts + timedelta(hours=1), capacity=2, online=True, place="")  # fmt: skip
    meeting = meetings.create(make_user("mina"), form)
    db.session.commit()
    people = [make_user(f"reader{n}") for n in range(PEOPLE)]
    browsers = []
    for person in people:  # each with their own session and its CSRF token, ready before the start
        cookie = open_session(app, person, LIVE_SECRET)
        page = httpx.get(f"{live_server.url}/meetings/{meeting.id}", cookies={"bb_session": cookie})
        cookie = page.cookies.get("bb_session") or cookie  # the session now holds the CSRF secret
        browsers.append((cookie, csrf_from(page.text)))

    def join(browser):
        cookie, token = browser
        url = f"{live_server.url}/meetings/{meeting.id}/join"
        return httpx.post(url, data={"csrf_token": token}, cookies={"bb_session": cookie}, timeout=20).status_code

    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        statuses = list(pool.map(join, browsers))
    assert statuses == [303] * PEOPLE, statuses
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).going == 2
    states = dict(
        db.session.execute(
            select(MeetingParticipant.state, func.count())
            .where(MeetingParticipant.meeting_id == meeting.id, MeetingParticipant.role == "member")
            .group_by(MeetingParticipant.state)
        ).all()
    )
    assert states == {"going": 1, "waitlisted": PEOPLE - 1}
