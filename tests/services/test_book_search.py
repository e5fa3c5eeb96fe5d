"""Search over title, authors and publisher: one and two Korean characters, partial words,
infixes, Latin in any case, and input of any length or alphabet, on SQLite and PostgreSQL."""

from datetime import date

import pytest
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.models import BookGram
from blueberry.services import book as catalog
from blueberry.services.aladin import BookItem
from blueberry.services.book_search import search
from tests.fakes.aladin import isbn13

NOVEL, ESSAY = "국내도서>소설/시/희곡>한국소설", "국내도서>에세이>한국에세이"
BOOKS = [
    ("채식주의자", [("한강", "지은이")], "창비", NOVEL, 900),
    ("소년이 온다", [("한강", "지은이")], "창비", NOVEL, 800),
    ("해리 포터와 마법사의 돌", [("J.K. 롤링", "지은이"), ("강동혁", "옮긴이")], "문학수첩", NOVEL, 700),
    ("The Great Gatsby", [("F. Scott Fitzgerald", "")], "Scribner", NOVEL, 600),
    ("한국의 강 이야기", [("김하늘", "지은이")], "푸른숲", ESSAY, 500),
    ("100% 인생", [("박하나", "지은이")], "푸른숲", ESSAY, 400),
    ("여행의 이유", [("김영하", "지은이")], "문학동네", ESSAY, 300),
    ("이야기의 힘", [("최서연", "지은이")], "민음사", NOVEL, 100),
]


@pytest.fixture
def shelf(app):
    for n, (title, credits, publisher, path, sales) in enumerate(BOOKS, start=1):
        item = BookItem(isbn13=isbn13(n), title=title, credits=credits, publisher=publisher, category_path=path,
                        sales_point=sales, best_rank=n)  # fmt: skip
        catalog.store(item, "sample", catalog.BESTSELLER, date(2026, 12, 1))
    db.session.commit()


def titles(query: str, **kwargs) -> list[str]:
    return [book.title for book in search(query, **kwargs)]


def test_two_korean_characters_find_an_author_and_a_partial_title(shelf):
    assert titles("한강") == ["채식주의자", "소년이 온다"]  # her books; not 한국의 강 (not adjacent)
    assert titles("해리") == ["해리 포터와 마법사의 돌"]
    assert titles("포터") == ["해리 포터와 마법사의 돌"]
    assert titles("롤링") == ["해리 포터와 마법사의 돌"]  # an author
    assert titles("창비") == ["채식주의자", "소년이 온다"]  # a publisher


def test_one_character_and_spaces_as_people_type_them(shelf):
    assert titles("강") == ["채식주의자", "소년이 온다", "해리 포터와 마법사의 돌", "한국의 강 이야기"]  # by sales
    assert titles("해리포터") == titles("해리 포터") == titles("  해리   포터 ") == ["해리 포터와 마법사의 돌"]
    assert titles("마법사의돌") == ["해리 포터와 마법사의 돌"]


def test_three_or_more_characters_match_inside_words_and_latin_in_any_case(shelf):
    assert titles("주의자") == ["채식주의자"]
    assert titles("great gats") == ["The Great Gatsby"]
    assert titles("FITZGERALD") == ["The Great Gatsby"]
    assert titles("atsb") == ["The Great Gatsby"]
    assert titles("여행의 이유를") == []  # every character counts


def test_titles_that_start_with_the_query_come_first(shelf):
    assert titles("이야기") == ["이야기의 힘", "한국의 강 이야기"]  # though it sells less
    assert titles("이") == ["소년이 온다", "한국의 강 이야기", "여행의 이유", "이야기의 힘"]  # one character: by sales


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("%", 8),
        ("_", 8),
        ("\\", 8),
        ("\x00", 8),
        ("   ", 8),  # nothing left to look for: the whole shelf
        ("' OR 1=1 --", 0),
        ('"', 0),
        ("😀", 0),
        ("🫐🫐", 0),
        ("ㅎ", 0),
        ("a" * 10_000, 0),
        ("한" * 3_000, 0),
    ],
)
def test_any_input_is_safe(shelf, query, found):
    assert len(titles(query, limit=10)) == found


def test_wildcards_are_characters(shelf):
    assert titles("100%") == ["100% 인생"]
    assert titles("0%인") == ["100% 인생"]  # % is dropped from both sides: it never stands for "anything"
    assert titles("한\x00강") == ["채식주의자", "소년이 온다"]


def test_category_and_pages(shelf):
    assert titles("", category="에세이") == ["한국의 강 이야기", "100% 인생", "여행의 이유"]
    first = search("", limit=3)
    assert len(first) == 4  # one more than the page: there is a next page
    assert [b.title for b in search("", limit=3, offset=3)][:1] == ["The Great Gatsby"]


def test_a_new_title_replaces_its_pieces(shelf):
    item = BookItem(isbn13=isbn13(7), title="산책의 이유", credits=[("김영하", "지은이")], publisher="문학동네",
                    category_path=ESSAY, sales_point=300, best_rank=7)  # fmt: skip
    assert catalog.store(item, "sample", catalog.BESTSELLER, date(2026, 12, 1)) == "updated"
    db.session.commit()
    assert titles("여행") == [] and titles("산책") == ["산책의 이유"]
    book = catalog.get(isbn13(7))
    grams = set(db.session.scalars(select(BookGram.gram).where(BookGram.book_id == book.id)))
    assert "여행" not in grams and "산책" in grams and "|" not in "".join(grams)
    assert db.session.scalar(select(func.count()).select_from(BookGram).where(BookGram.book_id == book.id)) == len(
        grams
    )
