"""A fake Aladin Open API: a real HTTP server answering `GET /ttb/api/ItemList.aspx` the way
Aladin does (js output ending with `;`, HTML entities in strings, an error object with HTTP
200 for a bad key, pages of at most 50 items). The app's own httpx client talks to it unchanged.

Tests steer it with `fail_next` (`error_object`, `http_500`, `not_json`, `slow`) and read what
it was asked in `requests`.
"""

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.fakes.http import serve, shut

TTB_KEY = "ttbtest-secret-key-0001"
SLOW_S = 3.0


def isbn13(n: int, prefix: str = "979119") -> str:
    """A valid ISBN-13 (check digit computed) for item number `n`."""
    digits = f"{prefix}{n:06d}"[:12]
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def item(n: int, **fields) -> dict:
    """An ItemList item with Aladin's field names and habits (entities in strings)."""
    body = {
        "title": f"책 {n} &amp; 이야기",
        "link": f"http://www.aladin.co.kr/shop/wproduct.aspx?ItemId={1000 + n}&amp;partner=openAPI",
        "author": f"작가{n} (지은이), 번역가{n} (옮긴이)",
        "pubDate": "2024-05-01",
        "description": "첫 문장 &lt;b&gt;굵게&lt;/b&gt; 그리고 &amp;amp;",
        "isbn": "",
        "isbn13": isbn13(n),
        "itemId": 1000 + n,
        "priceSales": 13500,
        "priceStandard": 15000,
        "mallType": "BOOK",
        "stockStatus": "",
        "mileage": 750,
        "cover": f"https://image.aladin.co.kr/product/{n}/cover500/{n}.jpg",
        "categoryId": 50993,
        "categoryName": "국내도서>소설/시/희곡>한국소설>2000년대 이후 한국소설",
        "publisher": "창비",
        "salesPoint": 100000 - n,
        "adult": False,
        "fixedPrice": True,
        "customerReviewRank": 9,
        "bestRank": n,
        "subInfo": {},
    }
    body.update(fields)
    return body


def reply(items: list[dict], start: int = 1, total: int | None = None) -> dict:
    return {
        "version": "20131101",
        "title": "알라딘 베스트셀러 리스트 - 국내도서",
        "pubDate": "Mon, 30 Nov 2026 00:00:00 GMT",
        "totalResults": total if total is not None else len(items),
        "startIndex": start,
        "itemsPerPage": len(items),
        "query": "QueryType=BESTSELLER;SearchTarget=Book",
        "searchCategoryId": 0,
        "searchCategoryName": "국내도서",
        "item": items,
    }


class FakeAladin:
    """The bestseller list as `pages[start]` (lists of items); page numbers start at 1."""

    def __init__(self, pages: dict[int, list[dict]] | None = None):
        self.pages = pages or {}
        self.requests: list[dict[str, str]] = []
        self.fail_next: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/ttb/api"

    def start(self) -> "FakeAladin":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                status, body = fake.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")  # what Aladin sends for js
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = serve(Handler)
        return self

    def stop(self) -> None:
        shut(self._server)

    def answer(self, path: str) -> tuple[int, bytes]:
        url = urlsplit(path)
        params = dict(parse_qsl(url.query))
        self.requests.append(params)
        if url.path != "/ttb/api/ItemList.aspx":
            return 404, b"Not Found"
        failure = self.fail_next.pop(0) if self.fail_next else None
        if failure == "http_500":
            return 500, b"<html><body>Server Error</body></html>"
        if failure == "not_json":
            return 200, b"<html>\xec\x9e\xa0\xec\x8b\x9c \xed\x9b\x84 \xeb\x8b\xa4\xec\x8b\x9c</html>"
        if failure == "slow":
            time.sleep(SLOW_S)
        if failure == "error_object" or params.get("ttbkey") != TTB_KEY:
            return 200, _js({"errorCode": 100, "errorMessage": "잘못된 TTBKey 입니다."})
        if params.get("Version") != "20131101" or params.get("output") != "js":
            return 200, b"<?xml version='1.0' encoding='utf-8'?><object><item/></object>"  # the old format
        start, size = int(params.get("Start", "1")), min(int(params.get("MaxResults", "10")), 50)
        items = self.pages.get(start, [])[:size]
        total = sum(len(page) for page in self.pages.values())
        return 200, _js(reply(items, start=(start - 1) * size + 1, total=total))


def _js(body: dict) -> bytes:
    return (json.dumps(body, ensure_ascii=False) + ";").encode("utf-8")


@pytest.fixture
def fake_aladin():
    server = FakeAladin().start()
    yield server
    server.stop()
