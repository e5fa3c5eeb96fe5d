"""In Chromium: searching the catalog as you type (debounced, swapped in place, the address
follows), a cover that fails to load giving way to its placeholder, on a phone in Korean and a
desktop in English."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.models import Book

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("locale", "width"), [("en-US", 1280), ("ko-KR", 360)])
def test_search_as_you_type_and_a_broken_cover(app, browser, live_server, locale, width):
    book_jobs.load_sample(if_empty=True)
    broken = live_server.url + "/static/no-such-cover.jpg"
    db.session.execute(update(Book).where(Book.title == "채식주의자").values(cover_url=broken))
    db.session.commit()
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations: list[str] = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
    page.goto("/books")

    requests: list[str] = []
    page.on("request", lambda request: "/books?" in request.url and requests.append(request.url))
    page.locator("#book-q").press_sequentially("해리", delay=60)
    titles = page.locator("#book-results .book-title")
    expect(titles).to_have_text(["해리 포터와 마법사의 돌 1", "해리 포터와 비밀의 방 1"])
    assert len(requests) == 1  # typed quickly: one request after the pause, not one per key
    expect(page).to_have_url(re.compile(r"/books\?q=%ED%95%B4%EB%A6%AC$"))
    page.locator("#book-q").fill("")
    page.locator("#book-q").press_sequentially("한강", delay=60)
    expect(page.locator("#book-results .book-row")).to_have_count(6)
    row = page.locator("#book-results .book-row", has_text="채식주의자")
    expect(row.locator(".cover-placeholder")).to_be_visible()  # the image failed: the placeholder shows
    expect(row.locator("img.cover-image")).to_be_hidden()
    row.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("채식주의자")
    assert not violations, violations
    context.close()
