"""Helpers for news tests: sources pointed at the fake publishers, and stories to put in them."""

import json
from datetime import timedelta

from blueberry.models.base import utcnow


def source(name: str, url: str, language: str = "en", category: str = "world", sections: dict | None = None) -> dict:
    return {"name": name, "url": url, "language": language, "category": category, "sections": sections or {}}


def configure(app, *sources: dict) -> None:
    app.config["NEWS_SOURCES"] = json.dumps(list(sources))


def story(n: int, hours_ago: float = 0, **fields) -> dict:
    """Item `n` of a fake feed: a link and guid of its own, published `hours_ago`."""
    return {
        "title": f"Story {n}", "link": f"https://news.example/{n}", "guid": f"guid-{n}",
        "date": utcnow() - timedelta(hours=hours_ago, minutes=n), "author": f"Reporter {n}",
        "description": f"First sentence of story {n}. Second sentence. Third sentence. Fourth one.",
        **fields,
    }  # fmt: skip
