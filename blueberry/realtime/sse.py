"""Server-Sent Events: one stream per connection, HTML fragments for htmx or JSON.

The stream opens with a comment at once (proxies and browsers see it is live), replays what
the client missed, then sends live events and a keepalive comment when quiet. It never refuses
with an error status: the htmx sse extension forgets `Last-Event-ID` after a refused stream,
so an ended session gets a `session.ended` event and the stream closes.
"""

import contextlib
import json
from collections.abc import Callable, Iterator

from flask import Response, stream_with_context

from blueberry.realtime.events import SERVER_RESTARTING, SESSION_ENDED
from blueberry.realtime.feed import KEEPALIVE, Feed
from blueberry.services.online import Entry

# Browsers reconnect after this many milliseconds when a stream drops.
RETRY_MS = 2000

Render = Callable[[dict], str | None]


def format_event(event: dict, data: str) -> str:
    """One SSE message: id, event name (the event type) and one `data:` line per line."""
    lines = [f"id: {event['id']}"] if event.get("id") else []
    lines.append(f"event: {event['type']}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


def as_json(event: dict) -> str:
    """The event as compact JSON (its published payload reused when there is one: fan-outs are hot)."""
    raw = event.get("raw")
    if raw:
        return '{"id":' + json.dumps(event.get("id", "")) + "," + raw[1:]
    public = {key: event[key] for key in ("type", "id", "data")}
    return json.dumps(public, separators=(",", ":"), default=str)


def _messages(feed: Feed, render: Render, keepalive_s: float, entry: Entry | None) -> Iterator[str]:
    yield f": connected\nretry: {RETRY_MS}\n\n"
    with feed, _counted(entry):
        for event in _events(feed, keepalive_s):
            if entry:
                entry.beat()
            if event["type"] == SERVER_RESTARTING:
                return  # the browser reconnects (to another process) with its Last-Event-ID
            if event["type"] == KEEPALIVE:
                yield ": keepalive\n\n"
                continue
            data = render(event)
            if data is not None:
                yield format_event(event, data)


@contextlib.contextmanager
def _counted(entry: Entry | None) -> Iterator[None]:
    """The stream's entry stays while the stream is open (services/online.py): a user's stream
    counts them as online, the public news stream holds one of its address's slots."""
    if entry is None:
        yield
        return
    entry.arrive()
    try:
        yield
    finally:
        entry.depart()


def _events(feed: Feed, keepalive_s: float) -> Iterator[dict]:
    yield from feed.missed()
    yield from feed.live(keepalive_s)


def ended_stream(render: Render) -> Response:
    """A 200 stream that says the session ended and closes."""
    event = {"type": SESSION_ENDED, "id": "", "data": {}}
    body = f": connected\nretry: {RETRY_MS}\n\n" + format_event(event, render(event) or "")
    return _response(iter([body]))


def event_stream(feed: Feed, render: Render, entry: Entry | None, keepalive_s: float = 15.0) -> Response:
    """The streaming response for `feed`, rendered per event by `render`, holding `entry` while open."""
    return _response(_messages(feed, render, keepalive_s, entry))


def _response(body: Iterator[str]) -> Response:
    headers = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}
    # The request context stays for rendering (locale, user); the caller closed the DB session.
    return Response(stream_with_context(body), mimetype="text/event-stream", headers=headers)
