"""A connection's feed: what it missed (stream replay, then SQL catch-up), then live events.

SSE streams and websockets both read a `Feed`. It holds the connection's `Cursor` (last
stream id, last notification id), drops anything at or before it, so a reconnect or a live
event racing a replay is delivered exactly once, in order. `Cursor` strings are the event ids
clients send back (SSE `Last-Event-ID`, websocket `?last_event_id=`).
"""

from collections.abc import Callable, Iterator

import redis

from blueberry.realtime.events import (
    LIVE_DOWN,
    LIVE_UP,
    NOTIFICATION_NEW,
    SERVER_RESTARTING,
    SESSION_ENDED,
    Cursor,
    has_stream,
    make_event,
    stream_key,
)
from blueberry.realtime.hub import Hub, Listener, decode_message

KEEPALIVE = "keepalive"
READY_WAIT_S = 2.0
REPLAY_LIMIT = 500

# (user id, notification id) → the notification events after it, from SQL.
CatchUp = Callable[[int], list[dict]]


def _stream_order(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return (int(ms or 0), int(seq or 0))


class Feed:
    """Events for one connection: subscribe first, then replay, then live (no gap, no repeat)."""

    def __init__(self, hub: Hub, redis_client: redis.Redis, topics: list[str], cursor: Cursor, catch_up: CatchUp):
        self.hub, self.redis, self.cursor, self.catch_up = hub, redis_client, cursor, catch_up
        self.stream_topic = next((t for t in topics if has_stream(t)), None)
        self.listener = Listener(topics)

    def __enter__(self) -> "Feed":
        self.hub.add(self.listener)
        self.listener.ready.wait(READY_WAIT_S)
        return self

    def __exit__(self, *exc) -> None:
        self.hub.remove(self.listener)

    def missed(self) -> Iterator[dict]:
        """What happened since the cursor: the stream's events, then notifications only SQL has."""
        yield from self.accepted(self._replay_stream())
        yield from self.accepted(self.catch_up(self.cursor.notification_id))

    def live(self, keepalive_s: float) -> Iterator[dict]:
        """Live events until the session ends or the server stops; KEEPALIVE when quiet; LIVE_UP is
        followed by a catch-up."""
        while True:
            if self.listener.overflowed:  # too slow to keep up: end, and let the client resync
                yield make_event(LIVE_DOWN, {})
                return
            event = self.listener.get(keepalive_s)
            if event is None:
                yield make_event(KEEPALIVE, {})
            elif event["type"] == LIVE_UP:
                yield event
                yield from self.missed()
            elif event["type"] in (LIVE_DOWN, SESSION_ENDED, SERVER_RESTARTING):
                yield event
                if event["type"] != LIVE_DOWN:
                    return
            else:
                yield from self.accepted([event])

    def _replay_stream(self) -> list[dict]:
        if not (self.stream_topic and self.cursor.stream_id):
            return []
        try:
            entries = self.redis.xrange(
                stream_key(self.stream_topic), min=f"({self.cursor.stream_id}", count=REPLAY_LIMIT
            )
        except redis.RedisError:
            return []
        events = (decode_message(self.stream_topic, f"{entry_id}\n{fields['e']}") for entry_id, fields in entries)
        return [event for event in events if event]

    def accepted(self, events: list[dict]) -> Iterator[dict]:
        """Those of `events` after the cursor, which moves past each."""
        for event in events:
            if self._seen(event):
                continue
            self._advance(event)
            yield event | {"id": str(self.cursor)}

    def _seen(self, event: dict) -> bool:
        nid = event["data"].get("notification_id") if event["type"] == NOTIFICATION_NEW else None
        if nid is not None and nid <= self.cursor.notification_id:
            return True
        stream_id = event.get("id") or ""
        return bool(stream_id and self.cursor.stream_id) and _stream_order(stream_id) <= _stream_order(
            self.cursor.stream_id
        )

    def _advance(self, event: dict) -> None:
        stream_id = event.get("id") or self.cursor.stream_id
        nid = event["data"].get("notification_id") if event["type"] == NOTIFICATION_NEW else None
        self.cursor = Cursor(stream_id, max(nid or 0, self.cursor.notification_id))
