"""In Chromium: a leader on a phone in Korean opens a meeting (the book picked by typing part
of its title), someone on a desktop in English joins, and the page shows both going."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from blueberry.jobs import book as book_jobs
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


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
    mina.goto("/meetings/new")
    mina.locator("#book-query").press_sequentially("채식", delay=60)
    mina.get_by_label(re.compile("채식주의자")).check()
    mina.fill("#title", "채식주의자 함께 읽기")
    mina.fill("#day", (datetime.now(UTC) + timedelta(days=3)).date().isoformat())
    mina.fill("#start", "19:00")
    mina.fill("#capacity", "4")
    mina.fill("#place", "서울 마포구 카페 블루")
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
