"""The book catalog: `/books` (categories, this week's bestsellers, search as you type) and
`/books/<isbn13>`. Search results are the page's fragment: htmx asks for `/books?q=…` and gets
only the list (Vary: HX-Request), a browser without JavaScript gets the whole page."""

from flask import Blueprint, abort, render_template, request

from blueberry.htmx import add_vary_hx_request, is_htmx
from blueberry.services import book as catalog
from blueberry.services import meeting as meetings
from blueberry.services.book_search import MAX_QUERY, search

bp = Blueprint("book", __name__)
bp.after_request(add_vary_hx_request)
PAGE_SIZE = 20


@bp.get("/books")
def index():
    query = request.args.get("q", "")[: MAX_QUERY * 2]
    category = request.args.get("category", "")[:100] or None
    page = max(1, min(request.args.get("page", 1, type=int), 500))
    found = search(query, category=category, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    context = {
        "query": query.strip(), "category": category, "page": page, "books": found[:PAGE_SIZE],
        "has_next": len(found) > PAGE_SIZE, "browsing": not (query.strip() or category),
    }  # fmt: skip
    if is_htmx() and request.headers.get("HX-Target") == "book-results":
        return render_template("book/_results.html", **context)
    return render_template(
        "book/index.html", categories=catalog.categories(), bestsellers=catalog.bestsellers(10),
        sample=catalog.only_sample(), empty=catalog.is_empty(), **context,
    )  # fmt: skip


@bp.get("/books/<isbn13>")
def detail(isbn13: str):
    book = catalog.get(isbn13[:13]) if len(isbn13) == 13 else None
    if book is None:
        abort(404)
    return render_template(
        "book/detail.html", book=book, ranks=catalog.rank_history(book), meetings=meetings.upcoming(book_id=book.id)
    )
