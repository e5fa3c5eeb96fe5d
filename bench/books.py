"""Book catalog benchmark: ingestion time, and search latency over 20,000 books.

    .venv/bin/python bench/books.py [--books 20000] [--queries 400] [--runs 3]
    scripts/with_postgres.sh bash -c 'BENCH_DATABASE_URL=$TEST_POSTGRES_URL .venv/bin/python bench/books.py'

1. Ingestion: 200 items (4 pages of 50) from the local fake Aladin server (tests/fakes), through
   the app's own client and job; each run timed (the first adds, the next find nothing changed).
2. Search: 20,000 generated books (Korean titles from a word list, Korean author names,
   publishers) written with the app's own search key and pieces; then p50 / p99 of
   `book_search.search(q, limit=20)` for 1-character, 2-character Korean, 3+-character infix
   and author queries, each a mix of hits and misses. Target: p99 ≤ 20 ms.

Loopback only, bounded, its own Redis and database (SQLite by default), removed at the end.
Prints Markdown for docs/PERFORMANCE.md.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from blueberry import create_app  # noqa: E402
from blueberry.config import TestConfig  # noqa: E402
from blueberry.extensions import db  # noqa: E402
from blueberry.jobs import book as book_jobs  # noqa: E402
from blueberry.models import Book, BookGram, Category  # noqa: E402
from blueberry.services import book_search  # noqa: E402
from tests.fakes.aladin import TTB_KEY, FakeAladin, isbn13, item  # noqa: E402
from tests.servers import RedisServer  # noqa: E402

WORDS = [
    "사랑",
    "여름",
    "바다",
    "기억",
    "시간",
    "우리",
    "마음",
    "이야기",
    "도시",
    "소년",
    "소녀",
    "겨울",
    "바람",
    "하늘",
    "고양이",
    "빛",
    "밤",
    "아침",
    "편지",
    "정원",
    "서점",
    "여행",
    "나무",
    "꽃",
    "별",
    "강",
    "산",
    "섬",
    "노래",
    "그림자",
    "거울",
    "계절",
    "집",
    "길",
    "친구",
    "엄마",
    "아버지",
    "숲",
    "비",
    "눈",
    "달",
    "새",
    "문",
    "창",
    "역사",
    "철학",
    "과학",
    "경제",
    "심리",
    "인생",
    "습관",
    "생각",
    "질문",
    "대화",
    "세계",
    "미래",
    "기술",
    "자본",
    "행복",
    "용기",
    "불안",
    "죽음",
    "언어",
]
SURNAMES = [
    "김",
    "이",
    "박",
    "최",
    "정",
    "강",
    "조",
    "윤",
    "장",
    "임",
    "한",
    "오",
    "서",
    "신",
    "권",
    "황",
    "안",
    "송",
    "류",
    "홍",
]
GIVEN = [
    "민준",
    "서연",
    "지훈",
    "하은",
    "도윤",
    "수아",
    "예준",
    "지우",
    "시우",
    "하린",
    "주원",
    "서윤",
    "건우",
    "채원",
    "우진",
    "지민",
    "현우",
    "유나",
    "은우",
    "다은",
]
PUBLISHERS = [
    "창비",
    "문학동네",
    "민음사",
    "김영사",
    "은행나무",
    "현대문학",
    "열린책들",
    "위즈덤하우스",
    "한빛비즈",
    "돌베개",
    "사계절",
    "푸른숲",
]
NOVEL = "국내도서>소설/시/희곡>한국소설>2000년대 이후 한국소설"


def make_app(tmp: Path):
    redis_server = RedisServer(tmp / "redis").start()
    database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'books.db'}"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=database, REDIS_URL=redis_server.url, SECRET_KEY="bench")
    config["RQ_DASHBOARD_REDIS_URL"] = redis_server.url
    return create_app(config), redis_server, database


def bench_ingest(app, runs: int) -> list[tuple[str, float, dict]]:
    fake = FakeAladin({page: [item((page - 1) * 50 + n) for n in range(1, 51)] for page in range(1, 5)}).start()
    app.config.update(ALADIN_TTB_KEY=TTB_KEY, ALADIN_BASE_URL=fake.base_url, ALADIN_PAGES=4)
    results = []
    try:
        for number in range(runs):
            started = time.perf_counter()
            counts = book_jobs.ingest_bestsellers()
            results.append((f"run {number + 1}", time.perf_counter() - started, counts))
    finally:
        fake.stop()
    return results


def generate_books(count: int, rng: random.Random) -> list[dict]:
    """Rows for `count` books: titles of 1–4 words, one or two authors, a publisher."""
    category = Category(path=NOVEL, name="소설/시/희곡")
    db.session.add(category)
    db.session.flush()
    rows = []
    for n in range(count):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        names = [rng.choice(SURNAMES) + rng.choice(GIVEN) for _ in range(rng.choice((1, 1, 2)))]
        publisher = rng.choice(PUBLISHERS)
        rows.append({
            "isbn13": isbn13(n, prefix="978900"), "title": title, "publisher": publisher, "source": "sample",
            "sales_point": rng.randint(0, 200_000), "category_id": category.id,
            "search_key": book_search.search_key(title, names, publisher), "_names": names,
        })  # fmt: skip
    return rows


def load_books(rows: list[dict]) -> None:
    for start in range(0, len(rows), 1000):
        batch = rows[start : start + 1000]
        values = [{k: v for k, v in row.items() if not k.startswith("_")} for row in batch]
        ids = list(db.session.scalars(insert(Book).returning(Book.id), values))
        grams = [{"gram": g, "book_id": i} for i, row in zip(ids, batch, strict=True)
                 for g in book_search.grams_of(row["search_key"])]  # fmt: skip
        db.session.execute(insert(BookGram), grams)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))  # what autovacuum does after a bulk load (SQLite needs none)
    db.session.commit()


def queries(rows: list[dict], count: int, rng: random.Random) -> dict[str, list[str]]:
    """Each kind: hits drawn from the books, and a fifth that find nothing."""
    hangul = [chr(c) for c in range(0xAC00, 0xD7A4)]

    def infix() -> str:
        key = rng.choice(rows)["search_key"].split("|")[0]
        if len(key) < 3:
            return key + rng.choice(WORDS)
        length = rng.randint(3, min(6, len(key)))
        start = rng.randint(0, len(key) - length)
        return key[start : start + length]

    def miss(length: int) -> str:
        return "".join(rng.choice(hangul) for _ in range(length))

    def mixed(make, length):
        return [make() if i % 5 else miss(length) for i in range(count)]

    return {
        "1 character": mixed(lambda: rng.choice(rng.choice(WORDS)), 1),
        "2 characters (Korean word)": mixed(lambda: rng.choice([w for w in WORDS if len(w) == 2]), 2),
        "3+ characters (infix)": mixed(infix, 4),
        "author (name)": mixed(lambda: rng.choice(rng.choice(rows)["_names"]), 3),
    }


def bench_search(kinds: dict[str, list[str]]) -> list[tuple[str, float, float, float]]:
    results = []
    for kind, qs in kinds.items():
        for q in qs[:20]:  # warm the caches a little first
            book_search.search(q)
        times, found = [], 0
        for q in qs:
            started = time.perf_counter()
            found += bool(book_search.search(q))
            times.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        results.append((kind, statistics.median(times), p99, found / len(qs)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--books", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(20261202)
    with tempfile.TemporaryDirectory() as tmp:
        app, redis_server, database = make_app(Path(tmp))
        try:
            with app.app_context():
                upgrade()
                kind = db.engine.dialect.name
                ingest = bench_ingest(app, args.runs)
                db.session.execute(text("DELETE FROM book_rank"))
                db.session.execute(text("DELETE FROM book_gram"))
                db.session.execute(text("DELETE FROM book_author"))
                db.session.execute(text("DELETE FROM book"))
                db.session.execute(text("DELETE FROM category"))
                db.session.commit()
                started = time.perf_counter()
                rows = generate_books(args.books, rng)
                load_books(rows)
                loaded_s = time.perf_counter() - started
                search = bench_search(queries(rows, args.queries, rng))
                grams = db.session.scalar(text("SELECT count(*) FROM book_gram"))
                db.engine.dispose()
        finally:
            redis_server.stop()
    print(f"\n### Books on {kind}\n")
    print("| ingestion (200 items, 4 pages) | time | added / updated / unchanged |\n|---|---|---|")
    for name, seconds, counts in ingest:
        print(f"| {name} | {seconds:.2f} s | {counts['added']} / {counts['updated']} / {counts['unchanged']} |")
    print(f"\n{args.books} books, {grams} search pieces, written in {loaded_s:.1f} s.\n")
    print("| query | p50 | p99 | with results |\n|---|---|---|---|")
    for name, p50, p99, hit in search:
        print(f"| {name} | {p50:.2f} ms | {p99:.2f} ms | {hit:.0%} |")


if __name__ == "__main__":
    main()
