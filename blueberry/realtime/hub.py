"""The hub: one Redis pub/sub connection per process, fanning events out to local listeners.

Every SSE stream and websocket of this process registers a `Listener` for its topics; the hub
subscribes each topic once, whatever the number of listeners, and marks a listener `ready`
when Redis has confirmed all its subscriptions (from then on nothing published is missed).
When Redis goes away the hub tells every listener (`LIVE_DOWN`), reconnects with backoff,
subscribes again and tells them `LIVE_UP` so they catch up on what they missed.

Redis keys owned here: `bb:hub:hello` — pub/sub channel, never published; its subscription
is confirmed last, which tells the hub that all topics before it are confirmed too.
"""

import contextlib
import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable

import redis
from flask import current_app

from blueberry.extensions import make_redis
from blueberry.realtime.events import LIVE_DOWN, LIVE_UP, SERVER_RESTARTING, make_event

log = logging.getLogger(__name__)
QUEUE_LIMIT = 1000
HELLO = "bb:hub:hello"


class Listener:
    """One connection's inbox. The hub puts events in; the connection takes them out.

    A list and an event rather than a queue: thousands of these live in each process, and a
    (gevent) queue costs three deques, about 2.5 KiB, per connection.
    """

    __slots__ = ("topics", "items", "wakeup", "ready", "overflowed")

    def __init__(self, topics: Iterable[str]):
        self.topics = tuple(topics)
        self.items: list[dict] = []
        self.wakeup = threading.Event()
        self.ready = threading.Event()
        self.overflowed = False

    def put(self, event: dict) -> None:
        if len(self.items) >= QUEUE_LIMIT:  # a stalled client: drop, it resyncs on reconnect
            self.overflowed = True
            return
        self.items.append(event)
        self.wakeup.set()

    def get(self, timeout: float) -> dict | None:
        """The oldest event, waiting up to `timeout` seconds; None if none came."""
        if not self.items:
            self.wakeup.wait(timeout)
        self.wakeup.clear()
        if not self.items:
            return None
        event = self.items.pop(0)
        if self.items:
            self.wakeup.set()
        return event


def decode_message(topic: str, raw: str) -> dict | None:
    """A published message (`<stream id>\\n<json>`) as an event, or None if malformed."""
    stream_id, _, payload = raw.partition("\n")
    try:
        body = json.loads(payload)
        return make_event(body["type"], body.get("data") or {}, stream_id) | {"topic": topic, "raw": payload}
    except (ValueError, KeyError, TypeError):
        log.warning("dropped a malformed message on %s", topic)
        return None


class Hub:
    """Fan-out of Redis pub/sub to this process's listeners; reconnects by itself."""

    def __init__(self, connect: Callable[[], redis.Redis], max_backoff: float = 5.0):
        self.connect = connect
        self.max_backoff = max_backoff
        self.listeners: dict[str, set[Listener]] = defaultdict(set)
        self.confirmed: set[str] = set()
        self.requested: set[str] = set()
        self.pubsub = None
        self.up = self.started = False
        self.announced_down = False  # listeners were told LIVE_DOWN and await LIVE_UP
        self.closing = threading.Event()
        self.lock = threading.Lock()
        # Joining the listeners and announcing down or up happen one at a time, so a listener
        # hears LIVE_DOWN once per outage: from the announcement, or on joining after it.
        self.announcing = threading.Lock()

    def add(self, listener: Listener) -> None:
        """Deliver the listener's topics to it (it hears LIVE_DOWN at once if Redis is away)."""
        with self.announcing:
            for topic in listener.topics:
                self.listeners[topic].add(listener)
            if self.announced_down:
                listener.put(make_event(LIVE_DOWN, {}))
        self._ensure_started()
        if self.up:
            self._subscribe_missing()
        self._check_ready(listener)

    def _subscribe_missing(self) -> None:
        new = [topic for topic in self.listeners if topic not in self.requested]
        if new:
            self.requested.update(new)
            self._safe(lambda: self.pubsub.subscribe(*new))

    def remove(self, listener: Listener) -> None:
        gone = []
        for topic in listener.topics:
            self.listeners[topic].discard(listener)
            if not self.listeners[topic]:
                del self.listeners[topic]
                self.requested.discard(topic)
                self.confirmed.discard(topic)
                gone.append(topic)
        if gone and self.up:
            self._safe(lambda: self.pubsub.unsubscribe(*gone))

    def _check_ready(self, listener: Listener) -> None:
        if all(topic in self.confirmed for topic in listener.topics):
            listener.ready.set()

    @staticmethod
    def _safe(call) -> None:
        # On failure the reader notices the broken connection and resubscribes everything.
        with contextlib.suppress(redis.RedisError, OSError):
            call()

    def _ensure_started(self) -> None:
        with self.lock:
            if not self.started:
                self.started = True
                threading.Thread(target=self._run, name="bb-hub", daemon=True).start()

    def close(self) -> None:
        """Stop reading and reconnecting (a hub that outlives its use would retry forever)."""
        self.closing.set()
        with contextlib.suppress(Exception):  # whatever state the connection is in, it is done
            if self.pubsub is not None:
                self.pubsub.close()

    def _run(self) -> None:
        backoff = 0.2
        while not self.closing.is_set():
            try:
                self._serve()
            except (redis.RedisError, OSError) as error:
                if self.closing.is_set():
                    return
                log.warning("hub lost Redis: %s", error)
            if self.up:
                backoff = 0.2
            if self.up or not self.announced_down:
                self._went_down()
            self.closing.wait(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    def _went_down(self) -> None:
        with self.announcing:
            self.up, self.announced_down = False, True
            self.confirmed.clear()
            for listener in self._all_listeners():
                listener.ready.clear()
                listener.put(make_event(LIVE_DOWN, {}))

    def _serve(self) -> None:
        pubsub = self.connect().pubsub()
        topics = list(self.listeners)
        self.pubsub, self.requested = pubsub, set(topics)
        pubsub.subscribe(*topics, HELLO)  # HELLO last: its confirmation means all are confirmed
        self.up = True
        self._subscribe_missing()  # topics added while this connection was being made
        for message in pubsub.listen():
            kind, topic = message["type"], message["channel"]
            if kind == "message":
                self._dispatch(topic, message["data"])
            elif kind == "subscribe":
                self._confirmed(topic)
            elif kind == "unsubscribe":
                self.confirmed.discard(topic)

    def _confirmed(self, topic: str) -> None:
        if topic != HELLO:
            self.confirmed.add(topic)
            for listener in list(self.listeners.get(topic, ())):
                self._check_ready(listener)
            return
        with self.announcing:
            if self.announced_down:  # back after an outage: everyone catches up
                self.announced_down = False
                for listener in self._all_listeners():
                    listener.put(make_event(LIVE_UP, {}))

    def _dispatch(self, topic: str, raw: str) -> None:
        event = decode_message(topic, raw)
        if event is None:
            return
        for listener in list(self.listeners.get(topic, ())):
            listener.put(event)

    def announce_restart(self) -> None:
        """This process is stopping: every connection closes and its client reconnects elsewhere."""
        with self.announcing:
            for listener in self._all_listeners():
                listener.put(make_event(SERVER_RESTARTING, {}))

    def _all_listeners(self) -> set[Listener]:
        return {listener for group in list(self.listeners.values()) for listener in group}


def get_hub() -> Hub:
    """This process's hub (created on first use, after gunicorn forked the worker)."""
    hub = current_app.extensions.get("bb_hub")
    if hub is None:
        url = current_app.config["REDIS_URL"]
        hub = current_app.extensions["bb_hub"] = Hub(lambda: make_redis(url, socket_timeout=None))
    return hub


def announce_restart(app) -> None:
    """Called by the web server when it begins a graceful stop (gunicorn.conf.py)."""
    hub = app.extensions.get("bb_hub")
    if hub is not None:
        hub.announce_restart()
