"""A look-aside Redis cache of the news list pages: cards as JSON (pages are rendered per
reader's language and time zone, so HTML is not cached), per scope (a category's slug, or
"all") and cursor.

- **Versions.** Each scope has a version, in every page's key. Ingestion does not delete
  anything: after its commit it writes the first pages of a new version itself (write-through),
  then makes that version current. Readers see one version or the next, never a mix, and a
  bump never leaves the first pages cold. Old versions expire by their TTL.
- **No stampede.** A missing page is filled by one request, which holds a short lock; the others
  wait briefly for its result, then read SQL themselves rather than wait longer.
- **Redis down.** Pages come from SQL: slower, never broken.
- **Counted.** Hits, misses, fills, fill time, waits and give-ups go to one hash that the staff
  runs page shows.

Redis keys owned here:
- `bb:news:v:<scope>` — string: the current version (none yet: "0").
- `bb:news:vseq:<scope>` — string: the last version handed out (INCR).
- `bb:news:page:<scope>:<version>:<cursor>` — string: the page as JSON (`{"cards": [...], "next": cursor}`
  and what else its loader put in), TTL NEWS_CACHE_TTL_S.
- `bb:news:fill:<scope>:<version>:<cursor>` — string: the lock of the request filling that page, TTL 3 s.
- `bb:news:stats` — hash: hits, misses, fills, fill_ms, waited, gave_up, write_through.
"""

import json
import logging
import time
from collections.abc import Callable

import redis
from flask import current_app
from sqlalchemy.orm import Session

from blueberry.aftercommit import defer, on_commit
from blueberry.extensions import db, get_redis
from blueberry.services import news

log = logging.getLogger(__name__)
STATS_KEY = "bb:news:stats"
FIRST = "top"  # the cursor of a first page
LOCK_MS = 3000
POLL_S = 0.01

# KEYS: version key, stats key. ARGV: page key prefix (without the version), lock key prefix,
# cursor, lock ms. One round trip and one step: the current version, its page if cached, else
# whether this request took the lock to fill it, and the hit or miss counted. Seeing the miss
# and taking the lock together is what stops a latecomer, who saw the page missing just before
# the filler wrote it, from filling it again.
_READ = """
local version = redis.call('GET', KEYS[1]) or '0'
local page = redis.call('GET', ARGV[1] .. version .. ':' .. ARGV[3])
redis.call('HINCRBY', KEYS[2], page and 'hits' or 'misses', 1)
if page then return {version, page, 0} end
local locked = redis.call('SET', ARGV[2] .. version .. ':' .. ARGV[3], '1', 'NX', 'PX', ARGV[4])
return {version, false, locked and 1 or 0}
"""
# KEYS: version key. ARGV: the new version. It only ever moves forward (two runs may race).
_PROMOTE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""

Load = Callable[[str], dict]  # cursor → page: {"cards": [...], "next": cursor or None, ...}


def _version_key(scope: str) -> str:
    return f"bb:news:v:{scope}"


def _page_prefix(scope: str) -> str:
    return f"bb:news:page:{scope}:"


def _lock_prefix(scope: str) -> str:
    return f"bb:news:fill:{scope}:"


def page(scope: str, cursor: str | None, load: Load) -> dict:
    """The page of `scope` at `cursor` (its cards and the next cursor): from the cache, else
    `load` (SQL) once for everyone asking at the same moment."""
    if not current_app.config["NEWS_CACHE"]:
        return load(cursor or FIRST)
    cursor = cursor or FIRST
    try:
        return _cached(get_redis(), scope, cursor, load)
    except redis.RedisError:
        log.warning("news cache unavailable: %s page from SQL", scope)
        return load(cursor)


def _cached(client: redis.Redis, scope: str, cursor: str, load: Load) -> dict:
    keys = (_version_key(scope), STATS_KEY)
    version, cached, locked = client.eval(_READ, 2, *keys, _page_prefix(scope), _lock_prefix(scope), cursor, LOCK_MS)
    if cached is not None:
        return _decode(cached)
    key = f"{_page_prefix(scope)}{version}:{cursor}"
    if locked:
        return _fill(client, key, f"{_lock_prefix(scope)}{version}:{cursor}", lambda: load(cursor))
    return _wait_for(client, key, lambda: load(cursor))


def _fill(client: redis.Redis, key: str, lock: str, load: Callable) -> dict:
    started = time.perf_counter()
    found = load()
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    pipe = client.pipeline(transaction=False)
    pipe.set(key, _encode(found), ex=current_app.config["NEWS_CACHE_TTL_S"])
    pipe.hincrby(STATS_KEY, "fills", 1)
    pipe.hincrby(STATS_KEY, "fill_ms", elapsed_ms)
    pipe.delete(lock)  # had it lapsed and passed on, the next filler only finds the page there
    pipe.execute()
    return found


def _wait_for(client: redis.Redis, key: str, load: Callable) -> dict:
    """Another request is filling `key`: wait for it a little, then read SQL rather than wait on."""
    deadline = time.monotonic() + current_app.config["NEWS_CACHE_WAIT_S"]
    while time.monotonic() < deadline:
        time.sleep(POLL_S)
        cached = client.get(key)
        if cached is not None:
            client.hincrby(STATS_KEY, "waited", 1)
            return _decode(cached)
    client.hincrby(STATS_KEY, "gave_up", 1)
    return load()


def refresh_on_commit(scopes: set[str]) -> None:
    """Once the current transaction commits, write the first pages of a new version of each
    scope and make it current."""
    for scope in scopes:
        defer("news_cache", scope)


def _refresh(scopes: list[str]) -> None:
    # The committing session cannot read inside its own after-commit: a session of its own can.
    with Session(db.engine) as session:
        for scope in dict.fromkeys(scopes):
            try:
                write_through(get_redis(), scope, news.loader(scope, session))
            except Exception:  # the stories are committed whatever happens here
                log.exception("news cache: %s not refreshed (its pages fill on the next reads)", scope)


on_commit("news_cache", _refresh)


def write_through(client: redis.Redis, scope: str, load: Load) -> int:
    """Write the first NEWS_CACHE_WARM_PAGES pages of a new version, then promote it; the version."""
    config = current_app.config
    if not config["NEWS_CACHE"]:
        return 0
    version = client.incr(f"bb:news:vseq:{scope}")
    cursor: str | None = FIRST
    pipe = client.pipeline(transaction=False)
    for _ in range(config["NEWS_CACHE_WARM_PAGES"]):
        found = load(cursor)
        pipe.set(f"{_page_prefix(scope)}{version}:{cursor}", _encode(found), ex=config["NEWS_CACHE_TTL_S"])
        if not found["next"]:
            break
        cursor = found["next"]
    pipe.hincrby(STATS_KEY, "write_through", 1)
    pipe.eval(_PROMOTE, 1, _version_key(scope), version)
    pipe.execute()
    return version


def stats() -> dict[str, int]:
    """The counters, for /ops/runs (empty when Redis is away)."""
    try:
        raw = get_redis().hgetall(STATS_KEY)
    except redis.RedisError:
        return {}
    return {key: int(value) for key, value in raw.items()}


def _encode(found: dict) -> str:
    return json.dumps(found, ensure_ascii=False, separators=(",", ":"))


def _decode(raw: str) -> dict:
    return json.loads(raw)
