"""Reading Aladin's replies: credits and their roles, entities, error objects, missing fields,
the exclusion rules on real category paths, and the shipped sample catalog."""

import json
from collections import Counter

import pytest

from blueberry.config import Config
from blueberry.jobs.book import SAMPLE
from blueberry.services import aladin
from tests.fakes.aladin import isbn13, item, reply

EXCLUDED = Config.BOOKS_EXCLUDED_SEGMENTS


@pytest.mark.parametrize(
    ("author", "credits"),
    [
        ("한강 (지은이)", [("한강", "지은이")]),
        (
            "기시미 이치로, 고가 후미타케 (지은이), 전경아 (옮긴이)",
            [("기시미 이치로", "지은이"), ("고가 후미타케", "지은이"), ("전경아", "옮긴이")],
        ),
        (
            "제인 오스틴 (지은이), 윤지관, 전승희 (옮긴이)",
            [("제인 오스틴", "지은이"), ("윤지관", "옮긴이"), ("전승희", "옮긴이")],
        ),
        ("김난도, 전미영 외 (지은이)", [("김난도", "지은이"), ("전미영", "지은이")]),
        (
            "J.K. 롤링 (지은이), 강동혁 (옮긴이), 짐 케이 (그림)",
            [("J.K. 롤링", "지은이"), ("강동혁", "옮긴이"), ("짐 케이", "그림")],
        ),  # fmt: skip
        ("편집부", [("편집부", "")]),  # no role at all
        ("A (지은이), B", [("A", "지은이"), ("B", "")]),  # names after the last role keep none
        ("  한강   (지은이) ,, 한강 (지은이)", [("한강", "지은이")]),  # spaces collapsed, the same credit once
        ("한강 (지은이), 한강 (사진)", [("한강", "지은이"), ("한강", "사진")]),
        ("", []),
    ],
)
def test_credits_take_the_role_that_follows_them(author, credits):
    assert aladin.parse_credits(author) == credits


def test_names_are_normalized_to_nfc():
    decomposed = "\u1112\u1161\u11ab\u1100\u1161\u11bc"  # 한강 as jamo, as some systems send it
    assert aladin.parse_credits(f"{decomposed} (지은이)") == [("한강", "지은이")]


def test_a_reply_may_end_with_a_semicolon_and_carries_entities_decoded_once():
    text = '{"item": [' + json.dumps(item(1)) + "]};\n"
    (raw,) = aladin.parse_reply(text)
    book = aladin.parse_item(raw)
    assert book.title == "책 1 & 이야기"
    assert book.description == "첫 문장 굵게 그리고 &amp;"  # tags dropped; &amp;amp; → &amp;, not &: once
    assert book.credits == [("작가1", "지은이"), ("번역가1", "옮긴이")]
    assert (book.list_price, book.rating, book.best_rank, book.published_on.isoformat()) == (15000, 9, 1, "2024-05-01")
    assert aladin.category_name(book.category_path) == "소설/시/희곡"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"errorCode": 100, "errorMessage": "잘못된 TTBKey 입니다."};', "error 100: 잘못된 TTBKey 입니다."),
        ("<html>점검 중</html>", "not JSON"),
        ("[1, 2]", "not an object"),
        ('{"version": "20131101"}', "no item list"),
        ("", "not JSON"),
    ],
)
def test_a_reply_that_cannot_be_read_stops_with_a_clear_message(text, message):
    with pytest.raises(aladin.AladinError, match=message):
        aladin.parse_reply(text)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"isbn13": ""}, "no isbn13"),
        ({"isbn13": None}, "no isbn13"),
        ({"isbn13": "9791190000001"}, "bad isbn13"),  # the check digit is wrong
        ({"isbn13": "K012345678"}, "bad isbn13"),
        ({"title": "  "}, "no title"),
    ],
)
def test_an_item_that_cannot_be_a_book_is_skipped_with_its_reason(fields, reason):
    with pytest.raises(aladin.SkipItem, match=reason):
        aladin.parse_item(item(1, **fields))


def test_missing_and_odd_fields_do_not_skip_an_item():
    raw = item(2, categoryName=None, customerReviewRank=15, priceStandard="n/a", pubDate="", cover="javascript:x")
    del raw["salesPoint"]
    book = aladin.parse_item(raw)
    assert book.category_path == "" and book.rating is None and book.list_price is None
    assert book.published_on is None and book.cover_url == "" and book.sales_point == 0
    valid = isbn13(3)
    assert aladin.parse_item(item(3, isbn13=f"{valid[:3]}-{valid[3:5]}-{valid[5:]}")).isbn13 == valid


@pytest.mark.parametrize(
    ("path", "adult", "reason"),
    [
        ("국내도서>어린이>동화/명작/고전>국내창작동화", False, "category 어린이"),
        ("국내도서>유아>그림책>나라별 그림책", False, "category 유아"),
        ("국내도서>만화>본격장르만화>판타지", False, "category 만화"),
        ("국내도서>외국어>토익>토익 어휘", False, "category 외국어"),
        ("국내도서>잡지>문학/교양지", False, "category 잡지"),
        ("국내도서>수험서/자격증>공무원 수험서>7/9급 공무원", False, "category 수험서/자격증"),
        ("국내도서>고등학교참고서>고등-영역별>국어", False, "category 고등학교참고서"),
        ("국내도서>소설/시/희곡>한국소설>2000년대 이후 한국소설", True, "adult"),
        ("국내도서>소설/시/희곡>한국소설>2000년대 이후 한국소설", False, None),
        ("국내도서>인문학>심리학/정신분석학>교양 심리학", False, None),
        ("국내도서>에세이>어린이를 위한 에세이", False, None),  # a word inside a segment is not the segment
    ],
)
def test_exclusion_compares_whole_segments_of_real_paths(path, adult, reason):
    book = aladin.parse_item(item(4, categoryName=path, adult=adult))
    assert aladin.excluded(book, EXCLUDED) == reason


def test_the_sample_catalog_is_in_aladins_format_and_good_enough_to_browse():
    raws = aladin.parse_reply(SAMPLE.read_text(encoding="utf-8"))
    books = [aladin.parse_item(raw) for raw in raws]  # every item is readable: none raises
    kept = [book for book in books if aladin.excluded(book, EXCLUDED) is None]
    assert len(kept) >= 100 and len({book.isbn13 for book in books}) == len(books)
    assert all(aladin.valid_isbn13(book.isbn13) for book in books)
    categories = Counter(aladin.category_name(book.category_path) for book in kept)
    assert len(categories) >= 8
    several = [book for book in kept if len({name for name, role in book.credits if role == "지은이"}) > 1]
    translated = [book for book in kept if any(role == "옮긴이" for _, role in book.credits)]
    assert len(several) >= 3 and len(translated) >= 20
    assert len(books) - len(kept) >= 3  # a few items are there to be left out by the rules
    assert reply([])["version"] == "20131101"
