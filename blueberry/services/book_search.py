"""Finding books by title, author or publisher as people type, Korean included.

Korean words are short: `한강` is two characters and `해리` finds `해리 포터`. Trigram indexes
(FTS5 `trigram`, `pg_trgm`) cannot look up fewer than three characters, so the catalog keeps
its own index that can, the same on SQLite and PostgreSQL:

- `Book.search_key`: title, authors and publisher, NFKC-folded, lower case, with every space
  removed (people type `해리포터` as often as `해리 포터`), the fields joined by `|`;
- `book_gram`: every distinct two-character piece of that key (none spanning a `|`).

A query of two or more characters is cut into the same pieces: the books holding all of its
rarest pieces are the candidates (an index lookup per piece), and `search_key LIKE %query%`
confirms the order. One character has no piece: it scans `search_key` in best-selling order and
stops at the page's end, which a catalog of tens of thousands of books does in milliseconds
(docs/PERFORMANCE.md has the figures).
"""

import unicodedata

from sqlalchemy import case, delete, func, insert, select

from blueberry.extensions import db
from blueberry.models import Book, BookGram

SEPARATOR = "|"
MAX_QUERY = 100
MAX_GRAMS = 8  # the rarest pieces of a long query narrow enough; LIKE checks the rest


def normalize(text: str) -> str:
    """What search compares: NFKC, lower case, no whitespace, no `|`, `%`, `_`, `\\` or NUL."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(char for char in text if not char.isspace() and char not in "|%_\\\x00")


def search_key(title: str, names: list[str], publisher: str) -> str:
    return SEPARATOR.join(normalize(part) for part in [title, *names, publisher])


def grams_of(key: str) -> set[str]:
    """The two-character pieces of a search key (within each field)."""
    return {field[i : i + 2] for field in key.split(SEPARATOR) for i in range(len(field) - 1)}


def index_book(book: Book, names: list[str]) -> None:
    """Refresh the book's search key and its pieces (after its title, credits or publisher changed)."""
    key = search_key(book.title, names, book.publisher)
    if key == book.search_key and book.id is not None:
        return
    book.search_key = key
    db.session.flush()
    db.session.execute(delete(BookGram).where(BookGram.book_id == book.id))
    rows = [{"gram": gram, "book_id": book.id} for gram in sorted(grams_of(key))]
    if rows:
        db.session.execute(insert(BookGram), rows)


def search(query: str, *, category: str | None = None, limit: int = 20, offset: int = 0) -> list[Book]:
    """Books matching `query` (any length, any alphabet; at most MAX_QUERY characters count),
    titles that start with it first, then by sales. One row more than `limit` means "more"."""
    needle = normalize(query[: MAX_QUERY * 2])[:MAX_QUERY]
    statement = select(Book)
    if needle:
        statement = statement.where(Book.search_key.like(f"%{needle}%"))
        grams = sorted(grams_of(needle))
        if grams:
            statement = statement.where(Book.id.in_(_holding_all(_rarest(grams))))
    if category:
        statement = statement.where(Book.category.has(name=category))
    title_first = case((Book.search_key.like(f"{needle}%"), 0), else_=1) if needle else None
    order = [title_first] if title_first is not None and len(needle) > 1 else []
    statement = statement.order_by(*order, Book.sales_point.desc(), Book.id.desc())
    return list(db.session.scalars(statement.limit(limit + 1).offset(offset)))


def _rarest(grams: list[str]) -> list[str]:
    if len(grams) <= MAX_GRAMS:
        return grams
    counts = dict(
        db.session.execute(
            select(BookGram.gram, func.count()).where(BookGram.gram.in_(grams)).group_by(BookGram.gram)
        ).all()
    )
    return sorted(grams, key=lambda gram: counts.get(gram, 0))[:MAX_GRAMS]


def _holding_all(grams: list[str]):
    """The ids of books whose key holds every piece in `grams` (a subquery)."""
    return (
        select(BookGram.book_id)
        .where(BookGram.gram.in_(grams))
        .group_by(BookGram.book_id)
        .having(func.count() == len(grams))
    )
