"""Websocket plumbing shared by every live route.

Handshake checks run in the blueprint's `before_request` (flask-sock upgrades inside the view,
so a refusal there never upgrades): no session → 401, Origin missing or not allowed → 403,
not a member → 404. Clients that ask for the `blueberry.json` subprotocol get events as JSON;
others (htmx's ws extension) get HTML fragments. Sends are serialized per socket (a frame is
never interleaved with another), frames are throttled, malformed frames get an `error` event.

Close codes: 1008 session ended (no reconnect), 1009 frame over 64 KiB (flask-sock),
1011 the server failed (reconnect), 1012 server restarting, 1013 live delivery lost Redis
(reconnect and resync); 4403 blocked, 4410 left the group, 4425 a meeting's room not open
(do not reconnect).
Once upgraded, a socket never carries an HTTP response: a frame whose
handling fails answers `error` `internal_error` and the socket stays up; a connection whose loop
fails closes with 1011.
"""

import contextlib
import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator

import redis
from flask import abort, current_app, request
from flask_login import current_user
from simple_websocket import ConnectionClosed

from blueberry.extensions import db
from blueberry.inputs import has_nul, text_int
from blueberry.realtime import errors
from blueberry.realtime.events import ERROR, make_event
from blueberry.realtime.hub import Listener, get_hub

log = logging.getLogger(__name__)

JSON_PROTOCOL = "blueberry.json"
MAX_FRAME = 64 * 1024
CLOSE_SESSION_ENDED = 1008
CLOSE_INTERNAL_ERROR = 1011
CLOSE_RESTART = 1012
CLOSE_TRY_AGAIN = 1013
CLOSE_BLOCKED = 4403  # the other person blocked this user: the conversation is closed to them
CLOSE_LEFT = 4410  # this user left the group (or was removed): the room is closed to them
CLOSE_NOT_OPEN = 4425  # a meeting's room before its lobby opens, or cancelled: come back at the time
# Put in a connection's inbox when its peer has sent something: its one loop answers frames too.
FRAMES_WAITING = "frames.waiting"
READY_WAIT_S = 2.0


def server_options() -> dict:
    """flask-sock settings: subprotocol, frame limit (1009 beyond), pings that reap dead peers."""
    return {"subprotocols": [JSON_PROTOCOL], "max_message_size": MAX_FRAME, "ping_interval": 25}


def origin_allowed(origin: str | None) -> bool:
    return bool(origin) and origin in current_app.config["ALLOWED_ORIGINS"]


def check_handshake(is_member: Callable[..., bool] | None = None, int_args: tuple[str, ...] = ()) -> None:
    """Refuse a websocket handshake before it upgrades: 401, 403, 404 (non-members), or 400 for
    a query argument in `int_args` that is not an integer in SQL's range."""
    if not (request.url_rule and request.url_rule.websocket):
        return
    if not current_user.is_authenticated:
        abort(401)
    if not origin_allowed(request.headers.get("Origin")):
        abort(403)
    if is_member is not None and not is_member(**(request.view_args or {})):
        abort(404)
    if any(name in request.args and text_int(request.args[name]) is None for name in int_args):
        abort(400)
    # permessage-deflate costs ~100 KiB per socket: never offer it.
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)


def guarded(handler: Callable) -> Callable:
    """For every websocket view, under `@sock.route`: an exception after the upgrade closes the
    socket with 1011 instead of reaching Flask, whose 500 page would be written as raw HTTP
    bytes onto the upgraded socket (the client would see a protocol error)."""

    @functools.wraps(handler)
    def serve(ws, *args, **kwargs):
        try:
            handler(ws, *args, **kwargs)
        except ConnectionClosed:
            raise
        except Exception:
            log.exception("websocket %s failed", request.path)
            db.session.rollback()
            with contextlib.suppress(Exception):
                ws.close(reason=CLOSE_INTERNAL_ERROR, message="server error; reconnect")
        finally:
            db.session.remove()

    return serve


@contextlib.contextmanager
def answering(live: "LiveSocket") -> Iterator[None]:
    """Around one frame's handling: an unexpected failure answers `error` `internal_error` and
    the socket stays up. Redis errors and a closed peer still end the connection."""
    try:
        yield
    except (redis.RedisError, ConnectionClosed):
        raise
    except Exception:
        log.exception("a %s frame failed", request.path)
        db.session.rollback()
        live.send_error(errors.INTERNAL_ERROR)


class Throttle:
    """Token bucket: `rate` frames a second, bursts of `burst`."""

    def __init__(self, rate: float = 10.0, burst: int = 20):
        self.rate, self.capacity, self.tokens, self.stamp = rate, burst, float(burst), time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class LiveSocket:
    """A websocket with whole-frame, one-at-a-time sends and per-connection rendering."""

    def __init__(self, ws, render_html: Callable[[dict], str | None]):
        self.ws = ws
        self.json = ws.subprotocol == JSON_PROTOCOL
        self.render_html = render_html
        self.lock = threading.Lock()
        self.throttle = Throttle()

    def send_event(self, event: dict) -> None:
        if self.json:
            payload = json.dumps({k: event[k] for k in ("type", "id", "data")}, separators=(",", ":"), default=str)
        else:
            payload = self.render_html(event)
            if payload is None:
                return
        with self.lock:
            self.ws.send(payload)

    def send_error(self, code: str, message: str | None = None) -> None:
        """An `error` event (codes: realtime/errors.py); the socket stays open."""
        self.send_event(make_event(ERROR, {"code": code, "message": message or errors.message_of(code)}))

    def close(self, code: int, reason: str = "") -> None:
        with self.lock, contextlib.suppress(ConnectionClosed):
            self.ws.close(reason=code, message=reason)

    def close_for_restart(self) -> None:
        """The server is stopping: 1012, and the client reconnects at once with its cursor."""
        self.close(CLOSE_RESTART, "server restarting; reconnect")

    def wake_on_frames(self, wake: Callable[[], None]) -> None:
        """Call `wake` whenever the peer sends something (a frame, or the close).

        The connection then needs no greenlet of its own to read: its one loop waits on its
        feed, and simple-websocket's reader wakes that loop through this hook.
        """
        self.ws.event = _FrameSignal(self.ws.event, wake)
        if self.ws.input_buffer or not self.ws.connected:  # it spoke before the hook was in
            wake()

    def pending_frames(self):
        """Client frames received so far, parsed; bad or flooding ones answer `error` and are
        skipped. Raises ConnectionClosed once the peer has gone."""
        while True:
            raw = self.ws.receive(timeout=0)
            if raw is None:
                if not self.ws.connected:
                    raise ConnectionClosed(self.ws.close_reason, self.ws.close_message)
                return
            if not self.throttle.allow():
                self.send_error(errors.RATE_LIMITED)
                continue
            frame = _parse(raw)
            if frame is None:
                self.send_error(errors.BAD_FRAME)
                continue
            yield frame


class _FrameSignal:
    """Stands in for simple-websocket's input event and also wakes the connection's loop."""

    def __init__(self, event, wake: Callable[[], None]):
        self.event, self.wake = event, wake

    def set(self) -> None:
        self.event.set()
        self.wake()

    def clear(self) -> None:
        self.event.clear()

    def is_set(self) -> bool:
        return self.event.is_set()

    def wait(self, timeout=None) -> bool:
        return self.event.wait(timeout)


def _parse(raw) -> dict | None:
    try:
        frame = json.loads(raw)
    except (ValueError, TypeError):
        return None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str) or has_nul(frame):
        return None
    return frame


@contextlib.contextmanager
def listening(live: LiveSocket, topics: list[str]) -> Iterator[Listener]:
    """A listener for `topics`, subscribed (or given up waiting) before it is yielded, that also
    hears FRAMES_WAITING whenever the peer sends; removed from the hub afterwards."""
    listener, hub = Listener(topics), get_hub()
    hub.add(listener)
    try:
        listener.ready.wait(READY_WAIT_S)
        live.wake_on_frames(lambda: listener.put(make_event(FRAMES_WAITING, {})))
        yield listener
    finally:
        hub.remove(listener)
