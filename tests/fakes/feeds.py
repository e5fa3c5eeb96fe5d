"""Fake publishers: a real HTTP server on 127.0.0.1 serving RSS 2.0 and Atom feeds (and their
images) the way publishers do, ETag / Last-Modified and 304s included, so the app's own fetching
and parsing run unchanged.

Tests put documents at paths with `put(path, body, ...)`: a `delay_s` (a slow feed), a `status`
(a broken one), `etag` / `last_modified` (answered with 304 when the request carries them back),
`encoding` ("gzip": compressed for a client that accepts it, as publishers do).
`requests` holds (path, headers) of every request. `rss()` and `atom()` write documents from
item dicts: title, link, guid, date (a datetime, or None for no date), author, category,
description (raw: it may hold markup, escaped for the XML), image.
"""

import gzip
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import escape

import pytest

from tests.fakes.http import serve, shut

RSS_TYPE, ATOM_TYPE = "application/rss+xml; charset=utf-8", "application/atom+xml; charset=utf-8"


@dataclass
class Document:
    body: bytes
    content_type: str = RSS_TYPE
    status: int = 200
    delay_s: float = 0.0
    etag: str = ""
    last_modified: str = ""
    encoding: str = ""  # "gzip": sent compressed to a client that accepts it; anything else: that header, as is


class FakeFeeds:
    def __init__(self):
        self.documents: dict[str, Document] = {}
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.server = None

    def start(self) -> "FakeFeeds":
        fake = self

        class Handler(FeedHandler):
            feeds = fake

        self.server = serve(Handler)
        return self

    def stop(self) -> None:
        shut(self.server)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def put(self, path: str, body: bytes | str, content_type: str = RSS_TYPE, **options) -> str:
        """Serve `body` at `path`; its URL."""
        body = body.encode() if isinstance(body, str) else body
        with self.lock:
            self.documents[path] = Document(body, content_type, **options)
        return self.url(path)

    def asked(self, path: str) -> list[dict]:
        """The headers of each request for `path`."""
        with self.lock:
            return [headers for asked, headers in self.requests if asked == path]


class FeedHandler(BaseHTTPRequestHandler):
    feeds: FakeFeeds
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = self.path.split("?", 1)[0]
        with self.feeds.lock:
            self.feeds.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
            document = self.feeds.documents.get(path)
        if document is None:
            return self._send(404, b"not found", "text/plain")
        if document.delay_s:
            time.sleep(document.delay_s)
        if self._not_modified(document):
            return self._send(304, b"", None, document)
        body = document.body if document.status == 200 else b"error"
        if document.encoding == "gzip" and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
        self._send(document.status, body, document.content_type, document)

    def _not_modified(self, document: Document) -> bool:
        if document.etag and self.headers.get("If-None-Match") == document.etag:
            return True
        return bool(document.last_modified and self.headers.get("If-Modified-Since") == document.last_modified)

    def _send(self, status: int, body: bytes, content_type: str | None, document: Document | None = None) -> None:
        try:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            if document and document.etag:
                self.send_header("ETag", document.etag)
            if document and document.last_modified:
                self.send_header("Last-Modified", document.last_modified)
            if document and document.encoding and (document.encoding != "gzip" or body[:2] == b"\x1f\x8b"):
                self.send_header("Content-Encoding", document.encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def log_message(self, format, *args) -> None:
        pass


def rss(items: list[dict], title: str = "Fake News Daily", language: str = "en") -> str:
    entries = "".join(_rss_item(item) for item in items)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
            f"<channel><title>{escape(title)}</title><link>https://fake.example/</link>"
            f"<language>{language}</language>{entries}</channel></rss>")  # fmt: skip


def _rss_item(item: dict) -> str:
    parts = [f"<title>{escape(item['title'])}</title>"] if "title" in item else []
    if item.get("link"):
        parts.append(f"<link>{escape(item['link'])}</link>")
    if item.get("guid"):
        parts.append(f'<guid isPermaLink="false">{escape(item["guid"])}</guid>')
    if item.get("date"):
        parts.append(f"<pubDate>{format_datetime(item['date'])}</pubDate>")
    if item.get("author"):
        parts.append(f"<author>{escape(item['author'])}</author>")
    if item.get("category"):
        parts.append(f"<category>{escape(item['category'])}</category>")
    if item.get("description"):
        parts.append(f"<description>{escape(item['description'])}</description>")
    if item.get("image"):
        parts.append(f'<media:content url="{escape(item["image"])}" medium="image"/>')
    return "<item>" + "".join(parts) + "</item>"


def atom(entries: list[dict], title: str = "Fake Atom World") -> str:
    body = "".join(_atom_entry(entry) for entry in entries)
    updated = datetime.now(UTC).isoformat()
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><id>tag:fake.example,2026:feed</id><updated>{updated}</updated>"
            f"{body}</feed>")  # fmt: skip


def _atom_entry(entry: dict) -> str:
    parts = [f'<title type="html">{escape(entry["title"])}</title>']
    if entry.get("link"):
        parts.append(f'<link rel="alternate" href="{escape(entry["link"])}"/>')
    parts.append(f"<id>{escape(entry.get('guid') or entry.get('link') or 'none')}</id>")
    if entry.get("date"):
        parts.append(f"<updated>{entry['date'].isoformat()}</updated>")
    if entry.get("author"):
        parts.append(f"<author><name>{escape(entry['author'])}</name></author>")
    if entry.get("category"):
        parts.append(f'<category term="{escape(entry["category"])}"/>')
    if entry.get("description"):
        parts.append(f'<summary type="html">{escape(entry["description"])}</summary>')
    return "<entry>" + "".join(parts) + "</entry>"


@pytest.fixture
def fake_feeds():
    feeds = FakeFeeds().start()
    yield feeds
    feeds.stop()
