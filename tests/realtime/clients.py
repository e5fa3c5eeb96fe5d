"""Real protocol clients for the live endpoints: an SSE reader and a websocket."""

import json
import queue
import threading

import httpx
import pytest
from simple_websocket import Client, ConnectionClosed

from blueberry.extensions import db
from blueberry.login import session_cookie
from blueberry.services import sessions


def open_session(app, user, secret: str) -> str:
    """A committed login session for `user`, as the cookie a server with `secret` accepts."""
    token = sessions.start_session(user)
    db.session.commit()
    app.secret_key = secret
    try:
        return session_cookie(app, token, user.id)
    finally:
        app.secret_key = app.config["SECRET_KEY"]


class SSEReader:
    """Reads an SSE stream (`GET /events?format=json` by default) in a thread; parsed events
    arrive on `events`. Without a cookie it reads as nobody (public streams)."""

    def __init__(self, base_url: str, cookie: str | None, last_event_id: str | None = None, fmt: str = "json",
                 path: str = "/events"):  # fmt: skip
        self.events: queue.Queue = queue.Queue()
        self.comments: list[str] = []
        headers = {"Cookie": f"bb_session={cookie}"} if cookie else {}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(10, read=30))
        query = f"format={fmt}" if fmt else ""
        url = f"{path}{'&' if '?' in path else '?'}{query}" if query else path
        self.request = self.client.build_request("GET", url, headers=headers)
        self.response = None
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.response = self.client.send(self.request, stream=True)
            fields: dict = {}
            for line in self.response.iter_lines():
                self._line(line, fields)
        except (httpx.HTTPError, RuntimeError):
            pass
        finally:
            self.closed.set()

    def _line(self, line: str, fields: dict) -> None:
        if line.startswith(":"):
            self.comments.append(line)
        elif line == "":
            if "data" in fields:
                self.events.put({"id": fields.get("id", ""), "event": fields.get("event"), "raw": fields["data"]})
            fields.clear()
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            fields[name] = fields[name] + "\n" + value if name == "data" and name in fields else value

    def next(self, timeout: float = 5.0) -> dict:
        item = self.events.get(timeout=timeout)
        if item["raw"].startswith("{"):
            item["json"] = json.loads(item["raw"])
        return item

    def next_of(self, type_: str, timeout: float = 5.0) -> dict:
        """The next event of `type_`, skipping others."""
        while True:
            item = self.next(timeout)
            if item["event"] == type_:
                return item

    def close(self) -> None:
        if self.response is not None:
            self.response.close()
        self.client.close()


class WSClient(Client):
    """simple-websocket's client, minus a lost-frame bug.

    Its handshake takes only the first event of what it read; a frame that arrived in the
    same read as the 101 response (the server spoke at once) stays unprocessed until more
    data comes, possibly never. Process it right after the handshake (the reader thread has
    not started yet, so nothing races).

    Processing it may also read the server's close (a refusal sent right after the upgrade):
    the base class would then raise ConnectionError from its constructor, as if the handshake
    had failed. Keep the close for `receive` to report instead, as if it had come a moment later.
    """

    closed_in_handshake = False

    def handshake(self):
        super().handshake()
        self.closed_in_handshake = not self._handle_events()
        self.connected = True  # for the constructor; the reader thread ends it at once

    def _thread(self):
        if self.closed_in_handshake:
            self.connected = False
            self.event.set()
            self.sock.close()
            return
        super()._thread()


def connect_ws(base_url: str, cookie: str, path: str = "/ws", origin: str | None = None, json_protocol=True) -> Client:
    url = base_url.replace("http://", "ws://") + path
    headers = {"Cookie": f"bb_session={cookie}", "Origin": origin or base_url}
    return WSClient.connect(url, subprotocols=["blueberry.json"] if json_protocol else None, headers=headers)


def ws_events(ws: Client, count: int, timeout: float = 5.0) -> list[dict]:
    out = []
    while len(out) < count:
        raw = ws.receive(timeout=timeout)
        if raw is None:
            raise TimeoutError(f"only {len(out)} of {count} events")
        out.append(json.loads(raw))
    return out


def ws_next(ws: Client, type_: str, timeout: float = 5.0) -> dict:
    """The data of the next event of `type_` on a JSON socket, skipping others."""
    while True:
        raw = ws.receive(timeout=timeout)
        assert raw is not None, f"no {type_} within {timeout}s"
        event = json.loads(raw)
        if event["type"] == type_:
            return event["data"]


def closed_code(ws: Client) -> int:
    """The close code the server sent (a protocol error, 1002, if it wrote HTTP bytes instead)."""
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(100):
            ws.receive(timeout=0.1)
    return closed.value.reason
