"""Aladin's bestseller list: the HTTP call and a defensive reading of its replies.

`GET {ALADIN_BASE_URL}/ItemList.aspx?ttbkey=…&QueryType=Bestseller&SearchTarget=Book&MaxResults=50
&Start=1..4&Cover=Big&output=js&Version=20131101` (without Version Aladin answers in an old
format). What comes back is not quite JSON: it may end with `;`, its strings carry HTML entities
(decoded once, here), a 200 may hold `{"errorCode": …, "errorMessage": …}` instead of items, and
fields go missing. A reply that cannot be read raises AladinError (the run stops, nothing is
written); an item that cannot be read is skipped with its reason.

The ttbkey is a secret: it goes out in the query string and nowhere else. Errors are built from
our own words, never from httpx's (whose messages quote the URL), and chain nothing; httpx's own
request log line has the key blanked out.
"""

import html
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import httpx

PAGE_SIZE = 50
MAX_REPLY_BYTES = 5 * 1024 * 1024
ISBN13_RE = re.compile(r"^97[89]\d{10}$")
TAG_RE = re.compile(r"<[^<>]{1,200}>")
SPACES_RE = re.compile(r"[ \t]{2,}")
ROLE_RE = re.compile(r"^(?P<names>.*?)\s*\((?P<role>[^()]*)\)\s*$")


class _HideKey(logging.Filter):
    """Blank the ttbkey out of log lines that quote a request URL (httpx logs each request)."""

    KEY_RE = re.compile(r"(ttbkey=)[^&\s\"']*", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "ttbkey=" in message.lower():
            record.msg, record.args = self.KEY_RE.sub(r"\1…", message), ()
        return True


logging.getLogger("httpx").addFilter(_HideKey())


class AladinError(Exception):
    """The list could not be fetched or read; the message is safe to show and store."""


class SkipItem(Exception):
    """One item cannot go into the catalog; the message says why (`reason: detail`)."""


@dataclass
class BookItem:
    """An item of the reply, cleaned: what the catalog stores."""

    isbn13: str
    title: str
    credits: list[tuple[str, str]]  # (name, role), in Aladin's order
    publisher: str = ""
    published_on: date | None = None
    description: str = ""
    cover_url: str = ""
    item_id: int | None = None
    list_price: int | None = None
    rating: int | None = None
    sales_point: int = 0
    category_path: str = ""
    category_id: int | None = None
    best_rank: int | None = None
    adult: bool = False
    extra: dict = field(default_factory=dict)


def fetch_page(base_url: str, ttb_key: str, start: int, *, category_id: int | None = None,
               timeout_s: float = 15.0) -> str:  # fmt: skip
    """Page `start` (1-based) of the bestseller list, as text."""
    params = {
        "ttbkey": ttb_key, "QueryType": "Bestseller", "SearchTarget": "Book", "MaxResults": PAGE_SIZE,
        "Start": start, "Cover": "Big", "output": "js", "Version": "20131101",
    }  # fmt: skip
    if category_id:
        params["CategoryId"] = category_id
    try:
        with httpx.stream("GET", base_url.rstrip("/") + "/ItemList.aspx", params=params, timeout=timeout_s) as reply:
            if reply.status_code != 200:
                raise AladinError(f"Aladin answered HTTP {reply.status_code} for page {start}")
            return _read_capped(reply, start)
    except httpx.TimeoutException:
        raise AladinError(f"Aladin did not answer within {timeout_s:g} s (page {start})") from None
    except httpx.HTTPError as error:
        raise AladinError(f"Aladin could not be reached ({type(error).__name__}, page {start})") from None


def _read_capped(reply: httpx.Response, start: int) -> str:
    body = bytearray()
    for chunk in reply.iter_bytes():
        body += chunk
        if len(body) > MAX_REPLY_BYTES:
            raise AladinError(f"Aladin's reply for page {start} is larger than {MAX_REPLY_BYTES} bytes")
    return body.decode("utf-8", errors="replace")


def parse_reply(text: str) -> list[dict]:
    """The raw items of a reply; AladinError for an error object or anything unreadable."""
    text = text.strip().removeprefix("\ufeff").rstrip(";").strip()
    try:
        reply = json.loads(text)
    except ValueError:
        raise AladinError("Aladin's reply is not JSON") from None
    if not isinstance(reply, dict):
        raise AladinError("Aladin's reply is not an object")
    if "errorCode" in reply:
        message = html.unescape(str(reply.get("errorMessage", "")))[:200]
        raise AladinError(f"Aladin refused the request: error {reply.get('errorCode')}: {message}")
    items = reply.get("item")
    if not isinstance(items, list):
        raise AladinError("Aladin's reply has no item list")
    return items


def parse_item(raw) -> BookItem:
    """One reply item as a BookItem; SkipItem when it cannot be one."""
    if not isinstance(raw, dict):
        raise SkipItem("not an object")
    isbn13 = _text(raw.get("isbn13")).replace("-", "")
    if not isbn13:
        raise SkipItem("no isbn13")
    if not valid_isbn13(isbn13):
        raise SkipItem(f"bad isbn13: {isbn13[:20]!r}")
    title = _text(raw.get("title"))
    if not title:
        raise SkipItem(f"no title: {isbn13}")
    return BookItem(
        isbn13=isbn13, title=title[:500], credits=parse_credits(_text(raw.get("author"))),
        publisher=_text(raw.get("publisher"))[:200], published_on=_date(raw.get("pubDate")),
        description=_without_tags(_text(raw.get("description"))), cover_url=_url(raw.get("cover")),
        item_id=_int(raw.get("itemId")), list_price=_int(raw.get("priceStandard")),
        rating=_rating(raw.get("customerReviewRank")), sales_point=_int(raw.get("salesPoint")) or 0,
        category_path=_text(raw.get("categoryName"))[:300], category_id=_int(raw.get("categoryId")),
        best_rank=_int(raw.get("bestRank")), adult=raw.get("adult") is True,
    )  # fmt: skip


def parse_credits(author: str) -> list[tuple[str, str]]:
    """`"A, B (지은이), C (옮긴이)"` → [(A, 지은이), (B, 지은이), (C, 옮긴이)]: a role in
    parentheses applies to the names before it back to the previous role; order is kept, names
    without a role get "", and the same (name, role) twice is kept once."""
    credits, waiting = [], []
    for part in _split_commas(author):
        match = ROLE_RE.match(part)
        if match:
            waiting.append(match["names"])
            credits += [(name, clean_name(match["role"])) for name in waiting]
            waiting = []
        else:
            waiting.append(part)
    credits += [(name, "") for name in waiting]
    seen, unique = set(), []
    for name, role in ((clean_name(name), role) for name, role in credits):
        if name and (name, role) not in seen:
            seen.add((name, role))
            unique.append((name[:200], role[:30]))
    return unique


def _split_commas(text: str) -> list[str]:
    """Split on commas outside parentheses (a role never holds one, a name may: "Smith, Jr.")."""
    parts, depth, current = [], 0, []
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth <= 0:
            parts.append("".join(current))
            current, depth = [], 0
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def clean_name(name: str) -> str:
    """A name as stored: NFC, one space between words, no " 외" ("and others") tail."""
    name = " ".join(unicodedata.normalize("NFC", name).split())
    return name.removesuffix(" 외").strip()


def category_name(path: str) -> str:
    """The browsable category of a path: its second segment (`국내도서>소설/시/희곡>…` →
    `소설/시/희곡`), or the only one."""
    segments = [segment.strip() for segment in path.split(">") if segment.strip()]
    return segments[1] if len(segments) > 1 else (segments[0] if segments else "")


def excluded(item: BookItem, segments: frozenset[str]) -> str | None:
    """Why the item stays out of a book-club catalog (adult, or a category such as 어린이), or None."""
    if item.adult:
        return "adult"
    for segment in item.category_path.split(">"):
        if segment.strip() in segments:
            return f"category {segment.strip()}"
    return None


def valid_isbn13(isbn: str) -> bool:
    if not ISBN13_RE.match(isbn):
        return False
    total = sum(int(digit) * (1 if i % 2 == 0 else 3) for i, digit in enumerate(isbn[:12]))
    return (10 - total % 10) % 10 == int(isbn[12])


def _text(value) -> str:
    """A string field, entities decoded once (`&amp;lt;` stays `&lt;`), NUL and edges stripped."""
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return html.unescape(str(value)).replace("\x00", "").strip()


def _without_tags(text: str) -> str:
    """A description as text: markup such as `<b>` or `<br/>` dropped, nothing decoded again."""
    return SPACES_RE.sub(" ", TAG_RE.sub(" ", text)).strip()


def _int(value) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if -(2**31) < number < 2**31 else None


def _rating(value) -> int | None:
    number = _int(value)
    return number if number is not None and 0 <= number <= 10 else None


def _date(value) -> date | None:
    try:
        return date.fromisoformat(_text(value)[:10])
    except ValueError:
        return None


def _url(value) -> str:
    url = _text(value)
    return url[:500] if url.startswith(("https://", "http://")) else ""
