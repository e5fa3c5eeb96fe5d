"""In Chromium: a leader on a phone in Korean opens a meeting (the book picked by typing part
of its title), someone on a desktop in English joins, and the page shows both going."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.models import Meeting
from blueberry.models.base import utcnow
from tests.e2e.conftest import sign_in, window

pytestmark = pytest.mark.e2e


def fill_meeting_form(page, title: str, capacity: int, place: str) -> None:
    """The new meeting form, about 채식주의자 (picked by typing part of its title), at 19:00 in
    three days."""
    page.goto("/meetings/new")
    page.locator("#book-query").press_sequentially("채식", delay=60)
    page.get_by_label(re.compile("채식주의자")).check()
    page.fill("#title", title)
    page.fill("#day", (datetime.now(UTC) + timedelta(days=3)).date().isoformat())
    page.fill("#start", "19:00")
    page.fill("#capacity", str(capacity))
    page.fill("#place", place)


def test_open_a_meeting_and_join_it(app, browser, live_server, make_user):
    book_jobs.load_sample(if_empty=True)
    make_user("mina", language="ko", timezone="Asia/Seoul")
    make_user("jun", gender="male")
    phone = browser.new_context(base_url=live_server.url, locale="ko-KR", viewport={"width": 360, "height": 740})
    mina = phone.new_page()
    mina.set_default_timeout(10_000)
    violations: list[str] = []
    mina.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
    sign_in(mina, "mina")
    fill_meeting_form(mina, "채식주의자 함께 읽기", capacity=4, place="서울 마포구 카페 블루")
    mina.get_by_role("button", name="모임 열기").click()
    expect(mina.locator("h1")).to_have_text("채식주의자 함께 읽기")
    expect(mina.locator(".meeting-when")).to_contain_text("오후 7:00")
    expect(mina.locator("#meeting-phase")).to_contain_text("오후 6:50")  # the room opens 10 minutes ahead
    assert mina.evaluate("document.documentElement.scrollWidth") <= 360

    jun = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    jun.set_default_timeout(10_000)
    sign_in(jun, "jun")
    jun.goto("/meetings")
    jun.get_by_role("link", name=re.compile("채식주의자 함께 읽기")).click()
    jun.get_by_role("button", name="Join").click()
    expect(jun.locator(".flash")).to_have_text("You are going.")
    expect(jun.locator(".participants li")).to_have_count(2)
    mina.reload()
    expect(mina.locator(".participants li", has_text="jun")).to_be_visible()
    assert not violations, violations


@pytest.fixture
def live_env():
    return {"PRESENCE_GRACE_S": "1"}


def test_three_people_talk_in_the_room_and_one_leaves(app, browser, live_server, make_user):
    """The leader opens a meeting, two others join from its page; when it is live all three talk
    in its room, see each other there, and one leaves: the others see the notice, the list and
    the room's history update."""
    book_jobs.load_sample(if_empty=True)
    for name in ("mina", "jun", "ara"):
        make_user(name, display_name=name.title())
    pages = {name: window(browser, live_server) for name in ("mina", "jun", "ara")}
    for name, page in pages.items():
        sign_in(page, name)
    mina = pages["mina"]
    fill_meeting_form(mina, "Night readers", capacity=5, place="Café Blue")
    mina.get_by_role("button", name="Open the meeting").click()
    expect(mina.locator("h1")).to_have_text("Night readers")
    meeting_path = urlparse(mina.url).path
    for name in ("jun", "ara"):
        pages[name].goto(meeting_path)
        pages[name].get_by_role("button", name="Join").click()
        expect(pages[name].locator(".flash")).to_have_text("You are going.")
    meeting = db.session.scalar(select(Meeting))
    meeting.starts_at = utcnow() - timedelta(minutes=1)  # time passes: the meeting is on now
    meeting.ends_at = utcnow() + timedelta(hours=1)
    db.session.commit()

    for page in pages.values():
        page.goto(meeting_path)
        with page.expect_websocket(lambda ws: "/ws/conversations/" in ws.url):
            page.get_by_role("link", name="Enter the room").click()
    for page in pages.values():
        expect(page.locator("#presence li.online")).to_have_count(3)
        expect(page.locator("#presence li", has_text="Mina").locator(".leader")).to_be_visible()
    for name, page in pages.items():
        page.fill("#composer-content", f"hello from {name}")
        page.locator("#composer button[type=submit]").click()
    for name, page in pages.items():
        for other in pages:
            bubble = page.locator(".bubble", has_text=f"hello from {other}")
            expect(bubble).to_be_visible()
            if other != name:
                expect(bubble.locator(".sender-name")).to_have_text(other.title())
    expect(pages["jun"].locator(".bubble", has_text="hello from mina").locator(".leader")).to_be_visible()

    ara = pages["ara"]
    ara.goto(meeting_path)  # out of the room: after the grace the others are told, for a few seconds
    expect(mina.locator(".room-notice", has_text="Ara left the room.")).to_be_visible()
    expect(mina.locator("#presence li.online")).to_have_count(2)
    ara.get_by_role("button", name="Leave").click()
    expect(ara.locator(".flash")).to_have_text("You left the meeting.")
    for name in ("mina", "jun"):
        page = pages[name]
        expect(page.locator(".bubble.system", has_text="Ara left.")).to_be_visible()
        expect(page.locator("#presence li")).to_have_count(2)  # she is no longer a member
    expect(pages["jun"].locator(".bubble.mine .read-by-count").last).to_contain_text("Read by")
    ara.goto("/conversations")
    expect(ara.locator(".conversation-row", has_text="Night readers")).to_contain_text("Ara left.")
