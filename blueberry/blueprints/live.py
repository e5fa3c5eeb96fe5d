"""The signed-in user's live channels: `GET /events` (SSE) and `WS /ws` (their own socket).

Both carry the user's events (notifications and personal events) and end when the login
session ends. Protocol: docs/realtime.md.
"""

import contextlib
from collections.abc import Iterator

from flask import Blueprint, current_app, render_template, request, session
from flask_login import current_user

from blueberry.extensions import db, get_redis, sock
from blueberry.login import SESSION_TOKEN
from blueberry.realtime import userstream
from blueberry.realtime.connection import Done, LiveConnection
from blueberry.realtime.events import (
    LIVE_UP,
    Cursor,
    make_event,
    session_topic,
    user_topic,
)
from blueberry.realtime.feed import Feed
from blueberry.realtime.hub import Listener, get_hub
from blueberry.realtime.sse import as_json, ended_stream, event_stream
from blueberry.realtime.ws import (
    FRAMES_WAITING,
    LiveSocket,
    check_handshake,
    guarded,
)
from blueberry.services import notifications
from blueberry.services.online import Online
from blueberry.services.sessions import token_hash

bp = Blueprint("live", __name__)
bp.before_request(check_handshake)


def render_html(event: dict) -> str | None:
    """The HTML fragment (out-of-band swaps) that shows this event in a page, if any."""
    template = userstream.FRAGMENTS.get(event["type"])
    return render_template(template, event=event) if template else None


def user_feed(cursor: str | None) -> Feed:
    """The feed of the signed-in user and of their login session, from `cursor` on."""
    user_id = current_user.id
    topics = [user_topic(user_id), session_topic(token_hash(session.get(SESSION_TOKEN, "")))]

    def catch_up(after_id: int) -> list[dict]:
        try:
            return notifications.missed_events(user_id, after_id)
        finally:
            db.session.remove()  # a stream holds no database connection while it waits

    return Feed(get_hub(), get_redis(), topics, Cursor.parse(cursor), catch_up)


@bp.get("/events")
def events():
    """SSE: the user's events as HTML fragments named by type, or JSON with ?format=json."""
    render = as_json if request.args.get("format") == "json" else render_html
    if not current_user.is_authenticated:
        return ended_stream(render)
    cursor = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    feed = user_feed(cursor)
    db.session.remove()
    return event_stream(feed, render, Online(current_user.id), current_app.config["SSE_KEEPALIVE_S"])


@sock.route("/ws", bp=bp)
@guarded
def user_socket(ws):
    """The user's own websocket: the same events as /events; answers `ping` with `pong`."""
    live = LiveSocket(ws, render_html)
    feed = user_feed(request.args.get("last_event_id"))
    db.session.remove()
    UserConnection(live, feed).serve()


class UserConnection(LiveConnection):
    """`/ws`: the user's feed (what they missed, then live), over the shared loop."""

    def __init__(self, live: LiveSocket, feed: Feed):
        super().__init__(live, session_topic(token_hash(session.get(SESSION_TOKEN, ""))))
        self.feed = feed
        self.keepalive_s = current_app.config["WS_KEEPALIVE_S"]

    @contextlib.contextmanager
    def subscribed(self) -> Iterator[Listener]:
        with self.feed:  # the feed's listener hears the user's topic and the session's end
            self.live.wake_on_frames(lambda: self.feed.listener.put(make_event(FRAMES_WAITING, {})))
            yield self.feed.listener

    def wait_s(self) -> float:
        return self.keepalive_s

    def start(self) -> None:
        self._send(self.feed.missed())

    def on_event(self, event: dict) -> None:
        # Back after a Redis outage: catch up from the cursor; else each event once, in order.
        self._send(self.feed.missed() if event["type"] == LIVE_UP else self.feed.accepted([event]))

    def on_quiet(self) -> None:
        if not self.live.ws.connected:
            raise Done

    def _send(self, events) -> None:
        for event in events:
            self.live.send_event(event)
