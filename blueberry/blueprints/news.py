"""The news: `/news` (the latest stories by category, with infinite scroll), `/news/<id>` (a
story, its summary, the original, and sharing into a conversation), `/news/stream` (the public
SSE stream of "N new stories"), and `/news/images/<id>` (story pictures through our proxy, so
publishers never see readers' addresses).

List pages come from the cache (services/news_cache.py) as cards, rendered here in the reader's
language and time zone. Pages and their fragments share URLs (Vary: HX-Request): htmx asks for
the next cards (`?cursor=`) or for the whole feed from the top (`HX-Target: news-feed`).
"""

import uuid

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from blueberry import timefmt
from blueberry.errors import render_error
from blueberry.extensions import client_ip, db, get_redis, limiter
from blueberry.htmx import add_vary_hx_request, go, is_htmx
from blueberry.inputs import text_int
from blueberry.models import Article
from blueberry.realtime.events import NEWS_NEW, NEWS_TOPIC, Cursor, make_event
from blueberry.realtime.feed import Feed
from blueberry.realtime.hub import get_hub
from blueberry.realtime.sse import as_json, event_stream
from blueberry.services import chat, news, news_cache, news_categories, news_images, news_share
from blueberry.services.errors import FieldError
from blueberry.services.news_streams import NewsStreamSlot

bp = Blueprint("news", __name__)
bp.after_request(add_vary_hx_request)


def _scope() -> str:
    """The page's scope: a category's slug, or "all"; 404 for a category we do not have."""
    slug = request.args.get("category", "")[:30] or news.ALL
    if slug != news.ALL and slug not in news_categories.CATEGORIES:
        abort(404)
    return slug


def _reader() -> dict:
    """How this reader sees summaries: their language, and whether they want the model's."""
    ai_on = current_user.news_ai_summaries if current_user.is_authenticated else True
    return {"reader_language": str(get_locale() or "en")[:2], "ai_on": ai_on}


@bp.context_processor
def _helpers() -> dict:
    def summary(summaries: dict, article_language: str) -> dict:
        return news.summary_for(summaries, article_language, **_reader())

    return {"news_label": news_categories.label, "news_summary": summary}


def _shown(cards: list[dict]) -> list[dict]:
    """The cards as this reader sees them. Worked out here once per page, not per card in the
    template: the reader's language, zone and labels are looked up once, not 20 times, and the
    cards' times come from the clock's memory of earlier pages."""
    reader, clock, labels = _reader(), timefmt.reader_clock(), {}
    # /news/<id> and /news/images/<id>, built once: url_for per card was a tenth of the page.
    story = url_for("news.article", article_id=0)[:-1]
    picture = url_for("news.image", article_id=0)[:-1]
    shown = []
    for card in cards:
        slug = card["category"]
        if slug not in labels:
            labels[slug] = news_categories.label(slug)
        shown.append({**card, "label": labels[slug], "when": clock.list_time(card["published_at"]),
                      "url": f"{story}{card['id']}", "picture": f"{picture}{card['id']}" if card["has_image"] else None,
                      "summary": news.summary_for(card["summaries"], card["language"], **reader)})  # fmt: skip
    return shown


@bp.get("/news")
def index():
    scope, cursor = _scope(), request.args.get("cursor", "")[:40]
    cursor = cursor if news.parse_cursor(cursor) else None  # anything else: the first page
    page = news_cache.page(scope, cursor, news.loader(scope))
    context = {"scope": scope, "cards": _shown(page["cards"]), "next_cursor": page["next"],
               "categories": news_categories.CATEGORIES, "cursor": cursor}  # fmt: skip
    if cursor:  # a later page: its cards for htmx, else a page of its own (with no stream)
        return render_template("news/_cards.html" if is_htmx() else "news/index.html", **context)
    context["newest_id"] = page["newest"]  # read with the first page's cards: its stream counts from it
    if is_htmx() and request.headers.get("HX-Target") == "news-feed":
        return render_template("news/_feed.html", **context)
    return render_template("news/index.html", **context)


@bp.get("/news/<int:article_id>")
def article(article_id: int):
    found = news.article(article_id) or abort(404)
    story, summaries = found
    return render_template("news/article.html", story=story, summaries=summaries,
                           category=news_categories.label(story.category.slug if story.category else None))  # fmt: skip


@bp.get("/news/stream")
@limiter.limit(lambda: current_app.config["NEWS_STREAM_LIMIT"])
def stream():
    """SSE: "N new stories" for a list page, counted from the newest story it showed
    (`after_id`). Public: news is not anyone's own, so no session is needed; an address holds
    at most NEWS_STREAMS_PER_ADDRESS open (429 beyond, and the browser tries again later)."""
    counter = NewStories(_scope(), text_int(request.args.get("after_id")) or 0)
    slot = NewsStreamSlot(client_ip())
    if not slot.take(current_app.config["NEWS_STREAMS_PER_ADDRESS"]):
        abort(429)
    db.session.remove()  # a stream holds no database connection while it waits
    render = as_json if request.args.get("format") == "json" else counter.render
    feed = Feed(get_hub(), get_redis(), [NEWS_TOPIC], Cursor(), counter.catch_up)
    return event_stream(feed, render, slot, current_app.config["SSE_KEEPALIVE_S"])


class NewStories:
    """One list page's running count of the stories stored after the newest one it showed.

    The feed subscribes first, then asks `catch_up` what it missed (from SQL), then goes live:
    an event whose stories were already counted (its `newest_id` is not newer than what was
    counted) is skipped, so none is counted twice or lost, after a Redis outage too.
    """

    def __init__(self, scope: str, after_id: int):
        self.scope, self.counted_up_to, self.count = scope, after_id, 0

    def catch_up(self, _notification_id) -> list[dict]:
        category = None if self.scope == news.ALL else news.category_id(self.scope)
        try:
            missed, newest = news.stored_after(category, self.counted_up_to)
        finally:
            db.session.remove()
        if category is None and self.scope != news.ALL:
            return []
        return [make_event(NEWS_NEW, {"total": missed, "categories": {self.scope: missed}, "newest_id": newest})]

    def render(self, event: dict) -> str | None:
        data = event["data"]
        if event["type"] != NEWS_NEW or data.get("newest_id", 0) <= self.counted_up_to:
            return None
        self.counted_up_to = data["newest_id"]
        self.count += data.get("total", 0) if self.scope == news.ALL else data.get("categories", {}).get(self.scope, 0)
        return render_template("news/_new_stories.html", count=self.count, scope=self.scope) if self.count else None


@bp.get("/news/images/<int:article_id>")
def image(article_id: int):
    """A story's picture, fetched once by us, checked, shrunk to WebP and cached."""
    picture = news_images.picture(article_id)
    if picture is None:
        abort(404)
    headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "default-src 'none'"}  # fmt: skip
    return picture, 200, {"Content-Type": "image/webp", **headers}


@bp.get("/news/<int:article_id>/share")
@login_required
def share_form(article_id: int):
    story = db.session.get(Article, article_id) or abort(404)
    return render_template("news/share.html", story=story, targets=news_share.targets(current_user.id), error=None)


@bp.post("/news/<int:article_id>/share")
@login_required
def share(article_id: int):
    """Post the story's link, with a note, into one of my conversations."""
    story = db.session.get(Article, article_id) or abort(404)
    conversation_id = _uuid(request.form.get("conversation", ""))
    if conversation_id is None or conversation_id not in {
        t.conversation.id for t in news_share.targets(current_user.id)
    }:
        abort(404)  # not one of mine (or not one I may write in)
    if not chat.send_allowed(current_user.id, current_app.config["CHAT_SENDS_PER_10S"]):
        return render_error(429)
    try:
        news_share.share(story, conversation_id, current_user.id, request.form.get("note", ""))
    except FieldError as error:
        db.session.rollback()
        return render_template("news/share.html", story=story, targets=news_share.targets(current_user.id),
                               error=error.message), 422  # fmt: skip
    db.session.commit()
    return go(url_for("chat.conversation", conversation_id=conversation_id))


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw[:40])
    except ValueError:
        return None
