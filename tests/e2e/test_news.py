"""In Chromium: the news list with its pictures through the proxy, infinite scroll, "N new
stories" arriving live from the public stream without moving what is being read, and a story's
page."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from blueberry.jobs import news as news_jobs
from tests.fakes.feeds import rss
from tests.news import configure, source, story

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_env():
    return {"NEWS_ALLOW_PRIVATE_ADDRESSES": "1"}  # the pictures are on the local fake publisher


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (60, 90, 200)).save(out, "PNG")
    return out.getvalue()


def publish(app, fake_feeds, items) -> None:
    configure(app, source("Fake Daily", fake_feeds.put("/feed.xml", rss(items)), sections={"tech": "technology"}))
    news_jobs.ingest_news()


def test_scroll_new_stories_and_a_story(page, app, fake_feeds):
    picture = fake_feeds.put("/pic.png", png(), "image/png")
    stories = [story(n, hours_ago=n, image=picture if n == 1 else None) for n in range(1, 26)]
    publish(app, fake_feeds, stories)

    page.goto("/news")
    cards = page.locator(".news-card")
    expect(cards).to_have_count(20)
    expect(cards.first.locator(".news-title")).to_have_text("Story 1")
    expect(cards.first.locator(".news-points li").first).to_have_text("First sentence of story 1.")
    thumb = cards.first.locator("img.news-thumb")
    expect(thumb).to_have_attribute("src", "/news/images/1")
    thumb.scroll_into_view_if_needed()
    assert thumb.evaluate("img => img.decode().then(() => img.naturalWidth)") == 640  # came through the proxy
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.locator("#news-feed")).to_have_attribute("sse-connect", "/news/stream?after_id=25")

    page.locator(".news-more").scroll_into_view_if_needed()  # the next page loads when revealed
    expect(cards).to_have_count(25)
    expect(page.locator(".news-more")).to_have_count(0)

    cards.nth(10).scroll_into_view_if_needed()
    reading = cards.nth(10).bounding_box()["y"]
    publish(app, fake_feeds, [story(0, category="Tech"), story(-1), story(-2), *stories])
    banner = page.locator("#news-new a")
    expect(banner).to_have_text("↑ 3 new stories")
    assert cards.nth(10).bounding_box()["y"] == reading  # nothing moved under the reader
    expect(cards.first.locator(".news-title")).to_have_text("Story 1")

    banner.click()
    expect(cards.first.locator(".news-title")).to_have_text("Story -2")
    expect(page.locator("#news-new a")).to_have_count(0)

    page.get_by_role("link", name="Technology", exact=True).click()
    expect(cards).to_have_count(1)
    cards.first.locator(".news-title a").click()
    expect(page.locator("h1")).to_have_text("Story 0")
    expect(page.get_by_role("link", name="Read it at Fake Daily ↗")).to_have_attribute("href", "https://news.example/0")


def test_the_current_tab_is_in_view_on_a_phone_and_every_tab_on_a_desktop(browser, live_server, app):
    news_jobs.load_samples(if_empty=True)
    for width in (360, 1280):
        page = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 800}).new_page()
        page.goto("/news?category=sports")  # the last tab
        current = page.locator(".news-tabs [aria-current=page]")
        expect(current).to_have_text("Sports")
        expect(current).to_be_in_viewport(ratio=1)
        if width == 1280:
            expect(page.locator(".news-tabs a").first).to_be_in_viewport(ratio=1)  # wrapped, not scrolled
        page.context.close()
