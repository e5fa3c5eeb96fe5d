"""The catalog pages: browsing, search as you type (a fragment for htmx, the page without
JavaScript), pagination, empty and no-result states, the book page, and covers in the CSP."""

import pytest

from blueberry.jobs import book as book_jobs
from blueberry.services import book as catalog

HTMX = {"HX-Request": "true", "HX-Target": "book-results"}


@pytest.fixture
def sample(app):
    book_jobs.load_sample(if_empty=True)


def test_an_empty_catalog_says_how_to_fill_it(client):
    page = client.get("/books").get_data(as_text=True)
    assert "There are no books yet" in page and "This week" not in page


def test_browsing_shows_categories_bestsellers_and_the_sample_notice(client, sample):
    page = client.get("/books").get_data(as_text=True)
    assert "Sample catalog — set ALADIN_TTB_KEY for the live one." in page
    assert page.count('class="book-row"') == 10 and "채식주의자" in page  # this week's top ten
    assert "/books?category=%EC%86%8C%EC%84%A4/%EC%8B%9C/%ED%9D%AC%EA%B3%A1" in page  # 소설/시/희곡
    assert (
        "img-src 'self' data: blob: https://image.aladin.co.kr"
        in client.get("/books").headers["Content-Security-Policy"]
    )


def test_search_answers_htmx_with_the_list_and_browsers_with_the_page(client, sample):
    fragment = client.get("/books?q=한강", headers=HTMX)
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="book-results"') and "<html" not in html
    assert "HX-Request" in fragment.headers["Vary"]
    assert html.count('class="book-row"') == 6 and "채식주의자" in html and "한강 (지은이)" in html
    page = client.get("/books?q=한강").get_data(as_text=True)
    assert "<html" in page and 'value="한강"' in page and page.count('class="book-row"') == 6


def test_no_result_and_hostile_queries(client, sample):
    empty = client.get("/books?q=zzzz").get_data(as_text=True)
    assert "No books match that." in empty
    for query in ["<script>alert(1)</script>", "%' OR '1'='1", "😀" * 500, "가" * 5000]:
        response = client.get("/books", query_string={"q": query}, headers=HTMX)
        assert response.status_code == 200
        assert "<script>alert" not in response.get_data(as_text=True)
    assert client.get("/books", query_string={"q": "한\x00강"}).status_code == 400  # NUL: refused app-wide


def test_pages_of_twenty(client, sample):
    first = client.get("/books?category=소설/시/희곡", headers=HTMX).get_data(as_text=True)
    assert first.count('class="book-row"') == 20 and "page=2" in first and "page=0" not in first
    last = client.get("/books?category=소설/시/희곡&page=4", headers=HTMX).get_data(as_text=True)
    assert last.count('class="book-row"') == 3 and "page=3" in last and "page=5" not in last  # 63 novels
    assert client.get("/books?page=-5").status_code == 200 and client.get("/books?page=x").status_code == 200


def test_the_book_page(client, sample):
    book = next(b for b in catalog.bestsellers(100) if b.title == "미움받을 용기")
    page = client.get(f"/books/{book.isbn13}").get_data(as_text=True)
    assert "<h1>미움받을 용기</h1>" in page
    assert "기시미 이치로" in page and "고가 후미타케" in page and "전경아" in page and "(옮긴이)" in page
    assert "인플루엔셜" in page and "November 17, 2014" in page and "인문학" in page
    assert "Readers rate it" in page and "#" in page and "from the sample catalog" in page
    assert 'class="cover-placeholder tone-' in page  # the sample has no cover images


@pytest.mark.parametrize("isbn", ["9780000000000", "123", "abc", "97911" + "9" * 50, "9791190000001"])
def test_unknown_isbns_are_404(client, sample, isbn):
    assert client.get(f"/books/{isbn}").status_code == 404
