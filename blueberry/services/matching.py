"""The random-matching engine: presence, the waiting queue and match offers, in Redis.

Every change is one run of `matching.lua`, which Redis executes alone: pairing is atomic
without a global lock (one would serialize every join, and stall the queue until its TTL when
its holder died). The script also publishes the resulting events to the users.

Redis keys owned here (ms = milliseconds):
- `bb:match:online:<uid>` — string, the token of the user's newest match connection;
  TTL MATCH_PRESENCE_S, refreshed by the socket's heartbeat.
- `bb:match:online` — sorted set uid → last heartbeat (ms): who is online, for counting.
- `bb:match:seekers` — hash uid → the user's profile as pairing compares it (age, range,
  gender, preference, radius, location if shared, name), packed with Redis' struct library so a
  scan reads a chunk of candidates in one HMGET. Removed on disconnect; the sweep drops fields
  whose presence has lapsed.
- `bb:match:cards` — hash uid → JSON of what an offer shows besides name, age and gender
  (username, bio, interests, photo version); read only when an offer is made, removed with the
  user's `seekers` field.
- `bb:match:avoid:<uid>` — set of user ids never to offer: matched before, blocked either way,
  declined; TTL 24 h, refilled from SQL on every connection.
- `bb:match:queue:<g><w>` — six sorted sets, one per gender (`m`, `f`) and wish (`m`, `f`,
  `a` for any): member → enqueue time (ms), FIFO, oldest first. A join scans only the parts
  whose people fit it both ways, at most MATCH_SCAN_LIMIT members each.
- `bb:match:offer:<match_id>` — JSON (match_id, user1, user2, names, profiles with cards, status, created_at,
  updated_at, expires_at, user1_response, user2_response, queue places); TTL the offer window
  (MATCH_OFFER_S) plus a grace for the expiry to requeue whoever accepted.
- `bb:match:user:<uid>` — string, the user's current match id; same TTL.
- `bb:match:offers` — sorted set match id → deadline (ms), so the sweep finds overdue offers.
- `bb:match:seq` — counter making match ids unique.
- `bb:match:sweep:<key>` — string, where the sweep's scan of a queue part or of the seekers hash
  stopped (a SCAN cursor); TTL 1 h. Each sweep looks at about `batch` entries of each.
Pub/sub channel `bb:seeker:<uid>` (realtime.events.seeker_topic) carries match events.
"""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
from flask import current_app

from blueberry.config import Config
from blueberry.extensions import get_redis

SCRIPT = (Path(__file__).with_name("matching.lua")).read_text()
AVOID_BATCH = 1000


@dataclass(frozen=True)
class Seeker:
    """What pairing needs to know about a user: who they are and whom they accept."""

    user_id: int
    display_name: str
    age: int
    gender: str
    age_min: int
    age_max: int
    preferred_gender: str
    radius_km: int
    # What an offer shows besides name, age and gender: username, bio, interests (left out when
    # there are none: Redis' JSON would turn an empty list into an object) and the photo's version
    # ("" without a photo, or when the user keeps it off offers).
    card: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """The engine's timings and bounds; the defaults are the configuration's (tests vary them)."""

    offer_s: float = Config.MATCH_OFFER_S
    grace_s: float = 30.0
    presence_s: float = Config.MATCH_PRESENCE_S
    scan: int = Config.MATCH_SCAN_LIMIT
    census: int = 300


class Engine:
    """The matching engine on one Redis connection. Times are seconds; `now` is for tests."""

    def __init__(self, client: redis.Redis, limits: Limits = Limits()):
        self.client, self.limits = client, limits
        self.script = client.register_script(SCRIPT)

    def _run(self, command: str, *args, now: float | None = None) -> dict:
        limits = self.limits
        head = [command, _ms(now), _ms(limits.offer_s), _ms(limits.grace_s), _ms(limits.presence_s), limits.scan]
        return json.loads(self.script(args=[*head, *args]))

    def connect(self, seeker: Seeker, token: str, avoid: set[int], now: float | None = None) -> dict:
        """Mark the user online as `token` (an older connection is told it was replaced); their state."""
        avoid_ids = sorted(avoid)
        fields = [seeker.display_name, seeker.age, seeker.gender, seeker.age_min, seeker.age_max]
        fields += [seeker.preferred_gender, seeker.radius_km, json.dumps(seeker.card)]
        state = self._run("connect", seeker.user_id, token, *fields, *avoid_ids[:AVOID_BATCH], now=now)
        for start in range(AVOID_BATCH, len(avoid_ids), AVOID_BATCH):
            self.client.sadd(f"bb:match:avoid:{seeker.user_id}", *avoid_ids[start : start + AVOID_BATCH])
        return state

    def heartbeat(self, user_id: int, token: str, now: float | None = None) -> dict:
        """Keep the presence alive; status `replaced` when a newer connection took over."""
        return self._run("heartbeat", user_id, token, now=now)

    def disconnect(self, user_id: int, token: str, now: float | None = None) -> dict:
        """Leave matching (presence cleared, out of the queue, an open offer ends for the partner),
        unless a newer connection of the user took over."""
        return self._run("disconnect", user_id, token, now=now)

    def join(self, user_id: int, location: tuple[float, float] | None = None, now: float | None = None) -> dict:
        """Offer the oldest compatible waiting user, or queue; joining again changes nothing."""
        lat, lon = location if location else ("", "")
        return self._run("join", user_id, lat, lon, now=now)

    def leave(self, user_id: int, now: float | None = None) -> dict:
        """Stop searching; during an offer this declines it."""
        return self._run("leave", user_id, now=now)

    def respond(self, user_id: int, match_id: str, accept: bool, now: float | None = None) -> dict:
        """Accept or decline an offer; status `matched` when both accepted (then call `finish`)."""
        return self._run("respond", user_id, match_id, "accept" if accept else "decline", now=now)

    def offer_of(self, user_id: int) -> dict | None:
        """The user's current offer as stored, or None."""
        match_id = self.client.get(f"bb:match:user:{user_id}")
        raw = match_id and self.client.get(f"bb:match:offer:{match_id}")
        return json.loads(raw) if raw else None

    def finish(self, match_id: str) -> dict:
        """Release a matched offer once the match is in SQL."""
        return self._run("finish", match_id)

    def expire(self, match_id: str, now: float | None = None) -> dict:
        """End an offer whose deadline passed (whoever calls first); accepters are requeued."""
        return self._run("expire", match_id, now=now)

    def avoid(self, a: int, b: int) -> None:
        """Never offer these two to each other (a block, or a match just made)."""
        self._run("avoid", a, b)

    def census(self, user_id: int, now: float | None = None) -> dict:
        """How many are online, how many fit both ways, and why the others do not."""
        return self._run("census", user_id, self.limits.census, now=now)

    def sweep(self, batch: int = 500, now: float | None = None) -> dict:
        """Clean what crashed processes left: queue ghosts, stale presence, overdue offers."""
        return self._run("sweep", batch, now=now)


def _ms(seconds: float | None) -> int:
    return int((time.time() if seconds is None else seconds) * 1000)


def limits_from(config) -> Limits:
    return Limits(
        offer_s=config["MATCH_OFFER_S"], presence_s=config["MATCH_PRESENCE_S"], scan=config["MATCH_SCAN_LIMIT"]
    )


def get_engine() -> Engine:
    """The engine of this app, on the web's short-timeout Redis client."""
    return Engine(get_redis(), limits_from(current_app.config))
