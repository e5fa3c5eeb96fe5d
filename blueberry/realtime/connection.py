"""One live connection: the loop every websocket shares, with the domain's parts declared.

A domain socket subclasses `LiveConnection`, the way a class-based view or a Channels consumer
reads: it declares its `frames` (client frame type → handler), its topics, what to do when it
starts and finishes, with domain events and when nothing happens for a while. The loop owns the
rest, the same for every socket:

- client frames: parsed, throttled and refused by `LiveSocket` (`bad_frame`, `rate_limited`);
  `ping` answers `pong`; an unknown type answers `unknown_type`; a handler that fails answers
  `internal_error` and the socket stays up;
- `session.ended` closes with 1008 (no reconnect); Redis lost, or an inbox that overflowed,
  closes with 1013; a server stopping answers the frames it already has, then closes with 1012;
- an exception anywhere else after the upgrade closes with 1011 (`guarded`, on the route).
The membership check stays in the blueprint's handshake (`check_handshake`), before the upgrade.
"""

import contextlib
from collections.abc import Callable, Iterator
from typing import ClassVar

import redis
from flask_login import current_user
from simple_websocket import ConnectionClosed

from blueberry.extensions import db
from blueberry.realtime import errors
from blueberry.realtime.events import LIVE_DOWN, PONG, SERVER_RESTARTING, SESSION_ENDED, make_event
from blueberry.realtime.hub import Listener
from blueberry.realtime.ws import (
    CLOSE_SESSION_ENDED,
    CLOSE_TRY_AGAIN,
    FRAMES_WAITING,
    LiveSocket,
    answering,
    listening,
)
from blueberry.services.online import Online


class Done(Exception):
    """The connection is over (the peer left, the session ended, the server stops, …)."""


class LiveConnection:
    """The shared loop; subclasses fill in the domain."""

    frames: ClassVar[dict[str, Callable]] = {}  # client frame type → handler(self, frame)
    paused_reason = "live delivery paused; reconnect"

    def __init__(self, live: LiveSocket, session_topic: str):
        self.live, self.session_topic = live, session_topic  # the login session's end comes there
        self.restarting = False  # the server is stopping: the client comes back at once
        self.listener: Listener | None = None

    # -- what a domain declares ---------------------------------------------------------------

    def topics(self) -> list[str]:
        """The domain's topics (the login session's is added)."""
        raise NotImplementedError

    def start(self) -> None:
        """Subscribed: send the client what it needs first."""

    def finish(self) -> None:
        """The connection is over (also on errors); `self.restarting` says if it comes back."""

    def on_event(self, event: dict) -> None:
        """A domain event from the connection's topics."""

    def on_quiet(self) -> None:
        """Nothing arrived within `wait_s()`."""

    def after_step(self) -> None:
        """After each event or quiet spell."""

    def wait_s(self) -> float:
        """How long to wait for an event before `on_quiet`."""
        return 25.0

    @contextlib.contextmanager
    def subscribed(self) -> Iterator[Listener]:
        """The connection's inbox for its topics (a subclass may bring its own, e.g. a Feed's)."""
        with listening(self.live, [*self.topics(), self.session_topic]) as listener:
            yield listener

    # -- the loop -----------------------------------------------------------------------------

    def serve(self) -> None:
        """Run until the client leaves, the session ends, the server stops or Redis goes away.
        While it runs, the user counts as online (services/online.py)."""
        self.online = Online(current_user.id)
        try:
            with self.subscribed() as self.listener:
                self.online.arrive()
                self.start()
                while True:
                    self._step()
                    self.online.beat()
        except Done:
            pass
        except redis.RedisError:
            self.live.close(CLOSE_TRY_AGAIN, self.paused_reason)
        finally:
            self.online.depart()
            try:
                self.finish()
            finally:
                db.session.remove()  # a waiting socket holds no database connection

    def _step(self) -> None:
        if self.listener.overflowed:  # too slow to keep up: the client resyncs on reconnect
            raise redis.ConnectionError("listener overflowed")
        event = self.listener.get(self.wait_s())
        if event is None:
            self.on_quiet()
        else:
            self._on_any_event(event)
        self.after_step()

    def _on_any_event(self, event: dict) -> None:
        kind = event["type"]
        if kind == FRAMES_WAITING:
            self.answer_frames()
        elif kind == SESSION_ENDED:
            self.live.close(CLOSE_SESSION_ENDED, "session ended")
            raise Done
        elif kind == SERVER_RESTARTING:
            self.restarting = True
            self.answer_frames()  # what the client sent before the stop is handled first
            self.live.close_for_restart()
            raise Done
        elif kind == LIVE_DOWN:
            raise redis.ConnectionError("live delivery lost Redis")
        else:
            self.on_event(event)

    # -- frames -------------------------------------------------------------------------------

    def answer_frames(self) -> None:
        """Handle every frame the client has sent so far; Done once it has gone."""
        try:
            for frame in self.live.pending_frames():
                with answering(self.live):
                    self.on_frame(frame)
        except ConnectionClosed:
            raise Done from None

    def on_frame(self, frame: dict) -> None:
        """Dispatch by type (a subclass may check something first, then call this)."""
        if frame["type"] == "ping":
            self.live.send_event(make_event(PONG, {}))
            return
        handler = self.frames.get(frame["type"])
        if handler is None:
            self.live.send_error(errors.UNKNOWN_TYPE, f"Unknown frame type {frame['type'][:40]!r}.")
            return
        handler(self, frame)
