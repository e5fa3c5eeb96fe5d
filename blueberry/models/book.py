"""The book catalog: books, their authors and categories, and bestseller ranks over time.

Books come from Aladin's bestseller list (or the shipped sample). `isbn13` is the key ingestion
upserts by. Search reads `search_key` (title, authors and publisher, normalized) and the
`book_gram` bigrams of it; services/book_search.py keeps them and explains why.
"""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueberry.extensions import db
from blueberry.models.base import UTCDateTime, utcnow

SOURCES = ("aladin", "sample")


class Category(db.Model):
    """An Aladin category path, and the browsable category it belongs to: the path's second
    segment, the first level under 국내도서 (`소설/시/희곡`)."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    aladin_id: Mapped[int | None]


class Author(db.Model):
    """A person, once: the name normalized (NFC, single spaces)."""

    __tablename__ = "author"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Book(db.Model):
    __tablename__ = "book"
    __table_args__ = (
        CheckConstraint(f"source IN {SOURCES}", name="source_known"),
        CheckConstraint("rating IS NULL OR (rating >= 0 AND rating <= 10)", name="rating_range"),
        Index("ix_book_sales_point_id", "sales_point", "id"),  # best-selling first, without a sort
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    isbn13: Mapped[str] = mapped_column(String(13), unique=True)
    item_id: Mapped[int | None]  # Aladin's product id
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    publisher: Mapped[str] = mapped_column(String(200), default="", server_default="")
    published_on: Mapped[date | None] = mapped_column(Date)
    cover_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    list_price: Mapped[int | None]
    rating: Mapped[int | None]  # Aladin's customer rating, 0–10
    sales_point: Mapped[int] = mapped_column(default=0, server_default="0")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(10))
    search_key: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category | None] = relationship()
    credits: Mapped[list["BookAuthor"]] = relationship(
        order_by="BookAuthor.position", cascade="all, delete-orphan", back_populates="book"
    )


class BookAuthor(db.Model):
    """One credit of a book, in Aladin's order: who, and as what (지은이, 옮긴이, … or none)."""

    __tablename__ = "book_author"

    book_id: Mapped[int] = mapped_column(ForeignKey("book.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(30), default="", server_default="")

    book: Mapped[Book] = relationship(back_populates="credits")
    author: Mapped[Author] = relationship()


class BookGram(db.Model):
    """A two-character piece of a book's search key: the index that finds 1–2 character Korean
    words and infixes alike on SQLite and PostgreSQL."""

    __tablename__ = "book_gram"

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("book.id", ondelete="CASCADE"), primary_key=True, index=True)


class BookRank(db.Model):
    """Where a book stood on a list (`bestseller`, or `bestseller:<category id>`) on a day."""

    __tablename__ = "book_rank"
    __table_args__ = (
        UniqueConstraint("list_name", "ranked_on", "book_id", name="uq_book_rank_list_day_book"),
        Index("ix_book_rank_book_id_ranked_on", "book_id", "ranked_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("book.id", ondelete="CASCADE"))
    list_name: Mapped[str] = mapped_column(String(40))
    ranked_on: Mapped[date] = mapped_column(Date)
    rank: Mapped[int]
