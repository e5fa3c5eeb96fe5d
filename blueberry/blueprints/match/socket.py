"""One `/ws/match` connection: the client's frames in, the user's match events out.

The engine (services/matching) decides everything and publishes what both users must hear on
their `bb:seeker:<id>` channels; this loop relays those, answers the client's frames, keeps the
presence alive, sends a `match.searching` census every few seconds while searching, and asks
the engine to expire the offer when its deadline passes (the sweep job does it if nobody is
connected). Protocol: docs/realtime.md.
"""

import contextlib
import math
import time

import redis
from flask import current_app

from blueberry.extensions import db, get_redis
from blueberry.realtime import errors
from blueberry.realtime.connection import Done, LiveConnection
from blueberry.realtime.events import (
    MATCH_CONNECTED,
    MATCH_ENDED,
    MATCH_IDLE,
    MATCH_OFFER,
    MATCH_PARTNER_ACCEPTED,
    MATCH_REPLACED,
    MATCH_SEARCHING,
    make_event,
    publish_many,
    seeker_topic,
)
from blueberry.realtime.ws import LiveSocket
from blueberry.services import room as rooms
from blueberry.services.matching import Engine, Seeker

EXPIRY_RETRY_S = 2.0
CLOSE_NORMAL = 1000


class MatchConnection(LiveConnection):
    """The state of one match socket; the loop is LiveConnection's."""

    paused_reason = "matching paused; reconnect"

    def __init__(self, live: LiveSocket, session_topic: str, *, engine: Engine, seeker: Seeker | None,
                 user_id: int, token: str):  # fmt: skip
        super().__init__(live, session_topic)
        self.engine, self.seeker, self.user_id, self.token = engine, seeker, user_id, token
        config = current_app.config
        self.heartbeat_s, self.census_s = config["MATCH_HEARTBEAT_S"], config["MATCH_CENSUS_EVERY_S"]
        self.searching_since: float | None = None  # epoch seconds, while queued
        self.offer: dict | None = None  # this side's view of the current offer
        self.next_beat = self.next_census = self.next_expiry = math.inf

    def topics(self) -> list[str]:
        return [seeker_topic(self.user_id)]

    def start(self) -> None:
        self.connect()

    def finish(self) -> None:
        self.disconnect()

    def wait_s(self) -> float:
        return max(0.0, self._next_deadline() - time.time())

    def on_quiet(self) -> None:
        self._tick()

    def connect(self) -> None:
        if self.seeker is not None:
            self._apply_state(self.engine.connect(self.seeker, self.token, rooms.avoided_ids(self.user_id)))
        else:
            self.live.send_event(make_event(MATCH_IDLE, {}))
        db.session.remove()  # the loop holds no database connection while it waits
        self.next_beat = time.time() + self.heartbeat_s

    def disconnect(self) -> None:
        """Leave matching, if this is still the user's newest connection (not on a server restart:
        the client reconnects within seconds, and a lost one expires with its presence)."""
        if self.seeker is not None and not self.restarting:
            # If Redis is away the presence expires by itself and the sweep job drops the rest.
            with contextlib.suppress(redis.RedisError):
                self.engine.disconnect(self.user_id, self.token)

    def _next_deadline(self) -> float:
        return min(self.next_beat, self.next_census, self.next_expiry)

    def _tick(self) -> None:
        now = time.time()
        if now >= self.next_beat:
            self.next_beat = now + self.heartbeat_s
            if self.engine.heartbeat(self.user_id, self.token)["status"] == "replaced":
                self._replaced()
        if now >= self.next_census:
            self._send_census()
        if now >= self.next_expiry and self.offer:
            self.next_expiry = now + EXPIRY_RETRY_S
            self.engine.expire(self.offer["match_id"])

    # -- events from the hub ----------------------------------------------------------------

    def on_event(self, event: dict) -> None:
        kind, data = event["type"], event["data"]
        if kind == MATCH_REPLACED and data.get("token") != self.token:
            self._replaced()
        elif kind == MATCH_OFFER:
            self._show_offer(data)
        elif kind == MATCH_PARTNER_ACCEPTED and self.offer and self.offer["match_id"] == data.get("match_id"):
            self.offer["partner_accepted"] = True
            self.live.send_event(event)
        elif kind == MATCH_ENDED:
            self._offer_ended(event)
        elif kind == MATCH_CONNECTED:
            self._set_idle()
            self.live.send_event(event)

    def _replaced(self) -> None:
        self.live.send_event(make_event(MATCH_REPLACED, {}))
        self.live.close(CLOSE_NORMAL, "matching continues in another window")
        raise Done

    def _show_offer(self, view: dict) -> None:
        if view == self.offer:  # the same offer, already shown (a join that raced its own event)
            return
        self.searching_since, self.next_census = None, math.inf
        self.offer, self.next_expiry = view, view["expires_at"]
        self.live.send_event(make_event(MATCH_OFFER, view))

    def _offer_ended(self, event: dict) -> None:
        if not self.offer or self.offer["match_id"] != event["data"].get("match_id"):
            return
        self.live.send_event(event)
        if event["data"].get("requeued"):
            self._apply_state(self.engine.heartbeat(self.user_id, self.token))
        else:
            self._set_idle()

    def _set_idle(self) -> None:
        self.offer = self.searching_since = None
        self.next_census = self.next_expiry = math.inf

    def _apply_state(self, state: dict) -> None:
        """Show what the engine says this user is doing now."""
        status = state["status"]
        if status == "offered":
            self._show_offer(state["view"])
        elif status == "queued":
            self.offer, self.next_expiry = None, math.inf
            self.searching_since = state["since"] / 1000
            self._send_census()
        elif status == "replaced":
            self._replaced()
        else:
            self._set_idle()
            self.live.send_event(make_event(MATCH_IDLE, {}))

    def _send_census(self) -> None:
        if self.searching_since is None:
            self.next_census = math.inf
            return
        census = self.engine.census(self.user_id)
        waited = max(0, round(time.time() - self.searching_since))
        data = {"waited_s": waited, "since": self.searching_since, **census}
        self.live.send_event(make_event(MATCH_SEARCHING, data))
        self.next_census = time.time() + self.census_s

    # -- frames from the client -------------------------------------------------------------

    def on_frame(self, frame: dict) -> None:
        if self.seeker is None and frame["type"] != "ping" and frame["type"] in self.frames:
            self.live.send_error(errors.PROFILE_INCOMPLETE)
        else:
            super().on_frame(frame)

    def on_join(self, frame: dict) -> None:
        location = _location(frame)
        if location is False:
            self.live.send_error(errors.BAD_LOCATION)
            return
        state = self.engine.join(self.user_id, location or None)
        if state["status"] == "offline":  # the presence was lost (a Redis restart): connect again
            self.engine.connect(self.seeker, self.token, set())
            state = self.engine.join(self.user_id, location or None)
        self._apply_state(state)

    def on_leave(self, frame: dict) -> None:
        self.engine.leave(self.user_id)
        self._apply_state({"status": "idle"})

    def on_answer(self, frame: dict) -> None:
        match_id = frame.get("match_id")
        if not isinstance(match_id, str) or len(match_id) > 80:
            self.live.send_error(errors.BAD_MATCH_ID)
            return
        result = self.engine.respond(self.user_id, match_id, frame["type"] == "match.accept")
        status = result["status"]
        if status == "error":
            self.live.send_error(result["code"])  # the engine's code: not_found, not_pending, expired
        elif status == "accepted":
            self._show_offer(result["view"])
        elif status == "matched":
            self._open_room(result["offer"])

    def _open_room(self, offer: dict) -> None:
        """Both accepted: write the match to SQL (one transaction), then release the offer."""
        user1, user2 = int(offer["user1"]), int(offer["user2"])
        try:
            rooms.open_matched_room(user1, user2)
            db.session.commit()
        except rooms.AlreadyMatched:  # only if Redis forgot they had met: end the offer for both
            db.session.rollback()
            ended = {"match_id": offer["match_id"], "reason": "expired", "requeued": False}
            publish_many(get_redis(), [(seeker_topic(uid), MATCH_ENDED, ended) for uid in (user1, user2)])
        finally:
            db.session.remove()
            self.engine.avoid(user1, user2)
            self.engine.finish(offer["match_id"])


MatchConnection.frames = {
    "match.join": MatchConnection.on_join,
    "match.leave": MatchConnection.on_leave,
    "match.accept": MatchConnection.on_answer,
    "match.decline": MatchConnection.on_answer,
}


def _location(frame: dict) -> tuple[float, float] | None | bool:
    """(lat, lon) when the frame shares a valid location, None without one, False when invalid."""
    lat, lon = frame.get("lat"), frame.get("lon")
    if lat in (None, "") and lon in (None, ""):
        return None
    if isinstance(lat, bool) or isinstance(lon, bool):
        return False
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer of 400 digits
        return False
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # NaN compares false: refused too
        return False
    return (lat, lon)
