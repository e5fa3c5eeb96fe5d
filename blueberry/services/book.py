"""The book catalog: storing an item (upsert by ISBN-13) and reading books, categories and ranks."""

from datetime import date

from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.models import Author, Book, BookAuthor, BookRank, Category
from blueberry.models.base import utcnow
from blueberry.services import book_search
from blueberry.services.aladin import BookItem, category_name

BESTSELLER = "bestseller"
FIELDS = ("title", "description", "publisher", "published_on", "cover_url", "item_id", "list_price", "rating",
          "sales_point")  # fmt: skip


def store(item: BookItem, source: str, list_name: str, ranked_on: date) -> str:
    """Add or update the book of `item` and its rank on `list_name` that day: "added", "updated"
    or "unchanged". Storing the same item twice changes nothing the second time."""
    book = db.session.scalar(select(Book).where(Book.isbn13 == item.isbn13))
    outcome = "updated"
    if book is None:
        book, outcome = Book(isbn13=item.isbn13, source=source), "added"
        db.session.add(book)
    changed = _apply(book, item)
    changed |= _set_credits(book, item.credits)
    category = _category(item.category_path, item.category_id)
    if book.category_id != (category.id if category else None):
        book.category, changed = category, True
    if source == "aladin" and book.source != "aladin":
        book.source, changed = "aladin", True  # the live catalog takes over a sample book
    if changed:
        book.updated_at = utcnow()
    book_search.index_book(book, [name for name, _ in item.credits])
    if item.best_rank:
        _rank(book, list_name, ranked_on, item.best_rank)
    return outcome if outcome == "added" or changed else "unchanged"


def _apply(book: Book, item: BookItem) -> bool:
    changed = False
    for name in FIELDS:
        value = getattr(item, name)
        if getattr(book, name) != value:
            setattr(book, name, value)
            changed = True
    return changed


def _set_credits(book: Book, credits: list[tuple[str, str]]) -> bool:
    current = [(credit.author.name, credit.role) for credit in book.credits]
    if current == credits:
        return False
    book.credits.clear()
    db.session.flush()
    for position, (name, role) in enumerate(credits):
        book.credits.append(BookAuthor(author=_author(name), role=role, position=position))
    return True


def _author(name: str) -> Author:
    author = db.session.scalar(select(Author).where(Author.name == name))
    if author is None:
        author = Author(name=name)
        db.session.add(author)
        db.session.flush()
    return author


def _category(path: str, aladin_id: int | None) -> Category | None:
    if not path:
        return None
    category = db.session.scalar(select(Category).where(Category.path == path))
    if category is None:
        category = Category(path=path, name=category_name(path)[:100], aladin_id=aladin_id)
        db.session.add(category)
        db.session.flush()
    return category


def _rank(book: Book, list_name: str, ranked_on: date, rank: int) -> None:
    row = db.session.scalar(
        select(BookRank).where(
            BookRank.list_name == list_name, BookRank.ranked_on == ranked_on, BookRank.book_id == book.id
        )
    )
    if row is None:
        db.session.add(BookRank(book_id=book.id, list_name=list_name, ranked_on=ranked_on, rank=rank))
    elif row.rank != rank:
        row.rank = rank


def is_empty() -> bool:
    return db.session.scalar(select(Book.id).limit(1)) is None


def only_sample() -> bool:
    """True when every book came from the shipped sample (the page says so)."""
    return db.session.scalar(select(Book.id).where(Book.source == "aladin").limit(1)) is None


def get(isbn13: str) -> Book | None:
    return db.session.scalar(select(Book).where(Book.isbn13 == isbn13)) if isbn13.isdigit() else None


def categories() -> list[tuple[str, int]]:
    """The browsable categories with their number of books, largest first."""
    rows = db.session.execute(
        select(Category.name, func.count(Book.id))
        .join(Book, Book.category_id == Category.id)
        .group_by(Category.name)
        .order_by(func.count(Book.id).desc(), Category.name)
    )
    return [(name, count) for name, count in rows]


def latest_list_day(list_name: str = BESTSELLER) -> date | None:
    return db.session.scalar(select(func.max(BookRank.ranked_on)).where(BookRank.list_name == list_name))


def bestsellers(limit: int = 10, list_name: str = BESTSELLER) -> list[Book]:
    """The newest bestseller list, in its order."""
    day = latest_list_day(list_name)
    if day is None:
        return []
    return list(
        db.session.scalars(
            select(Book)
            .join(BookRank, BookRank.book_id == Book.id)
            .where(BookRank.list_name == list_name, BookRank.ranked_on == day)
            .order_by(BookRank.rank)
            .limit(limit)
        )
    )


def rank_history(book: Book, list_name: str = BESTSELLER, limit: int = 30) -> list[BookRank]:
    return list(
        db.session.scalars(
            select(BookRank)
            .where(BookRank.book_id == book.id, BookRank.list_name == list_name)
            .order_by(BookRank.ranked_on.desc())
            .limit(limit)
        )
    )
