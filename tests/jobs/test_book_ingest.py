"""Ingesting Aladin's bestsellers from a local server that speaks its format, through the app's
own client: four pages of 50, idempotent upserts, ranks by day, runs on record, and every kind
of bad reply stopping the run with nothing written and no key anywhere."""

import logging
import re

import pytest
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.models import Author, Book, BookAuthor, BookRank, Category, JobRun
from blueberry.services import book as catalog
from tests.fakes.aladin import TTB_KEY, item

KIDS = "국내도서>어린이>동화/명작/고전>국내창작동화"


@pytest.fixture
def aladin(app, fake_aladin):
    fake_aladin.pages = {page: [item((page - 1) * 50 + n) for n in range(1, 51)] for page in range(1, 5)}
    app.config.update(ALADIN_TTB_KEY=TTB_KEY, ALADIN_BASE_URL=fake_aladin.base_url, ALADIN_PAGES=4)
    return fake_aladin


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_four_pages_of_fifty_become_two_hundred_books_once(aladin):
    counts = book_jobs.ingest_bestsellers()
    assert (counts["fetched"], counts["added"], counts["skipped"]) == (200, 200, 0)
    assert [int(r["Start"]) for r in aladin.requests] == [1, 2, 3, 4]
    first = aladin.requests[0]
    assert {k: first[k] for k in ("QueryType", "SearchTarget", "MaxResults", "Cover", "output", "Version")} == {
        "QueryType": "Bestseller", "SearchTarget": "Book", "MaxResults": "50", "Cover": "Big", "output": "js",
        "Version": "20131101",
    }  # fmt: skip
    before = {table: count(table) for table in (Book, Author, BookAuthor, Category, BookRank)}
    assert before == {Book: 200, Author: 400, BookAuthor: 400, Category: 1, BookRank: 200}

    again = book_jobs.ingest_bestsellers()  # the same list again: the same rows
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 200)
    assert {table: count(table) for table in before} == before
    book = catalog.get(item(7)["isbn13"])
    assert book.title == "책 7 & 이야기" and book.source == "aladin" and book.category.name == "소설/시/희곡"
    assert [(c.author.name, c.role, c.position) for c in book.credits] == [
        ("작가7", "지은이", 0),
        ("번역가7", "옮긴이", 1),
    ]
    assert [b.isbn13 for b in catalog.bestsellers(3)] == [item(n)["isbn13"] for n in (1, 2, 3)]
    runs = db.session.scalars(select(JobRun).order_by(JobRun.id)).all()
    assert [(r.kind, r.status, r.counts["added"]) for r in runs] == [
        ("books.ingest", "ok", 200),
        ("books.ingest", "ok", 0),
    ]


def test_a_changed_item_is_updated_in_place(aladin):
    book_jobs.ingest_bestsellers()
    aladin.pages[1][0] = item(1, title="새 제목", author="작가1 (지은이)", bestRank=5)
    counts = book_jobs.ingest_bestsellers()
    assert (counts["updated"], counts["unchanged"]) == (1, 199)
    book = catalog.get(item(1)["isbn13"])
    assert book.title == "새 제목" and [c.author.name for c in book.credits] == ["작가1"]
    assert catalog.rank_history(book)[0].rank == 5  # today's rank, one row a day
    assert count(Book) == 200 and count(BookRank) == 200


def test_bad_items_and_unfit_categories_are_skipped_and_counted(aladin):
    aladin.pages = {1: [item(1), item(2, isbn13="9791190000001"), item(3, categoryName=KIDS), item(4, adult=True),
                        item(5, categoryName=None), "not an item"]}  # fmt: skip
    counts = book_jobs.ingest_bestsellers()
    assert (counts["fetched"], counts["added"], counts["skipped"]) == (6, 2, 4)
    assert counts["skip_reasons"] == {"bad isbn13": 1, "category 어린이": 1, "adult": 1, "not an object": 1}
    assert catalog.get(item(5)["isbn13"]).category is None  # no category: kept, just not browsable


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ("error_object", "Aladin refused the request: error 100"),
        ("http_500", "Aladin answered HTTP 500 for page 3"),
        ("not_json", "Aladin's reply is not JSON"),
        ("slow", "Aladin did not answer within 0.5 s (page 3)"),
    ],
)
def test_a_bad_reply_stops_the_run_and_writes_nothing(app, aladin, caplog, failure, message):
    app.config["ALADIN_TIMEOUT_S"] = 0.5
    aladin.fail_next = ["", "", failure] if failure != "error_object" else [failure]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(book_jobs.IngestFailed, match=re.escape(message)):
        book_jobs.ingest_bestsellers()
    assert count(Book) == 0 and count(Category) == 0  # pages 1 and 2 were fine, and still not written
    run = db.session.scalar(select(JobRun))
    assert run.status == "failed" and message in run.error and run.finished_at is not None
    assert TTB_KEY not in run.error and TTB_KEY not in caplog.text


def test_a_wrong_key_is_refused_without_showing_it(app, aladin):
    app.config["ALADIN_TTB_KEY"] = "ttbwrong-key"
    with pytest.raises(book_jobs.IngestFailed) as error:
        book_jobs.ingest_bestsellers()
    assert "잘못된 TTBKey" in str(error.value) and "ttbwrong-key" not in str(error.value)


def test_the_command_shows_progress_and_a_summary(app, aladin):
    result = app.test_cli_runner().invoke(args=["books", "ingest"])
    assert result.exit_code == 0, result.output
    assert "200 fetched, 200 added, 0 updated, 0 unchanged, 0 skipped" in result.output
    aladin.fail_next = ["error_object"]
    failed = app.test_cli_runner().invoke(args=["books", "ingest"])
    assert failed.exit_code == 1 and "nothing was written: Aladin refused the request" in failed.output
    assert TTB_KEY not in failed.output


def test_the_sample_loads_once_into_an_empty_catalog(app):
    counts = book_jobs.load_sample(if_empty=True)
    assert counts["added"] >= 100 and counts["skipped"] >= 3
    assert book_jobs.load_sample(if_empty=True) is None
    assert catalog.only_sample() and len(catalog.categories()) >= 8
    assert db.session.scalar(select(JobRun.kind)) == "books.sample"
