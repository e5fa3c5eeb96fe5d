"""News ingestion against local publishers (tests/fakes/feeds.py): RSS and Atom read and mapped
to categories, one article per story, conditional requests, and every kind of bad feed skipped
while the run goes on."""

import json
import socket
import tracemalloc

import pytest
from sqlalchemy import func, select

from blueberry.extensions import db, get_redis
from blueberry.jobs import news as news_jobs
from blueberry.models import Article, ArticleSummary, JobRun, NewsCategory, NewsSource
from blueberry.outbound import Refused, fetch, is_public
from blueberry.realtime.events import NEWS_TOPIC
from tests.fakes.feeds import ATOM_TYPE, atom, rss
from tests.news import configure, source, story


def articles() -> list[Article]:
    return list(db.session.scalars(select(Article).order_by(Article.id)))


def slug_of(article: Article) -> str | None:
    return article.category.slug if article.category else None


def test_rss_and_atom_are_stored_with_their_categories_and_extracts(app, fake_feeds):
    world = fake_feeds.put("/world.xml", rss([story(1, category="Science"), story(2, category="Elsewhere")]))
    books = fake_feeds.put("/books.atom", atom([story(3, category="Reviews")]), ATOM_TYPE)
    configure(app, source("World", world, sections={"Science": "science"}),
              source("Books", books, language="ko", category="books"))  # fmt: skip

    counts = news_jobs.ingest_news()

    assert (counts["fetched"], counts["new"], counts["duplicate"], counts["failed"]) == (2, 3, 0, 0)
    stored = {article.title: article for article in articles()}
    assert slug_of(stored["Story 1"]) == "science"  # the feed's own section, mapped
    assert slug_of(stored["Story 2"]) == "world"  # an unmapped section: the source's category
    assert slug_of(stored["Story 3"]) == "books"
    assert stored["Story 3"].language == "ko" and stored["Story 3"].author == "Reporter 3"
    extract = db.session.scalar(select(ArticleSummary).where(ArticleSummary.article_id == stored["Story 1"].id))
    assert (extract.kind, extract.model, extract.language) == ("extractive", "extractive", "en")
    assert extract.points == ["First sentence of story 1.", "Second sentence.", "Third sentence."]
    run = db.session.scalar(select(JobRun).where(JobRun.kind == "news.ingest"))
    assert run.status == "ok" and run.counts["new"] == 3


def test_a_story_in_two_feeds_or_fetched_twice_is_one_article(app, fake_feeds):
    first = fake_feeds.put("/a.xml", rss([story(1), story(2)]))
    # The same story with tracking parameters and a fragment, and story 2's guid under a new link.
    again = story(1, link="https://NEWS.example:443/1?utm_source=rss&at_medium=feed#top", guid="other-1")
    second = fake_feeds.put("/b.xml", rss([again, story(3)]))
    configure(app, source("A", first), source("B", second))

    counts = news_jobs.ingest_news()
    fake_feeds.put("/a.xml", rss([story(1), story(2, link="https://news.example/2-moved"), story(4)]))
    again = news_jobs.ingest_news()

    assert (counts["new"], counts["duplicate"]) == (3, 1)
    assert (again["new"], again["duplicate"]) == (1, 4)  # story 2 is known by its guid in source A
    # Feeds are stored in the order they answer: which source keeps story 1 may vary.
    assert sorted(a.canonical_url for a in articles()) == [f"https://news.example/{n}" for n in range(1, 5)]


def test_unchanged_feeds_answer_304_to_the_conditional_requests(app, fake_feeds):
    by_etag = fake_feeds.put("/etag.xml", rss([story(1)]), etag='"v1"')
    by_date = fake_feeds.put("/date.xml", rss([story(2)]), last_modified="Wed, 02 Dec 2026 10:00:00 GMT")
    configure(app, source("ETag", by_etag), source("Date", by_date))

    news_jobs.ingest_news()
    counts = news_jobs.ingest_news()

    assert (counts["not_modified"], counts["fetched"], counts["new"]) == (2, 0, 0)
    assert fake_feeds.asked("/etag.xml")[-1]["if-none-match"] == '"v1"'
    assert fake_feeds.asked("/date.xml")[-1]["if-modified-since"] == "Wed, 02 Dec 2026 10:00:00 GMT"
    assert db.session.scalar(select(NewsSource).where(NewsSource.name == "ETag")).last_outcome == "not modified"


def bomb() -> str:
    """A billion laughs: nine levels of ten references each."""
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{laughs}]><rss version="2.0"><channel>'
            "<title>&l9;</title><item><title>x</title><link>https://news.example/bomb</link></item>"
            "</channel></rss>")  # fmt: skip


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_bad_feeds_are_recorded_and_skipped_while_the_others_are_stored(app, fake_feeds):
    # A fetch's deadline is wall-clock time: 2 s, so that a loaded machine never times out the
    # quick ones, and a slow feed well beyond it.
    app.config.update(NEWS_FETCH_TIMEOUT_S=2, NEWS_MAX_FEED_BYTES=20_000)
    good = fake_feeds.put("/good.xml", rss([story(1)]))
    bad = {
        "Down": f"http://127.0.0.1:{closed_port()}/feed.xml",
        "Slow": fake_feeds.put("/slow.xml", rss([story(2)]), delay_s=6),
        "Broken": fake_feeds.put("/broken.xml", "", status=500),
        "Not XML": fake_feeds.put("/page.html", "<html><body><p>Hello</p></body></html>", "text/html"),
        "Huge": fake_feeds.put("/huge.xml", rss([story(n) for n in range(3, 400)])),
        "Bomb": fake_feeds.put("/bomb.xml", bomb()),
    }
    configure(app, source("Good", good), *(source(name, url) for name, url in bad.items()))

    counts = news_jobs.ingest_news()

    assert [a.title for a in articles()] == ["Story 1"]
    assert (counts["new"], counts["failed"]) == (1, 6)
    failures = counts["failures"]
    assert failures["Down"].startswith("could not be reached")
    assert failures["Slow"] == "timed out"
    assert failures["Broken"] == "HTTP 500"
    assert failures["Not XML"].startswith("not an RSS or Atom feed")
    assert failures["Huge"] == "larger than 20000 bytes"
    assert failures["Bomb"] == "the document declares XML entities"
    assert db.session.scalar(select(JobRun)).status == "ok"


def test_markup_in_a_feed_is_kept_as_text_and_items_without_link_or_date_are_skipped(app, fake_feeds):
    hostile = story(1, title="<script>alert('t')</script>Council <b>votes</b>",
                    description="<p>Budget passes.</p><img src=x onerror=alert(1)><script>steal()</script>"
                                "<p>More.</p>")  # fmt: skip
    feed = fake_feeds.put("/hostile.xml", rss([hostile, story(2, link=None), story(3, date=None)]))
    configure(app, source("Hostile", feed))

    counts = news_jobs.ingest_news()

    (article,) = articles()
    assert article.title == "Council votes"
    assert article.excerpt == "Budget passes. More."
    assert "<" not in article.title + article.excerpt
    assert counts["skip_reasons"] == {"no link": 1, "no date": 1}


def test_private_addresses_are_refused_unless_allowed(app, fake_feeds):
    url = fake_feeds.put("/feed.xml", rss([story(1)]))
    app.config["NEWS_ALLOW_PRIVATE_ADDRESSES"] = False
    configure(app, source("Local", url))

    counts = news_jobs.ingest_news()

    assert counts["failures"] == {"Local": "127.0.0.1 is a private or local address"}
    assert fake_feeds.asked("/feed.xml") == []
    with pytest.raises(Refused, match="private or local"):
        fetch("http://localhost:1/", max_bytes=10, timeout_s=1)


@pytest.mark.parametrize(("address", "public"), [
    ("93.184.215.14", True), ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True), ("127.0.0.1", False),
    ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False), ("169.254.169.254", False),
    ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False), ("fd00::1", False), ("fe80::1%eth0", False),
    ("::ffff:127.0.0.1", False), ("224.0.0.1", False),
    # IPv4 inside IPv6: NAT64, 6to4, the IPv4-compatible form, Teredo; and site-local
    ("64:ff9b::a9fe:a9fe", False), ("64:ff9b::5db8:d70e", True), ("2002:a9fe:a9fe::", False), ("::7f00:1", False),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False), ("fec0::1", False),
])  # fmt: skip
def test_only_public_addresses_count_as_public(address, public):
    assert is_public(address) is public


def test_gzip_is_read_within_the_cap_and_other_encodings_are_refused(app, fake_feeds):
    url = fake_feeds.put("/feed.xml", rss([story(n) for n in range(1, 4)]), encoding="gzip")
    bomb = fake_feeds.put("/bomb.xml", b"<rss>" + b" " * 50_000_000 + b"</rss>", encoding="gzip")
    odd = fake_feeds.put("/br.xml", b"not really brotli", encoding="br")

    fetched = fetch(url, max_bytes=100_000, timeout_s=5, allow_private=True)
    assert fetched.headers["content-encoding"] == "gzip" and fetched.body.startswith(b"<?xml")
    assert fake_feeds.asked("/feed.xml")[0]["accept-encoding"] == "gzip"
    tracemalloc.start()
    try:
        with pytest.raises(Refused, match="larger than 5000000 bytes"):
            fetch(bomb, max_bytes=5_000_000, timeout_s=10, allow_private=True)  # 50 kB on the wire
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000  # never much more than the cap in memory, whatever it expands to
    with pytest.raises(Refused, match="sent br-encoded"):
        fetch(odd, max_bytes=100_000, timeout_s=5, allow_private=True)
    configure(app, source("Zipped", url))
    assert news_jobs.ingest_news()["new"] == 3


def test_a_redirect_is_checked_like_the_first_address(app, fake_feeds):
    fake_feeds.put("/feed.xml", rss([story(1)]))
    with pytest.raises(Refused, match="only http and https"):
        fetch("file:///etc/passwd", max_bytes=100, timeout_s=1, allow_private=True)
    with pytest.raises(Refused, match="credentials"):
        fetch(fake_feeds.url("/feed.xml").replace("http://", "http://user:pw@"), max_bytes=100, timeout_s=1,
              allow_private=True)  # fmt: skip


def test_a_configuration_that_cannot_be_read_fails_the_run_with_its_reason(app):
    app.config["NEWS_SOURCES"] = json.dumps([{"name": "X", "url": "https://x.example/", "language": "en",
                                               "category": "gossip"}])  # fmt: skip

    with pytest.raises(news_jobs.IngestFailed, match="unknown category 'gossip'"):
        news_jobs.ingest_news()

    run = db.session.scalar(select(JobRun))
    assert run.status == "failed" and "gossip" in run.error


def test_a_source_leaving_the_configuration_is_disabled_and_keeps_its_articles(app, fake_feeds):
    first, second = fake_feeds.put("/1.xml", rss([story(1)])), fake_feeds.put("/2.xml", rss([story(2)]))
    configure(app, source("One", first), source("Two", second))
    news_jobs.ingest_news()
    configure(app, source("Two", second))

    news_jobs.ingest_news()

    enabled = dict(db.session.execute(select(NewsSource.name, NewsSource.enabled)).all())
    assert enabled == {"One": False, "Two": True}
    assert len(articles()) == 2
    assert len(fake_feeds.asked("/1.xml")) == 1


def test_samples_are_loaded_once_and_read_as_todays_news(app):
    counts = news_jobs.load_samples(if_empty=True)

    assert counts["new"] == 25 and counts["skipped"] == 0
    assert news_jobs.load_samples(if_empty=True) is None
    slugs = set(db.session.scalars(select(NewsCategory.slug).join(Article, Article.category_id == NewsCategory.id)))
    assert {"politics", "business", "society", "technology", "science", "health", "world", "culture", "books",
            "sports"} <= slugs  # fmt: skip
    newest = db.session.scalar(select(func.max(Article.published_at)))
    assert (db.session.scalar(select(func.now())) is not None) and newest is not None
    assert not any(source.enabled for source in db.session.scalars(select(NewsSource)))


def test_new_stories_are_announced_on_the_public_news_topic_after_the_commit(app, fake_feeds):
    feed = fake_feeds.put("/feed.xml", rss([story(1, category="Tech"), story(2), story(3)]))
    configure(app, source("Feed", feed, sections={"tech": "technology"}))
    pubsub = get_redis().pubsub()
    pubsub.subscribe(NEWS_TOPIC)
    pubsub.get_message(timeout=1)

    news_jobs.ingest_news()
    news_jobs.ingest_news()  # nothing new: nothing announced

    messages = []
    while (message := pubsub.get_message(timeout=0.3)) is not None:
        messages.append(json.loads(message["data"].split("\n", 1)[1]))
    newest = max(a.id for a in articles())
    assert messages == [{"type": "news.new", "data": {
        "categories": {"technology": 1, "world": 2}, "total": 3, "newest_id": newest}}]  # fmt: skip
