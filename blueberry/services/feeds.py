"""Reading a publisher's RSS or Atom feed (feedparser) into clean items.

Everything in a feed is treated as text: titles, authors and excerpts lose their markup here and
are escaped again wherever they are shown, so HTML in a feed never runs. A document that
declares entities is refused before parsing (entity expansion attacks; real feeds declare
none). An item without a link or a date cannot be placed on the page and is skipped with its
reason; the other items of the feed go on.
"""

import calendar
import html
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser

ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
SPACES = re.compile(r"\s+")
MAX_EXCERPT = 2000
# Query parameters that say who sent the reader, not which story it is.
TRACKING = re.compile(r"^(utm_.*|at_.*|fbclid|gclid|dclid|msclkid|yclid|igshid|mc_cid|mc_eid|_ga|ocid|cmpid|"
                      r"ref|ref_src|rss|rssfeed|from|feed)$", re.IGNORECASE)  # fmt: skip


class FeedError(Exception):
    """The document is not a feed that can be read; the message says why."""


@dataclass
class FeedItem:
    link: str  # canonical (see canonical_url)
    title: str
    published_at: datetime
    guid: str | None = None
    author: str = ""
    excerpt: str = ""
    image_url: str = ""
    sections: list[str] = field(default_factory=list)  # the feed's own <category> names, folded


@dataclass
class ParsedFeed:
    title: str
    items: list[FeedItem]
    skipped: dict[str, int]  # reason → how many items


def parse(body: bytes, now: datetime, base_url: str = "") -> ParsedFeed:
    """The items of an RSS or Atom document fetched from `base_url` (relative links are resolved
    against it); FeedError when it is not one."""
    if ENTITY_DECLARATION.search(body):
        raise FeedError("the document declares XML entities")
    # A stream, never bytes or a string: feedparser opens a string that names a file or a URL.
    document = feedparser.parse(io.BytesIO(body), sanitize_html=True, resolve_relative_uris=True,
                                response_headers={"content-location": base_url} if base_url else None)  # fmt: skip
    if not document.get("version") and not document.entries:
        problem = document.get("bozo_exception")
        raise FeedError(f"not an RSS or Atom feed ({type(problem).__name__ if problem else 'no items'})")
    items, skipped = [], {}
    for entry in document.entries:
        try:
            items.append(_item(entry, now))
        except SkipEntry as reason:
            skipped[str(reason)] = skipped.get(str(reason), 0) + 1
    return ParsedFeed(text(document.feed.get("title", ""))[:200], items, skipped)


class SkipEntry(Exception):
    """This entry cannot be an article; the message is the reason (counted per run)."""


def _item(entry, now: datetime) -> FeedItem:
    link = canonical_url(entry.get("link", ""))
    if not link:
        raise SkipEntry("no link")
    title = text(entry.get("title", ""))[:500]
    if not title:
        raise SkipEntry("no title")
    published = entry.get("published_parsed") or entry.get("updated_parsed")
    if not published:
        raise SkipEntry("no date")
    # A date in the future would pin the story to the top: it is published when we see it.
    published_at = min(datetime.fromtimestamp(calendar.timegm(published), UTC), now)
    guid = text(entry.get("id", ""))[:500] or None
    return FeedItem(
        link=link, title=title, published_at=published_at, guid=guid,
        author=text(entry.get("author", ""))[:200], excerpt=_excerpt(entry),
        image_url=_image(entry), sections=_sections(entry),
    )  # fmt: skip


def _excerpt(entry) -> str:
    summary = entry.get("summary", "")
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value", "")
    return text(summary)[:MAX_EXCERPT]


def _sections(entry) -> list[str]:
    names = [fold(tag.get("term") or tag.get("label") or "") for tag in entry.get("tags", [])]
    return [name for name in dict.fromkeys(names) if name][:10]


def _image(entry) -> str:
    """The story's picture: media:content or media:thumbnail, an image enclosure, or the first
    <img> of its summary; only absolute http(s) URLs."""
    candidates = [media.get("url", "") for media in entry.get("media_content", []) if _is_image(media)]
    candidates += [media.get("url", "") for media in entry.get("media_thumbnail", [])]
    candidates += [link.get("href", "") for link in entry.get("links", [])
                   if link.get("rel") == "enclosure" and link.get("type", "").startswith("image/")]  # fmt: skip
    candidates += ImageFinder.first(entry.get("summary", ""))
    for url in candidates:
        if url.startswith(("https://", "http://")) and len(url) <= 1000:
            return url
    return ""


def _is_image(media: dict) -> bool:
    return media.get("medium") == "image" or media.get("type", "").startswith("image/")


def canonical_url(link: str) -> str:
    """One spelling per story: http(s) only, host in lower case, no default port, no fragment,
    no tracking parameters, the others sorted. "" for anything that is not such a URL."""
    link = html.unescape(link).strip()
    try:
        parts = urlsplit(link)
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return ""
    host = parts.hostname.lower()
    netloc = host if port in (None, 80 if scheme == "http" else 443) else f"{host}:{port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k))
    url = urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))
    return url if len(url) <= 1000 else ""


def fold(name: str) -> str:
    """A section name as mapped: one space between words, lower case."""
    return SPACES.sub(" ", text(name)).strip().casefold()[:100]


def text(value) -> str:
    """Markup dropped (script and style with their content), entities decoded once, one space
    between words."""
    if not isinstance(value, str):
        return ""
    if "<" not in value and "&" not in value:
        return SPACES.sub(" ", value).strip()
    extractor = TextOnly()
    extractor.feed(value)
    extractor.close()
    return SPACES.sub(" ", "".join(extractor.parts)).replace("\x00", "").strip()


class TextOnly(HTMLParser):
    BLOCKS = {"p", "br", "div", "li", "h1", "h2", "h3", "h4", "tr", "blockquote"}
    HIDDEN = {"script", "style", "template", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        elif tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


class ImageFinder(HTMLParser):
    """The src of the first <img> in a piece of HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img" and not self.found:
            src = dict(attrs).get("src") or ""
            if src:
                self.found.append(src)

    @classmethod
    def first(cls, markup: str) -> list[str]:
        if "<img" not in markup:
            return []
        finder = cls()
        finder.feed(markup)
        return finder.found
