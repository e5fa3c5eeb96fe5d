"""The news pages' cache against the real Redis: hits and misses, a version bump written through
by ingestion, Redis down, and 50 concurrent misses filled once."""

import threading
import time

import pytest

from blueberry.jobs import news as news_jobs
from blueberry.services import news, news_cache
from tests.conftest import _config
from tests.fakes.feeds import rss
from tests.news import configure, source, story
from tests.servers import wait_for


class CountingLoad:
    """The SQL loader of a scope, counting how often the cache had to call it."""

    def __init__(self, scope: str = news.ALL, delay_s: float = 0.0):
        self.inner, self.delay_s, self.calls = news.loader(scope), delay_s, 0
        self.lock = threading.Lock()

    def __call__(self, cursor):
        with self.lock:
            self.calls += 1
        time.sleep(self.delay_s)
        return self.inner(cursor)


@pytest.fixture
def stories(app, fake_feeds):
    app.config["NEWS_PAGE_SIZE"] = 3
    feed = fake_feeds.put("/feed.xml", rss([story(n, hours_ago=n) for n in range(1, 8)]))
    configure(app, source("Feed", feed))
    news_jobs.ingest_news()
    return fake_feeds


def titles(page) -> list[str]:
    return [card["title"] for card in page["cards"]]


def test_a_miss_is_filled_from_sql_once_and_then_hit(app, stories, rdb):
    rdb.flushdb()  # forget what ingestion wrote through: a cold cache
    load = CountingLoad()

    first = news_cache.page(news.ALL, None, load)
    second = news_cache.page(news.ALL, None, load)

    assert titles(first) == titles(second) == ["Story 1", "Story 2", "Story 3"]
    assert load.calls == 1
    stats = news_cache.stats()
    assert (stats["misses"], stats["hits"], stats["fills"]) == (1, 1, 1)
    assert titles(news_cache.page(news.ALL, second["next"], load)) == ["Story 4", "Story 5", "Story 6"]
    assert load.calls == 2  # another page is another key


def test_ingestion_writes_the_new_version_through_so_readers_never_miss(app, stories, rdb):
    before = int(rdb.get("bb:news:v:all"))
    stories.put("/feed.xml", rss([story(0, hours_ago=0)] + [story(n, hours_ago=n) for n in range(1, 8)]))
    load = CountingLoad()

    news_jobs.ingest_news()

    assert int(rdb.get("bb:news:v:all")) == before + 1
    first = news_cache.page(news.ALL, None, load)
    assert titles(first) == ["Story 0", "Story 1", "Story 2"]
    assert titles(news_cache.page(news.ALL, first["next"], load)) == ["Story 3", "Story 4", "Story 5"]
    assert load.calls == 0  # both first pages were written by ingestion
    assert titles(news_cache.page("world", None, CountingLoad("world")))[0] == "Story 0"


def test_nothing_new_leaves_the_version_alone(app, stories, rdb):
    before = rdb.get("bb:news:v:all")

    news_jobs.ingest_news()

    assert rdb.get("bb:news:v:all") == before


def test_only_cursors_the_pages_handed_out_are_cached(app, stories, rdb):
    rdb.flushdb()
    load = CountingLoad()
    first = news_cache.page(news.ALL, None, load)
    made_up = f"{int(time.time() * 1_000_000)}-99999"  # well formed, but no page ever said it

    for _ in range(3):
        assert titles(news_cache.page(news.ALL, made_up, load)) == ["Story 1", "Story 2", "Story 3"]
    news_cache.page(news.ALL, first["next"], load)
    news_cache.page(news.ALL, first["next"], load)

    assert load.calls == 1 + 3 + 1  # the made-up cursor read SQL each time; the real one once
    assert not [key for key in rdb.scan_iter("bb:news:all:page:*") if key.endswith(made_up)]
    assert news_cache.stats()["strays"] == 3


def test_versions_move_forward_even_if_their_sequence_was_lost(app, stories, rdb):
    current = int(rdb.get("bb:news:v:all"))
    rdb.delete("bb:news:vseq:all")  # evicted, say, while the current version stayed

    version = news_cache.write_through(rdb, news.ALL, news.loader(news.ALL))

    assert version == current + 1 and int(rdb.get("bb:news:v:all")) == current + 1


def test_fifty_concurrent_misses_fill_once(app, stories, rdb):
    rdb.flushdb()
    load = CountingLoad(delay_s=0.2)  # a slow SQL read: everyone arrives while it runs
    results, start = [], threading.Barrier(50)

    def read():
        with app.app_context():
            start.wait()
            results.append(titles(news_cache.page(news.ALL, None, load)))

    threads = [threading.Thread(target=read) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert load.calls == 1
    assert results == [["Story 1", "Story 2", "Story 3"]] * 50
    stats = news_cache.stats()
    assert (stats["fills"], stats["waited"], stats.get("gave_up", 0)) == (1, 49, 0)


def test_a_latecomer_finds_the_page_rather_than_filling_it_again(app, stories, rdb):
    # A fast SQL read: the first filler may be done before a latecomer, who saw the page missing,
    # asks for the lock. Seeing the miss and taking the lock must be one step, or it fills again.
    load = CountingLoad()
    rounds, readers = 10, 30
    for _ in range(rounds):
        rdb.flushdb()
        start = threading.Barrier(readers)

        def read(start=start):
            with app.app_context():
                start.wait()
                news_cache.page(news.ALL, None, load)

        threads = [threading.Thread(target=read) for _ in range(readers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert load.calls == rounds  # one fill a round


def test_a_filler_that_takes_too_long_does_not_hold_the_others_up(app, stories, rdb):
    rdb.flushdb()
    app.config["NEWS_CACHE_WAIT_S"] = 0.1
    slow = CountingLoad(delay_s=0.5)
    filler = threading.Thread(target=lambda: _in_context(app, lambda: news_cache.page(news.ALL, None, slow)))
    filler.start()
    assert wait_for(lambda: any(rdb.scan_iter("bb:news:all:fill:*")), 5, every=0.01)  # it holds the lock
    started = time.monotonic()

    page = news_cache.page(news.ALL, None, CountingLoad())

    assert time.monotonic() - started < 0.4
    assert titles(page) == ["Story 1", "Story 2", "Story 3"]
    filler.join()
    assert news_cache.stats()["gave_up"] == 1


def _in_context(app, work):
    with app.app_context():
        work()


def test_the_cache_turned_off_reads_sql_every_time(app, stories):
    app.config["NEWS_CACHE"] = False
    load = CountingLoad()

    news_cache.page(news.ALL, None, load)
    news_cache.page(news.ALL, None, load)

    assert load.calls == 2


@pytest.fixture
def app_config(request, database_url, redis_server):
    if "own_redis" in request.fixturenames:
        return _config(database_url, request.getfixturevalue("own_redis").url, REDIS_BREAKER_COOLDOWN=0.2)
    return _config(database_url, redis_server.url)


def test_with_redis_down_pages_come_from_sql_and_ingestion_still_stores(app, fake_feeds, own_redis):
    app.config["NEWS_PAGE_SIZE"] = 3
    configure(app, source("Feed", fake_feeds.put("/feed.xml", rss([story(n) for n in range(1, 5)]))))
    own_redis.stop()

    counts = news_jobs.ingest_news()
    page = news_cache.page(news.ALL, None, news.loader(news.ALL))

    assert counts["new"] == 4
    assert titles(page) == ["Story 1", "Story 2", "Story 3"]
    assert news_cache.stats() == {}
