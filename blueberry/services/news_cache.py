"""A look-aside Redis cache of the news list pages: cards as JSON (pages are rendered per
reader's language and time zone, so HTML is not cached), per scope (a category's slug, or
"all") and cursor.

- **Versions.** Each scope has a version, in every page's key. Ingestion does not delete
  anything: after its commit it writes the first pages of a new version itself (write-through),
  then makes that version current. Readers see one version or the next, never a mix, and a
  bump never leaves the first pages cold. Old versions expire by their TTL.
- **No stampede.** A missing page is filled by one request, which holds a short lock; the others
  wait briefly for its result, then read SQL themselves rather than wait longer.
- **Only real cursors.** A next page is cached only at a cursor this version handed out (as a
  page's `next`): any other cursor in a URL is read from SQL and stored nowhere, so made-up
  cursors cannot fill Redis.
- **Redis down.** Pages come from SQL: slower, never broken.
- **Counted.** Hits, misses (strays, at cursors not handed out, among them), fills, fill time,
  waits and give-ups go to one hash that the staff runs page shows.

Redis keys owned here:
- `bb:news:v:<scope>` — string: the current version (none yet: "0").
- `bb:news:vseq:<scope>` — string: the last version handed out.
- `bb:news:<scope>:page:<version>:<cursor>` — string: the page as JSON (`{"cards": [...], "next":
  cursor}` and what else its loader put in), TTL NEWS_CACHE_TTL_S.
- `bb:news:<scope>:fill:<version>:<cursor>` — string: the lock of the request filling that page, TTL 3 s.
- `bb:news:<scope>:next:<version>` — set: the cursors that version's pages handed out, TTL NEWS_CACHE_TTL_S.
- `bb:news:stats` — hash: hits, misses, strays, fills, fill_ms, waited, gave_up, write_through.
"""

import json
import logging
import time
from collections.abc import Callable

import redis
from flask import current_app
from sqlalchemy.orm import Session

from blueberry import singleflight
from blueberry.aftercommit import defer, on_commit
from blueberry.extensions import db, get_redis
from blueberry.services import news

log = logging.getLogger(__name__)
STATS_KEY = "bb:news:stats"
FIRST = "top"  # the cursor of a first page
LOCK_MS = 3000

# KEYS: version key, stats key. ARGV: the scope's key prefix, cursor, lock ms. One round trip
# and one step: the current version; its page if cached; else whether this request took the
# lock to fill it (1), another holds it (0), or the cursor is not one to cache (-1). Seeing the
# miss and taking the lock together is what stops a latecomer, who saw the page missing just
# before the filler wrote it, from filling it again.
_READ = """
local version = redis.call('GET', KEYS[1]) or '0'
local at = version .. ':' .. ARGV[2]
local page = redis.call('GET', ARGV[1] .. 'page:' .. at)
redis.call('HINCRBY', KEYS[2], page and 'hits' or 'misses', 1)
if page then return {version, page, 0} end
if ARGV[2] ~= 'FIRST' and redis.call('SISMEMBER', ARGV[1] .. 'next:' .. version, ARGV[2]) == 0 then
  redis.call('HINCRBY', KEYS[2], 'strays', 1)
  return {version, false, -1}
end
local locked = redis.call('SET', ARGV[1] .. 'fill:' .. at, '1', 'NX', 'PX', ARGV[3])
return {version, false, locked and 1 or 0}
""".replace("FIRST", FIRST)
# KEYS: version key, version sequence key. A new version, after both the last one handed out
# and the current one (should the sequence have been lost, versions still move forward).
_NEXT_VERSION = """
local last = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[2], last + 1)
return last + 1
"""
# KEYS: version key. ARGV: the new version. It only ever moves forward (two runs may race).
_PROMOTE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""

Load = Callable[[str], dict]  # cursor → page: {"cards": [...], "next": cursor or None, ...}


class _Keys:
    """The Redis keys of one scope's cache (listed above)."""

    def __init__(self, scope: str):
        self.version, self.sequence = f"bb:news:v:{scope}", f"bb:news:vseq:{scope}"
        self.prefix = f"bb:news:{scope}:"  # of its pages, fill locks and handed-out cursors

    def page(self, version, cursor: str) -> str:
        return f"{self.prefix}page:{version}:{cursor}"

    def lock(self, version, cursor: str) -> str:
        return f"{self.prefix}fill:{version}:{cursor}"

    def cursors(self, version) -> str:
        return f"{self.prefix}next:{version}"


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
    keys = _Keys(scope)
    version, cached, locked = client.eval(_READ, 2, keys.version, STATS_KEY, keys.prefix, cursor, LOCK_MS)
    if cached is not None:
        return _decode(cached)
    if locked == -1:  # not a cursor of this version's pages: read, but keep nothing
        return load(cursor)
    if locked:
        return _fill(client, keys, version, cursor, load)
    return _wait_for(client, keys.page(version, cursor), lambda: load(cursor))


def _fill(client: redis.Redis, keys: _Keys, version, cursor: str, load: Load) -> dict:
    started = time.perf_counter()
    found = load(cursor)
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    pipe = client.pipeline(transaction=False)
    _store(pipe, keys, version, cursor, found)
    pipe.hincrby(STATS_KEY, "fills", 1)
    pipe.hincrby(STATS_KEY, "fill_ms", elapsed_ms)
    pipe.delete(keys.lock(version, cursor))  # had it lapsed and passed on, the next filler only finds the page
    pipe.execute()
    return found


def _store(pipe, keys: _Keys, version, cursor: str, found: dict) -> None:
    """Queue the page and, first, its next cursor as one this version handed out."""
    ttl = current_app.config["NEWS_CACHE_TTL_S"]
    if found["next"]:
        pipe.sadd(keys.cursors(version), found["next"])
        pipe.expire(keys.cursors(version), ttl)
    pipe.set(keys.page(version, cursor), _encode(found), ex=ttl)


def _wait_for(client: redis.Redis, key: str, load: Callable) -> dict:
    """Another request is filling `key`: wait for it a little, then read SQL rather than wait on."""
    cached = singleflight.wait_for(client, key, current_app.config["NEWS_CACHE_WAIT_S"])
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
    keys = _Keys(scope)
    version = client.eval(_NEXT_VERSION, 2, keys.version, keys.sequence)
    cursor: str | None = FIRST
    pipe = client.pipeline(transaction=False)
    for _ in range(config["NEWS_CACHE_WARM_PAGES"]):
        found = load(cursor)
        _store(pipe, keys, version, cursor, found)
        if not found["next"]:
            break
        cursor = found["next"]
    pipe.hincrby(STATS_KEY, "write_through", 1)
    pipe.eval(_PROMOTE, 1, keys.version, version)
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
