"""Filling the book catalog: Aladin's bestsellers (daily, on the `ingest` queue, and `flask books
ingest`), or the sample shipped in blueberry/data/ when no key is set.

Every page is fetched and read before anything is written, with no transaction open: a timeout,
a 5xx, an error object or a reply that is not JSON stops the run with its reason and changes
nothing. Then each page is one transaction. The run, its counts and its error go to /ops/runs.
"""

import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app

from blueberry.extensions import db
from blueberry.jobs import job_runs
from blueberry.models import JobRun
from blueberry.services import aladin, runs
from blueberry.services import book as catalog

log = logging.getLogger(__name__)
SAMPLE = Path(__file__).resolve().parent.parent / "data" / "aladin_bestsellers.sample.json"
INGEST_KIND, SAMPLE_KIND = "books.ingest", "books.sample"
# Aladin's lists are Korean weeks and days.
LIST_ZONE = ZoneInfo("Asia/Seoul")

Progress = Callable[[str, int], None]  # (what happened, how many pages so far)


class IngestFailed(Exception):
    """The run stopped; its message is on /ops/runs too."""


def ingest_bestsellers(progress: Progress | None = None) -> dict:
    """Fetch ALADIN_PAGES pages of the bestseller list and store them; the run's counts."""
    config = current_app.config
    if not config["ALADIN_TTB_KEY"]:
        raise IngestFailed("ALADIN_TTB_KEY is not set")
    run_id = job_runs.begin(INGEST_KIND)
    counts = _new_counts()
    try:
        pages = []
        for start in range(1, config["ALADIN_PAGES"] + 1):
            text = aladin.fetch_page(config["ALADIN_BASE_URL"], config["ALADIN_TTB_KEY"], start,
                                     timeout_s=config["ALADIN_TIMEOUT_S"])  # fmt: skip
            pages.append(aladin.parse_reply(text))
            _tell(progress, "fetched", start)
    except aladin.AladinError as error:
        job_runs.abandon(run_id, str(error), counts)
        raise IngestFailed(str(error)) from None
    return _store_pages(run_id, pages, "aladin", counts, progress)


def load_sample(if_empty: bool = True, progress: Progress | None = None) -> dict | None:
    """Load the shipped sample catalog through the same reader; None when the catalog already
    has books and `if_empty`."""
    if if_empty and not catalog.is_empty():
        return None
    run_id = job_runs.begin(SAMPLE_KIND)
    counts = _new_counts()
    try:
        items = aladin.parse_reply(SAMPLE.read_text(encoding="utf-8"))
    except aladin.AladinError as error:
        job_runs.abandon(run_id, str(error), counts)
        raise IngestFailed(str(error)) from None
    return _store_pages(run_id, [items], "sample", counts, progress)


def _store_pages(run_id: int, pages: list[list], source: str, counts: dict, progress: Progress | None) -> dict:
    ranked_on, number = datetime.now(LIST_ZONE).date(), 0
    try:
        for number, items in enumerate(pages, start=1):
            _store_page(items, number, source, ranked_on, counts)
            db.session.commit()
            _tell(progress, "stored", number)
    except Exception as error:  # a database error: this page is rolled back, the run says why
        db.session.rollback()
        job_runs.abandon(run_id, f"page {number} was not stored: {type(error).__name__}", counts)
        raise
    runs.finish(db.session.get(JobRun, run_id), counts)
    db.session.commit()
    log.info("books %s: %s", source, counts)
    return counts


def _store_page(items: list, number: int, source: str, ranked_on: date, counts: dict) -> None:
    excluded_segments = current_app.config["BOOKS_EXCLUDED_SEGMENTS"]
    for index, raw in enumerate(items, start=1):
        counts["fetched"] += 1
        try:
            item = aladin.parse_item(raw)
        except aladin.SkipItem as reason:
            _skip(counts, str(reason))
            continue
        reason = aladin.excluded(item, excluded_segments)
        if reason:
            _skip(counts, reason)
            continue
        item.best_rank = item.best_rank or (number - 1) * aladin.PAGE_SIZE + index
        outcome = catalog.store(item, source, catalog.BESTSELLER, ranked_on)
        counts[outcome] += 1


def _new_counts() -> dict:
    return {"fetched": 0, "added": 0, "updated": 0, "unchanged": 0, "skipped": 0, "skip_reasons": {}}


def _skip(counts: dict, reason: str) -> None:
    counts["skipped"] += 1
    key = reason.split(":", maxsplit=1)[0][:60]  # "bad isbn13: '97…'" counts as "bad isbn13"
    counts["skip_reasons"][key] = counts["skip_reasons"].get(key, 0) + 1


def _tell(progress: Progress | None, what: str, pages: int) -> None:
    if progress:
        progress(what, pages)
