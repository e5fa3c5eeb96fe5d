"""News articles: storing what a feed brought (one article per story, with its extract), and
reading them back as cards, the JSON-able form pages render and the cache keeps.

A story is one article however many feeds carry it and however often it is fetched: its
canonical URL is unique, and so is its guid within a source. Lists are newest first, paged by
a keyset cursor (`<published µs>-<id>`), so a page never repeats or skips a story when new
ones arrive above it.
"""

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from blueberry.extensions import db
from blueberry.models import Article, ArticleSummary, NewsCategory, NewsSource
from blueberry.services import news_categories, news_sources
from blueberry.services.feeds import FeedItem
from blueberry.services.news_summary import extractive

Cursor = tuple[datetime, int]


@dataclass
class Stored:
    new_ids: list[int] = field(default_factory=list)
    duplicate: int = 0
    by_category: Counter = field(default_factory=Counter)  # category id (None: none) → new stories


def store(source: NewsSource, items: list[FeedItem]) -> Stored:
    """Add the items that are new stories, each with its extract (flushes, the caller commits)."""
    stored = Stored()
    urls = {item.link for item in items}
    guids = {item.guid for item in items if item.guid}
    known_urls = set(db.session.scalars(select(Article.canonical_url).where(Article.canonical_url.in_(urls))))
    known_guids = set(db.session.scalars(
        select(Article.guid).where(Article.source_id == source.id, Article.guid.in_(guids))))  # fmt: skip
    for item in items:
        if item.link in known_urls or (item.guid and item.guid in known_guids):
            stored.duplicate += 1
            continue
        known_urls.add(item.link)
        known_guids.add(item.guid)
        article = _add(source, item)
        if article is None:  # stored meanwhile by another run
            stored.duplicate += 1
            continue
        stored.new_ids.append(article.id)
        stored.by_category[article.category_id] += 1
    return stored


def _add(source: NewsSource, item: FeedItem) -> Article | None:
    article = Article(
        source_id=source.id, canonical_url=item.link, guid=item.guid, title=item.title, author=item.author,
        published_at=item.published_at, excerpt=item.excerpt, image_url=item.image_url,
        category_id=news_sources.category_of(source, item.sections), language=source.language,
    )  # fmt: skip
    try:
        with db.session.begin_nested():
            db.session.add(article)
            db.session.flush()
    except IntegrityError:
        return None
    points = extractive(item.excerpt, item.title)
    db.session.add(ArticleSummary(article_id=article.id, language=article.language, kind="extractive",
                                  points=points, model="extractive"))  # fmt: skip
    return article


ALL = "all"  # the scope of the front page: every category
CURSOR = re.compile(r"([0-9]{1,17})-([0-9]{1,10})")  # `<published µs>-<id>`: ASCII digits only
_category_ids: dict[str, int] = {}


def category_id(scope: str, session: Session | None = None) -> int | None:
    """The id of a category's slug (cached once found: categories never change id), or None."""
    if scope not in _category_ids:
        _category_ids.update(news_categories.ids(session))
    return _category_ids.get(scope)


def loader(scope: str, session: Session | None = None) -> Callable[[str], dict]:
    """The pages of a scope ("all" or a category slug), read from SQL through `session` (the
    request's by default): cursor → page, `{"cards": [...], "next": cursor or None}`, and on a
    first page `"newest"`: the newest story's id, which that page's stream counts new stories
    from. It is read before the cards: a story stored in between is then shown and counted
    (once too often), never neither."""
    limit = current_app.config["NEWS_PAGE_SIZE"]
    session = session or db.session
    category = None if scope == ALL else category_id(scope, session)

    def load(cursor: str) -> dict:
        before = parse_cursor(cursor)
        newest = None if before else newest_id(session)
        if scope != ALL and category is None:  # a category with no row yet has no stories
            found, next_cursor = [], None
        else:
            found, next_cursor = cards(category, before, limit, session)
        return {"cards": found, "next": next_cursor} | ({} if before else {"newest": newest})

    return load


def cards(category: int | None, before: Cursor | None, limit: int, session: Session | None = None
          ) -> tuple[list[dict], str | None]:  # fmt: skip
    """A page of cards of a category (None: all), newest first, and the cursor of the next page
    (None: the last one)."""
    session = session or db.session
    query = (select(Article, NewsSource.name, NewsCategory.slug).join(NewsSource, Article.source_id == NewsSource.id)
             .outerjoin(NewsCategory, Article.category_id == NewsCategory.id))  # fmt: skip
    if category:
        query = query.where(Article.category_id == category)
    if before:
        published, article_id = before
        query = query.where(or_(Article.published_at < published,
                                and_(Article.published_at == published, Article.id < article_id)))  # fmt: skip
    rows = session.execute(query.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    summaries = _summaries([article.id for article, _, _ in rows], session)
    page = [_card(article, source, slug, summaries.get(article.id, {})) for article, source, slug in rows]
    return page, (cursor_of(rows[-1][0]) if more else None)


def _card(article: Article, source: str, slug: str | None, summaries: dict) -> dict:
    return {
        "id": article.id, "title": article.title, "source": source, "category": slug,
        "published_at": article.published_at.isoformat(), "language": article.language,
        "has_image": bool(article.image_url), "summaries": summaries,
    }  # fmt: skip


def _summaries(article_ids: list[int], session: Session | None = None) -> dict[int, dict]:
    """article id → {"extractive": points, "ai": {"ko": points, "en": points}, "model": name}."""
    found: dict[int, dict] = {}
    if not article_ids:
        return found
    for row in (session or db.session).scalars(
        select(ArticleSummary).where(ArticleSummary.article_id.in_(article_ids))
    ):
        entry = found.setdefault(row.article_id, {})
        if row.kind == "extractive":
            entry["extractive"] = row.points
        else:
            entry.setdefault("ai", {})[row.language] = row.points
            entry["model"] = row.model
    return found


def summary_for(summaries: dict, article_language: str, reader_language: str, ai_on: bool) -> dict:
    """What a reader sees of a story's summaries: the model's points in their language when they
    want them and there are some, else the story's own first lines (in its language)."""
    ai_points = (summaries.get("ai") or {}).get(reader_language)
    if ai_on and ai_points:
        return {"points": ai_points, "kind": "ai", "language": reader_language, "model": summaries.get("model", "")}
    return {"points": summaries.get("extractive") or [], "kind": "extractive", "language": article_language}


def cursor_of(article: Article) -> str:
    return f"{int(article.published_at.timestamp() * 1_000_000)}-{article.id}"


def parse_cursor(text: str | None) -> Cursor | None:
    """A cursor from a URL; None for none or anything malformed (the first page)."""
    found = CURSOR.fullmatch(text or "")
    if found is None:
        return None
    return datetime.fromtimestamp(int(found[1]) / 1_000_000, UTC), int(found[2])


def article(article_id: int) -> tuple[Article, dict] | None:
    """An article with its summaries (as on its card), or None."""
    found = db.session.get(Article, article_id)
    return (found, _summaries([article_id]).get(article_id, {})) if found else None


def stored_after(category: int | None, after_id: int) -> tuple[int, int]:
    """How many stories of a category (None: all) were stored after article `after_id` up to the
    newest id of any story, and that id. The newest is read first and the count stops at it: a
    story committed in between is left for its own event, not skipped by it."""
    newest = newest_id()
    query = select(func.count()).select_from(Article).where(Article.id > after_id, Article.id <= newest)
    if category:
        query = query.where(Article.category_id == category)
    return db.session.scalar(query), newest


def newest_id(session: Session | None = None) -> int:
    return (session or db.session).scalar(select(func.max(Article.id))) or 0


def is_empty() -> bool:
    return db.session.scalar(select(Article.id).limit(1)) is None


def without_ai_summary(article_ids: list[int]) -> list[Article]:
    """Those of the articles that have no model summary yet (a job delivered twice does nothing)."""
    done = select(ArticleSummary.article_id).where(ArticleSummary.kind == "ai")
    query = select(Article).where(Article.id.in_(article_ids), Article.id.not_in(done)).order_by(Article.id)
    return list(db.session.scalars(query))


def add_ai_summary(article: Article, points: dict[str, list[str]], model: str) -> None:
    for language, language_points in points.items():
        db.session.add(ArticleSummary(article_id=article.id, language=language, kind="ai",
                                      points=language_points, model=model))  # fmt: skip
    db.session.flush()
