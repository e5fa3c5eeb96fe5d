"""Reading the news: the publishers' feeds (hourly on the `ingest` queue, and `flask news
ingest`), the samples shipped in blueberry/data/news/ when there are no articles, and model
summaries of new stories (on the `ingest` queue too: bulk work stays off the readers' `ai`).

Feeds are fetched a few at a time, with no transaction open, each with a conditional request
(a 304 costs nothing). Then each source is one transaction: a feed that is down, slow, huge or
not a feed is recorded and skipped, and the run goes on. Once a source's stories are committed,
the news pages' cache gets their new version (write-through), the public news topic hears how
many stories came, and their summaries are queued.
"""

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app

from blueberry.extensions import db
from blueberry.jobs import enqueue_on_commit, job_runs
from blueberry.models import JobRun, NewsSource
from blueberry.models.base import utcnow
from blueberry.outbound import Refused, fetch
from blueberry.realtime.events import NEWS_NEW, NEWS_TOPIC, publish_on_commit
from blueberry.services import ai, feeds, news, news_cache, news_categories, news_sources, news_summary, runs

log = logging.getLogger(__name__)
DATA = Path(__file__).resolve().parent.parent / "data" / "news"
INGEST_KIND, SAMPLE_KIND, SUMMARY_KIND = "news.ingest", "news.sample", "news.summaries"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
SUMMARY_BATCH = 20  # articles per summaries job
GIVE_UP_AFTER = 3  # the model failed this many articles in a row: the rest keep their extracts

Progress = Callable[[str, str], None]  # (source name, outcome)


class IngestFailed(Exception):
    """The run could not start (its configuration); the message is on /ops/runs too."""


@dataclass
class Fetch:
    """What fetching one source gave: a body, "not modified", or why it failed."""

    source_id: int
    outcome: str  # "ok", "not modified", or the failure
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""


def ingest_news(progress: Progress | None = None) -> dict:
    """Fetch every configured source and store its new stories; the run's counts."""
    run_id = job_runs.begin(INGEST_KIND)
    try:
        sources = news_sources.sync(news_sources.configured())
        db.session.commit()
    except news_sources.SourceConfigError as error:
        job_runs.abandon(run_id, str(error), {})
        raise IngestFailed(str(error)) from None
    counts = _new_counts()
    for fetched in _fetch_all(sources):
        source = db.session.get(NewsSource, fetched.source_id)
        outcome = _take(source, fetched, counts)
        if progress:
            progress(source.name, outcome)
    runs.finish(db.session.get(JobRun, run_id), counts)
    db.session.commit()
    log.info("news: %s", counts)
    return counts


def _fetch_all(sources: list[NewsSource]):
    """Each source's Fetch as it completes (a slow source does not hold up the others)."""
    config = current_app.config
    settings = {
        "max_bytes": config["NEWS_MAX_FEED_BYTES"], "timeout_s": config["NEWS_FETCH_TIMEOUT_S"],
        "allow_private": config["NEWS_ALLOW_PRIVATE_ADDRESSES"],
    }  # fmt: skip
    wanted = [(source.id, source.feed_url, source.etag, source.last_modified) for source in sources]
    db.session.commit()  # no transaction stays open while the feeds answer
    with ThreadPoolExecutor(max_workers=config["NEWS_FETCH_THREADS"]) as pool:
        # No list of the futures kept here: as_completed lets go of each one it has handed out,
        # and with it that feed's body (up to NEWS_MAX_FEED_BYTES), once it is stored.
        for future in as_completed([pool.submit(fetch_feed, *source, **settings) for source in wanted]):
            yield future.result()


def fetch_feed(source_id: int, url: str, etag: str, last_modified: str, **settings) -> Fetch:
    """GET one feed, conditionally (runs in a fetching thread: no app context, no database)."""
    headers = {"Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        reply = fetch(url, headers=headers, **settings)
    except Refused as error:
        return Fetch(source_id, str(error))
    if reply.status == 304:
        return Fetch(source_id, "not modified")
    if reply.status != 200:
        return Fetch(source_id, f"HTTP {reply.status}")
    return Fetch(source_id, "ok", reply.body, reply.headers.get("etag", "")[:300],
                 reply.headers.get("last-modified", "")[:100])  # fmt: skip


def _take(source: NewsSource, fetched: Fetch, counts: dict) -> str:
    """Store what one source gave, in its own transaction; the outcome, as operators read it."""
    source.last_fetched_at = utcnow()
    outcome = fetched.outcome
    try:
        if outcome == "ok":
            outcome = _store(source, fetched, counts)
        elif outcome == "not modified":
            counts["not_modified"] += 1
        source.last_outcome = outcome[:300]
        if outcome not in ("ok", "not modified"):
            _failed(counts, source, outcome)
        db.session.commit()
    except Exception as error:  # a database error: this source is rolled back, the run goes on
        db.session.rollback()
        _failed(counts, source, f"not stored: {type(error).__name__}")
        log.exception("news: %s was not stored", source.name)
        outcome = "not stored"
    return outcome


def _store(source: NewsSource, fetched: Fetch, counts: dict) -> str:
    try:
        parsed = feeds.parse(fetched.body, utcnow(), base_url=source.feed_url)
    except feeds.FeedError as error:
        return str(error)
    counts["fetched"] += 1
    items = parsed.items[: current_app.config["NEWS_MAX_ITEMS"]]
    stored = news.store(source, items)
    _count(counts, len(items), stored, parsed.skipped)
    source.etag, source.last_modified = fetched.etag, fetched.last_modified
    announce(stored)
    return "ok"


def announce(stored: news.Stored) -> None:
    """Once the new stories are committed: the cache's new version, the public news event, and
    their summaries queued."""
    if not stored.new_ids:
        return
    slugs = {id_: slug for slug, id_ in news_categories.ids().items()}
    per_slug = {slugs[id_]: n for id_, n in stored.by_category.items() if id_ in slugs}
    news_cache.refresh_on_commit({news.ALL, *per_slug})
    publish_on_commit(NEWS_TOPIC, NEWS_NEW, {"categories": per_slug, "total": len(stored.new_ids),
                                             "newest_id": max(stored.new_ids)})  # fmt: skip
    if summaries_wanted():
        for start in range(0, len(stored.new_ids), SUMMARY_BATCH):
            batch = stored.new_ids[start : start + SUMMARY_BATCH]
            enqueue_on_commit("ingest", "blueberry.jobs.news.summarize", batch, job_timeout=1800)


def summaries_wanted() -> bool:
    """Model summaries: a model is configured and the operator has not turned them off."""
    return ai.configured() and current_app.config["NEWS_AI_SUMMARIES"]


def summarize(article_ids: list[int]) -> dict:
    """Ask the model for Korean and English points about each article that has none yet."""
    articles = news.without_ai_summary(article_ids) if summaries_wanted() else []
    if not articles:
        return {}
    run_id = job_runs.begin(SUMMARY_KIND)
    counts = {"articles": len(articles), "summarized": 0, "failed": 0, "tokens_in": 0, "tokens_out": 0,
              "model_ms": 0, "reasons": {}}  # fmt: skip
    scopes, failed_in_a_row = {news.ALL}, 0
    for article in articles:
        if failed_in_a_row >= GIVE_UP_AFTER:
            _reason(counts, "not tried: the model kept failing")
            continue
        if _summarize_one(article, counts):
            failed_in_a_row = 0
            scopes.add(article.category.slug if article.category else news.ALL)
        else:
            failed_in_a_row += 1
    news_cache.refresh_on_commit(scopes)
    runs.finish(db.session.get(JobRun, run_id), counts)
    db.session.commit()
    return counts


def _summarize_one(article, counts: dict) -> bool:
    usage = ai.Usage()
    try:
        points = news_summary.ask_model(article.title, article.excerpt, article.source.name,
                                        current_app.config["NEWS_AI_BUDGET_S"], usage)  # fmt: skip
    except (ai.Unavailable, news_summary.Unusable) as error:
        _reason(counts, str(error).split(":", 1)[0][:60])
        log.warning("news summary of article %s: %s", article.id, error)
        return False
    finally:
        for key in ("tokens_in", "tokens_out", "model_ms"):
            counts[key] += getattr(usage, key)
    news.add_ai_summary(article, points, ai.model_name())
    db.session.commit()
    counts["summarized"] += 1
    return True


def load_samples(if_empty: bool = True, progress: Progress | None = None) -> dict | None:
    """Store the sample feeds shipped in blueberry/data/news/ (read from files, never fetched),
    their newest story dated now; None when there are articles already and `if_empty`."""
    if if_empty and not news.is_empty():
        return None
    run_id = job_runs.begin(SAMPLE_KIND)
    configs = news_sources.read((DATA / "samples.json").read_text(encoding="utf-8"))
    sources = news_sources.sync(configs, enable=False)
    now, counts = utcnow(), _new_counts()
    parsed = [feeds.parse((DATA / config.file).read_bytes(), now, config.url) for config in configs]
    newest = max(item.published_at for feed in parsed for item in feed.items)
    for source, feed in zip(sources, parsed, strict=True):
        for item in feed.items:  # the samples read as today's news
            item.published_at += now - newest - timedelta(minutes=5)
        counts["fetched"] += 1
        stored = news.store(source, feed.items)
        _count(counts, len(feed.items), stored, feed.skipped)
        announce(stored)
        db.session.commit()
        if progress:
            progress(source.name, "ok")
    runs.finish(db.session.get(JobRun, run_id), counts)
    db.session.commit()
    return counts


def _new_counts() -> dict:
    return {"fetched": 0, "not_modified": 0, "failed": 0, "items": 0, "new": 0, "duplicate": 0, "skipped": 0,
            "failures": {}, "skip_reasons": {}}  # fmt: skip


def _count(counts: dict, items: int, stored: news.Stored, skipped: dict[str, int]) -> None:
    counts["items"] += items
    counts["new"] += len(stored.new_ids)
    counts["duplicate"] += stored.duplicate
    for reason, n in skipped.items():
        counts["skipped"] += n
        counts["skip_reasons"][reason] = counts["skip_reasons"].get(reason, 0) + n


def _failed(counts: dict, source: NewsSource, reason: str) -> None:
    counts["failed"] += 1
    counts["failures"][source.name[:60]] = reason[:200]
    log.warning("news: %s skipped: %s", source.name, reason)


def _reason(counts: dict, reason: str) -> None:
    counts["failed"] += 1
    counts["reasons"][reason] = counts["reasons"].get(reason, 0) + 1
