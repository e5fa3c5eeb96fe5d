"""Our news categories: a fixed list in the code (their labels are translated), kept as
`NewsCategory` rows so articles and the sources' section mappings can point at them."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from blueberry.extensions import db
from blueberry.models import NewsCategory

# In page order; a slug is what URLs and the sources' configuration say.
CATEGORIES = {
    "politics": _l("Politics"),
    "business": _l("Business"),
    "society": _l("Society"),
    "world": _l("World"),
    "technology": _l("Technology"),
    "science": _l("Science"),
    "health": _l("Health"),
    "culture": _l("Culture"),
    "books": _l("Books"),
    "sports": _l("Sports"),
}


def label(slug: str | None) -> str:
    return str(CATEGORIES.get(slug or "", _l("News")))


def sync() -> dict[str, int]:
    """Make sure every category has its row; slug → id (flushes, the caller commits)."""
    rows = {row.slug: row for row in db.session.scalars(select(NewsCategory))}
    for position, slug in enumerate(CATEGORIES):
        row = rows.get(slug)
        if row is None:
            rows[slug] = row = NewsCategory(slug=slug, position=position)
            db.session.add(row)
        row.position = position
    db.session.flush()
    return {slug: row.id for slug, row in rows.items() if slug in CATEGORIES}


def ids(session: Session | None = None) -> dict[str, int]:
    """slug → id of the categories there are rows for."""
    return dict((session or db.session).execute(select(NewsCategory.slug, NewsCategory.id)).all())
