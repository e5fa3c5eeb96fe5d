"""The news pages: the list by category with its next pages, a story with its summary, the
reader's choice of summaries, sharing into a conversation, and pictures through the proxy."""

import io
import re
import threading

import pytest
from PIL import Image
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.jobs import news as news_jobs
from blueberry.models import Article, Message
from blueberry.services import news
from blueberry.services.conversation import start_direct
from tests.conftest import get_csrf, login
from tests.fakes.feeds import rss
from tests.news import configure, source, story

HTMX = {"HX-Request": "true"}


@pytest.fixture
def samples(app):
    news_jobs.load_samples(if_empty=True)


@pytest.fixture
def feed(app, fake_feeds):
    """Seven stories from one source, three to a page."""
    app.config["NEWS_PAGE_SIZE"] = 3
    configure(app, source("Feed", fake_feeds.put("/feed.xml", rss([story(n, hours_ago=n) for n in range(1, 8)]))))
    news_jobs.ingest_news()
    return fake_feeds


def story_titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="news-title"><a href="/news/\d+">([^<]+)</a>', html)


def test_anyone_can_read_the_latest_stories_by_category(client, samples):
    page = client.get("/news").get_data(as_text=True)
    books = client.get("/news?category=books").get_data(as_text=True)

    assert len(story_titles(page)) == 20
    assert 'aria-current="page">Latest' in page
    assert story_titles(books) and all(
        db.session.scalar(select(Article).where(Article.title == title)).category.slug == "books"
        for title in story_titles(books)
    )  # fmt: skip
    assert client.get("/news?category=gossip").status_code == 404


def test_the_next_cards_come_as_a_fragment_until_the_last_page(client, feed):
    first = client.get("/news").get_data(as_text=True)
    more = re.search(r'hx-get="(/news\?cursor=[^"]+)"', first)[1].replace("&amp;", "&")
    second = client.get(more, headers=HTMX)
    third_url = re.search(r'hx-get="(/news\?cursor=[^"]+)"', second.get_data(as_text=True))[1].replace("&amp;", "&")
    third = client.get(third_url, headers=HTMX).get_data(as_text=True)

    assert story_titles(first) == ["Story 1", "Story 2", "Story 3"]
    assert story_titles(second.get_data(as_text=True)) == ["Story 4", "Story 5", "Story 6"]
    assert "<html" not in second.get_data(as_text=True) and "HX-Request" in second.headers["Vary"]
    assert story_titles(third) == ["Story 7"] and "news-more" not in third
    assert "<html" in client.get(more).get_data(as_text=True)  # without htmx: a page of its own


def test_a_malformed_cursor_shows_the_first_page(client, feed):
    for cursor in ("9999999999999999999999-x", "²-1", "１２-3", "-1", "12-"):  # ² and １２ are digits, not ASCII
        assert story_titles(client.get(f"/news?cursor={cursor}").get_data(as_text=True))[0] == "Story 1", cursor


def test_a_cached_page_counts_new_stories_from_the_newest_it_was_made_with(client, feed):
    shown_newest = news.newest_id()
    assert f"after_id={shown_newest}" in client.get("/news").get_data(as_text=True)
    first = db.session.scalar(select(Article).where(Article.title == "Story 1"))
    db.session.add(Article(source_id=first.source_id, canonical_url="https://example.com/late", guid="late",
                           title="Late", published_at=first.published_at, language="en"))  # fmt: skip
    db.session.commit()  # stored without refreshing the cache: the cached first page stays as it was

    again = client.get("/news").get_data(as_text=True)

    assert "Late" not in story_titles(again)
    assert f"after_id={shown_newest}" in again  # so its stream counts "Late" as new, not as seen


def test_a_story_page_links_to_the_original_and_escapes_what_the_feed_said(client, app, fake_feeds):
    hostile = story(1, title="Mayor <img src=x onerror=alert(1)> wins", description="Quote: <b>bold</b> & more.")
    configure(app, source("Feed", fake_feeds.put("/f.xml", rss([hostile]))))
    news_jobs.ingest_news()
    article_id = db.session.scalar(select(Article.id))

    page = client.get(f"/news/{article_id}").get_data(as_text=True)

    assert "<h1>Mayor wins</h1>" in page  # markup dropped at ingestion
    assert "onerror" not in page
    assert 'href="https://news.example/1" target="_blank" rel="noopener noreferrer nofollow"' in page
    assert "Quote: bold &amp; more." in page
    assert client.get("/news/999999").status_code == 404


def add_ai_summary(article_id: int) -> None:
    article = db.session.get(Article, article_id)
    news.add_ai_summary(article, {"ko": ["한국어 요점 하나."] * 3, "en": ["English point one."] * 3}, "test-model")
    db.session.commit()


def test_readers_choose_between_ai_summaries_and_the_first_lines(client, app, make_user, feed, rdb):
    article_id = db.session.scalar(select(Article.id).where(Article.title == "Story 1"))
    add_ai_summary(article_id)
    rdb.flushdb()  # the cached cards predate the summary in this test (the summaries job refreshes them)
    make_user("mina", language="ko")
    login(client, "mina")

    with_ai = client.get(f"/news/{article_id}").get_data(as_text=True)
    token = get_csrf(client, "/settings/taste")
    assert client.post("/settings/taste/news", data={"ai_summaries": "0", "csrf_token": token}).status_code == 303
    without = client.get("/news").get_data(as_text=True)

    assert "한국어 요점 하나." in with_ai and "test-model" in with_ai
    assert "한국어 요점 하나." not in without and "First sentence of story 1." in without
    assert client.post("/settings/taste/news", data={"ai_summaries": "1"}).status_code == 400  # no CSRF token


def test_a_story_is_shared_into_my_conversation_as_a_link(client, app, make_user, feed):
    mina, jun, ara = make_user("mina"), make_user("jun"), make_user("ara")
    ours, theirs = start_direct(mina.id, jun.id), start_direct(jun.id, ara.id)
    db.session.commit()
    article_id = db.session.scalar(select(Article.id).where(Article.title == "Story 2"))
    login(client, "mina")
    token = get_csrf(client, f"/news/{article_id}/share")

    outsider = client.post(f"/news/{article_id}/share", data={"conversation": str(theirs.id), "csrf_token": token})
    shared = client.post(f"/news/{article_id}/share",
                         data={"conversation": str(ours.id), "note": "읽어 봐!", "csrf_token": token})  # fmt: skip

    assert outsider.status_code == 404
    assert shared.status_code == 303 and shared.headers["Location"].endswith(f"/conversations/{ours.id}")
    message = db.session.scalar(select(Message).where(Message.conversation_id == ours.id))
    assert message.content == f"Story 2\nhttp://127.0.0.1:5000/news/{article_id}\n읽어 봐!"
    conversation = client.get(f"/conversations/{ours.id}").get_data(as_text=True)
    assert f'<a href="/news/{article_id}">http://127.0.0.1:5000/news/{article_id}</a>' in conversation


def test_sharing_needs_a_login_and_a_csrf_token(client, make_user, feed):
    article_id = db.session.scalar(select(Article.id))
    assert client.get(f"/news/{article_id}/share").status_code == 302
    make_user("mina")
    login(client, "mina")
    assert client.post(f"/news/{article_id}/share", data={"conversation": "x"}).status_code == 400


def png(size=(1200, 800)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(out, "PNG")
    return out.getvalue()


def test_pictures_come_through_the_proxy_shrunk_and_cached(client, app, fake_feeds):
    picture = fake_feeds.put("/pic.png", png(), "image/png")
    not_image = fake_feeds.put("/pic.html", "<html></html>", "text/html")
    items = [story(1, image=picture), story(2, image=not_image), story(3)]
    configure(app, source("Feed", fake_feeds.put("/f.xml", rss(items))))
    news_jobs.ingest_news()
    ids = dict(db.session.execute(select(Article.title, Article.id)).all())

    first = client.get(f"/news/images/{ids['Story 1']}")
    again = client.get(f"/news/images/{ids['Story 1']}")

    assert first.status_code == 200 and first.headers["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(first.data)).size == (800, 533)
    assert again.data == first.data and len(fake_feeds.asked("/pic.png")) == 1
    assert client.get(f"/news/images/{ids['Story 2']}").status_code == 404
    assert client.get(f"/news/images/{ids['Story 3']}").status_code == 404
    page = client.get("/news").get_data(as_text=True)
    assert f'src="/news/images/{ids["Story 1"]}"' in page and picture not in page  # never the publisher's URL


def test_readers_asking_at_once_for_a_new_picture_fetch_it_once(app, fake_feeds):
    picture = fake_feeds.put("/slow.png", png(), "image/png", delay_s=0.5)  # everyone arrives meanwhile
    configure(app, source("Feed", fake_feeds.put("/f.xml", rss([story(1, image=picture)]))))
    news_jobs.ingest_news()
    url = f"/news/images/{db.session.scalar(select(Article.id))}"
    replies, start = [], threading.Barrier(10)

    def read():
        with app.app_context():
            start.wait()
            replies.append(app.test_client().get(url))

    threads = [threading.Thread(target=read) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [reply.status_code for reply in replies] == [200] * 10
    assert len({reply.data for reply in replies}) == 1
    assert len(fake_feeds.asked("/slow.png")) == 1


def test_staff_see_the_news_runs_and_the_cache_counters(client, make_user, feed):
    make_user("boss", is_staff=True)
    login(client, "boss")
    client.get("/news")

    page = client.get("/ops/runs").get_data(as_text=True)

    assert "news.ingest" in page and "new 7" in page
    assert (
        'id="news-cache"' in page and "Hits 1" in page and "written through by ingestion 2" in page
    )  # "all" and "world"
