"""News: publishers' feeds (`NewsSource`), our categories and each source's own sections mapped
onto them (`SourceCategory`), the articles read from the feeds, and their short summaries."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueberry.extensions import db
from blueberry.models.base import UTCDateTime, utcnow

LANGUAGES = ("ko", "en")
SUMMARY_KINDS = ("extractive", "ai")


class NewsCategory(db.Model):
    """One of our categories (its label is translated in services/news_categories.py)."""

    __tablename__ = "news_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(30), unique=True)
    position: Mapped[int] = mapped_column(default=0, server_default="0")


class NewsSource(db.Model):
    """A publisher's feed, from configuration; what its last fetch learned (for conditional requests)."""

    __tablename__ = "news_source"
    __table_args__ = (CheckConstraint(f"language IN {LANGUAGES}", name="language_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    feed_url: Mapped[str] = mapped_column(String(1000), unique=True)
    language: Mapped[str] = mapped_column(String(5))
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Where an item goes when none of its own sections is mapped.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("news_category.id", ondelete="SET NULL"))
    etag: Mapped[str] = mapped_column(String(300), default="", server_default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="", server_default="")
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "ok", "not modified" or why the last fetch failed, for operators.
    last_outcome: Mapped[str] = mapped_column(String(300), default="", server_default="")

    sections: Mapped[list["SourceCategory"]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )


class SourceCategory(db.Model):
    """A source's own section name (`<category>` in its feed) → our category."""

    __tablename__ = "source_category"
    __table_args__ = (UniqueConstraint("source_id", "name", name="uq_source_category_source_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("news_source.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))  # folded: lower case, single spaces
    category_id: Mapped[int] = mapped_column(ForeignKey("news_category.id", ondelete="CASCADE"))

    source: Mapped[NewsSource] = relationship(back_populates="sections")


class Article(db.Model):
    __tablename__ = "article"
    __table_args__ = (
        # A story is one article however many feeds carry it, and however often it is fetched.
        UniqueConstraint("source_id", "guid", name="uq_article_source_guid"),
        CheckConstraint(f"language IN {LANGUAGES}", name="language_known"),
        Index("ix_article_published_at_id", "published_at", "id"),
        Index("ix_article_category_id_published_at_id", "category_id", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("news_source.id", ondelete="CASCADE"))
    # The link without tracking parameters, fragment or default port: equal links, one article.
    canonical_url: Mapped[str] = mapped_column(String(1000), unique=True)
    guid: Mapped[str | None] = mapped_column(String(500))  # None: the feed gave none
    title: Mapped[str] = mapped_column(String(500))
    author: Mapped[str] = mapped_column(String(200), default="", server_default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    excerpt: Mapped[str] = mapped_column(Text, default="", server_default="")  # plain text
    image_url: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("news_category.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    source: Mapped[NewsSource] = relationship()
    category: Mapped[NewsCategory | None] = relationship()


class ArticleSummary(db.Model):
    """Three short points about an article in one language: the first sentences of its excerpt
    (`extractive`, in the article's language, stored with the article), or a model's (`ai`, in
    Korean and English, added by a job)."""

    __tablename__ = "article_summary"
    __table_args__ = (
        UniqueConstraint("article_id", "language", "kind", name="uq_article_summary_article_language_kind"),
        CheckConstraint(f"language IN {LANGUAGES}", name="language_known"),
        CheckConstraint(f"kind IN {SUMMARY_KINDS}", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(5))
    kind: Mapped[str] = mapped_column(String(12))
    points: Mapped[list] = mapped_column(JSON, default=list)  # up to 3 short strings
    model: Mapped[str] = mapped_column(String(100))  # the model's name, or "extractive"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
