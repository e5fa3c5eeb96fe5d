"""The signed-in user's live channels: `GET /events` (SSE) and `WS /ws` (their own socket).

Both carry the user's events (notifications and personal events) and end when the login
session ends. Protocol: docs/realtime.md.
"""

from flask import Blueprint, current_app, render_template, request, session
from flask_login import current_user
from simple_websocket import ConnectionClosed

from blueberry.extensions import db, get_redis, sock
from blueberry.login import SESSION_TOKEN
from blueberry.realtime import userstream
from blueberry.realtime.events import (
    LIVE_DOWN,
    LIVE_UP,
    PONG,
    SERVER_RESTARTING,
    SESSION_ENDED,
    Cursor,
    make_event,
    session_topic,
    user_topic,
)
from blueberry.realtime.feed import KEEPALIVE, Feed
from blueberry.realtime.hub import get_hub
from blueberry.realtime.sse import as_json, ended_stream, event_stream
from blueberry.realtime.ws import (
    CLOSE_SESSION_ENDED,
    CLOSE_TRY_AGAIN,
    FRAMES_WAITING,
    LiveSocket,
    answering,
    check_handshake,
    guarded,
)
from blueberry.services import notifications
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
    return event_stream(feed, render, current_app.config["SSE_KEEPALIVE_S"])


@sock.route("/ws", bp=bp)
@guarded
def user_socket(ws):
    """The user's own websocket: the same events as /events; answers `ping` with `pong`."""
    live = LiveSocket(ws, render_html)
    feed = user_feed(request.args.get("last_event_id"))
    db.session.remove()
    with feed:
        live.wake_on_frames(lambda: feed.listener.put(make_event(FRAMES_WAITING, {})))
        _serve_socket(live, feed, current_app.config["WS_KEEPALIVE_S"])


def _serve_socket(live: LiveSocket, feed: Feed, keepalive_s: float) -> None:
    for event in feed.missed():
        if not _deliver(live, event):
            return
    for event in feed.live(keepalive_s):
        if not _deliver(live, event):
            return


def _deliver(live: LiveSocket, event: dict) -> bool:
    """Send one event; False when the socket is done."""
    kind = event["type"]
    if kind == FRAMES_WAITING:
        return _answer_frames(live)
    if kind == SESSION_ENDED:
        live.close(CLOSE_SESSION_ENDED, "session ended")
        return False
    if kind == SERVER_RESTARTING:
        _answer_frames(live)  # what the client sent before the stop is answered first
        live.close_for_restart()
        return False
    if kind == LIVE_DOWN:
        live.close(CLOSE_TRY_AGAIN, "live delivery paused; reconnect")
        return False
    if kind in (KEEPALIVE, LIVE_UP):
        return live.ws.connected
    live.send_event(event)
    return True


def _answer_frames(live: LiveSocket) -> bool:
    """Answer what the client sent; False once it has gone."""
    try:
        for frame in live.pending_frames():
            with answering(live):
                _on_frame(live, frame)
    except ConnectionClosed:
        return False
    return True


def _on_frame(live: LiveSocket, frame: dict) -> None:
    if frame["type"] == "ping":
        live.send_event(make_event(PONG, {}))
    else:
        live.send_error("unknown_type", f"Unknown frame type {frame['type'][:40]!r}.")
