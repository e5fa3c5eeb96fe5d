"""Which books a recommendation run may choose from: the top 20 of the reader's genres in the
local catalog, by bestseller rank, then rating, then sales, leaving out what this reader was
shown before, marked read or rejected, and their own favourites. The model sees only these
(never the whole catalog), and an answer naming any other book is refused.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, nulls_last, select
from sqlalchemy.orm import selectinload

from blueberry.extensions import db
from blueberry.models import Book, BookAuthor, BookRank, Category, Recommendation
from blueberry.services import book as catalog

LIMIT = 20
TRANSLATOR = "옮긴이"  # Aladin's credit for a translator


@dataclass(frozen=True)
class Candidate:
    """A book as recommending sees it: what the prompt shows and the scorer weighs."""

    book_id: int
    isbn13: str
    title: str
    authors: tuple[str, ...]
    translated: bool
    category: str
    subcategory: str
    description: str
    rating: int | None
    rank: int | None
    sales_point: int
    published_on: date | None

    @property
    def lead_author(self) -> str:
        return self.authors[0] if self.authors else ""


def candidates(user_id: int, genres: list[str], favourite_isbns: list[str], limit: int = LIMIT) -> list[Candidate]:
    """Up to `limit` books of `genres`, best first, none the reader has seen, read or loved;
    other genres fill in when these run out (so "recommend again" still finds books)."""
    excluded = _excluded(user_id, favourite_isbns)
    found = _top(genres, excluded, limit)
    if len(found) < limit:
        excluded |= {book.id for book, _ in found}
        found += _top(None, excluded, limit - len(found))
    return [_candidate(book, rank) for book, rank in found]


def _excluded(user_id: int, favourite_isbns: list[str]) -> set[int]:
    shown = select(Recommendation.book_id).where(Recommendation.user_id == user_id)
    ids = set(db.session.scalars(shown))
    if favourite_isbns:
        ids |= set(db.session.scalars(select(Book.id).where(Book.isbn13.in_(favourite_isbns))))
    return ids


def _top(genres: list[str] | None, excluded: set[int], limit: int) -> list[tuple[Book, int | None]]:
    day = catalog.latest_list_day()
    on_list = and_(BookRank.book_id == Book.id, BookRank.list_name == catalog.BESTSELLER, BookRank.ranked_on == day)
    query = (
        select(Book, BookRank.rank)
        .outerjoin(BookRank, on_list)
        .options(selectinload(Book.credits).selectinload(BookAuthor.author), selectinload(Book.category))
    )
    if genres is not None:
        query = query.join(Category, Category.id == Book.category_id).where(Category.name.in_(genres))
    if excluded:
        query = query.where(Book.id.not_in(excluded))
    order = (nulls_last(BookRank.rank.asc()), nulls_last(Book.rating.desc()), Book.sales_point.desc(), Book.id)
    return [(book, rank) for book, rank in db.session.execute(query.order_by(*order).limit(limit))]


def _candidate(book: Book, rank: int | None) -> Candidate:
    path = book.category.path.split(">") if book.category else []
    return Candidate(
        book_id=book.id, isbn13=book.isbn13, title=book.title,
        authors=tuple(credit.author.name for credit in book.credits if TRANSLATOR not in credit.role),
        translated=any(TRANSLATOR in credit.role for credit in book.credits),
        category=book.category.name if book.category else "", subcategory=path[2] if len(path) > 2 else "",
        description=book.description, rating=book.rating, rank=rank, sales_point=book.sales_point,
        published_on=book.published_on,
    )  # fmt: skip


def candidates_of(books: list[Book]) -> list[Candidate]:
    """Books as candidates (the reader's favourites, for what they tell of taste)."""
    return [_candidate(book, None) for book in books]
