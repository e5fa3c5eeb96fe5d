"""The public news stream on the real server: "N new stories" for a list page, per category,
counting what arrived before the stream opened and what arrives live, each story once."""

import pytest

from blueberry.jobs import news as news_jobs
from blueberry.services import news
from tests.fakes.feeds import rss
from tests.news import configure, source, story
from tests.realtime.clients import SSEReader


@pytest.fixture
def feed(app, fake_feeds):
    configure(app, source("Feed", fake_feeds.put("/feed.xml", rss([story(1)])), sections={"tech": "technology"}))
    news_jobs.ingest_news()
    return fake_feeds


def add(fake_feeds, *items) -> None:
    fake_feeds.put("/feed.xml", rss([story(1), *items]))
    news_jobs.ingest_news()


def test_new_stories_are_counted_live_for_each_page_without_a_session(live_server, feed):
    newest = news.newest_id()
    latest = SSEReader(live_server.url, None, fmt="", path=f"/news/stream?after_id={newest}")
    tech = SSEReader(live_server.url, None, fmt="", path=f"/news/stream?category=technology&after_id={newest}")
    try:
        add(feed, story(2, category="Tech"), story(3))
        first = latest.next_of("news.new")
        assert "2 new stories" in first["raw"] and 'hx-swap-oob="true"' in first["raw"]
        assert "1 new story" in tech.next_of("news.new")["raw"]

        add(feed, story(2, category="Tech"), story(3), story(4, category="Tech"))
        assert "3 new stories" in latest.next_of("news.new")["raw"]
        assert "2 new stories" in tech.next_of("news.new")["raw"]
    finally:
        latest.close()
        tech.close()


def test_stories_stored_before_the_stream_opened_are_counted_once(live_server, feed):
    rendered_at = news.newest_id()
    add(feed, story(2), story(3))  # while the page was on its way to the browser

    reader = SSEReader(live_server.url, None, fmt="", path=f"/news/stream?after_id={rendered_at}")
    try:
        assert "2 new stories" in reader.next_of("news.new")["raw"]
        add(feed, story(2), story(3), story(4))
        assert "3 new stories" in reader.next_of("news.new")["raw"]
    finally:
        reader.close()


def test_an_unknown_category_has_no_stream(live_server):
    reader = SSEReader(live_server.url, None, fmt="", path="/news/stream?category=gossip")
    try:
        reader.closed.wait(5)
        assert reader.response.status_code == 404
    finally:
        reader.close()
