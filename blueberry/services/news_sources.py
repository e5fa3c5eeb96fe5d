"""The publishers' feeds news is read from: configuration (`NEWS_SOURCES`, a JSON list, or the
file `NEWS_SOURCES_FILE`) made into `NewsSource` rows with their section mappings.

Each source is `{"name", "url", "language": "ko"|"en", "category": <our slug>, "sections":
{<the feed's own category name>: <our slug>}}`. An item goes to the category its first mapped
section names, else to the source's `category`. A source that leaves the configuration is
disabled, not deleted: its articles stay.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import NewsSource, SourceCategory
from blueberry.models.news import LANGUAGES
from blueberry.outbound import Refused, check_url
from blueberry.services import news_categories
from blueberry.services.feeds import fold


class SourceConfigError(Exception):
    """The sources' configuration cannot be used; the message says where."""


@dataclass(frozen=True)
class SourceConfig:
    name: str
    url: str
    language: str
    category: str
    sections: dict[str, str] = field(default_factory=dict)
    file: str = ""  # the shipped samples only: read from blueberry/data/news/, never fetched


def configured() -> list[SourceConfig]:
    """The sources the configuration names (none when it names none)."""
    raw = current_app.config["NEWS_SOURCES"]
    path = current_app.config["NEWS_SOURCES_FILE"]
    if not raw and path:
        try:
            raw = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise SourceConfigError(f"NEWS_SOURCES_FILE {path}: {error.strerror}") from None
    return read(raw) if raw else []


def read(raw: str) -> list[SourceConfig]:
    try:
        entries = json.loads(raw)
    except ValueError:
        raise SourceConfigError("the news sources are not JSON") from None
    if not isinstance(entries, list):
        raise SourceConfigError("the news sources must be a JSON list")
    return [_source(entry, number) for number, entry in enumerate(entries, start=1)]


def _source(entry, number: int) -> SourceConfig:
    where = f"news source {number}"
    if not isinstance(entry, dict):
        raise SourceConfigError(f"{where} is not an object")
    name, url = str(entry.get("name", "")).strip()[:100], str(entry.get("url", "")).strip()
    if not name:
        raise SourceConfigError(f"{where} has no name")
    try:
        check_url(url)
    except Refused as error:
        raise SourceConfigError(f"{where} ({name}): url: {error}") from None
    language, category = entry.get("language"), entry.get("category")
    if language not in LANGUAGES:
        raise SourceConfigError(f"{where} ({name}): language must be one of {', '.join(LANGUAGES)}")
    sections = entry.get("sections") or {}
    for slug in [category, *(sections.values() if isinstance(sections, dict) else [None])]:
        if slug not in news_categories.CATEGORIES:
            raise SourceConfigError(f"{where} ({name}): unknown category {slug!r}")
    return SourceConfig(name, url, language, category, {fold(k): v for k, v in sections.items()},
                        str(entry.get("file", "")))  # fmt: skip


def sync(configs: list[SourceConfig], enable: bool = True) -> list[NewsSource]:
    """Rows for `configs` (enabled unless `enable` is False: the samples), every other source
    disabled when `enable`; the rows of `configs`, in order (flushes, the caller commits)."""
    category_ids = news_categories.sync()
    rows = {row.feed_url: row for row in db.session.scalars(select(NewsSource))}
    if enable:
        for row in rows.values():
            row.enabled = False
    synced = []
    for config in configs:
        row = rows.get(config.url)
        if row is None:
            row = rows[config.url] = NewsSource(feed_url=config.url)
            db.session.add(row)
        row.name, row.language, row.enabled = config.name, config.language, enable
        row.category_id = category_ids[config.category]
        _sync_sections(row, config.sections, category_ids)
        synced.append(row)
    db.session.flush()
    return synced


def _sync_sections(row: NewsSource, sections: dict[str, str], category_ids: dict[str, int]) -> None:
    kept = {section.name: section for section in row.sections}
    for name, section in kept.items():
        if name not in sections:
            row.sections.remove(section)
    for name, slug in sections.items():
        if name in kept:
            kept[name].category_id = category_ids[slug]
        else:
            row.sections.append(SourceCategory(name=name, category_id=category_ids[slug]))


def category_of(source: NewsSource, sections: list[str]) -> int | None:
    """Our category for an item of `source` with these sections of its own."""
    mapped = {section.name: section.category_id for section in source.sections}
    for name in sections:
        if name in mapped:
            return mapped[name]
    return source.category_id
