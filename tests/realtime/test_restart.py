"""Graceful restarts of the real server: a SIGTERM (a stop) or a SIGHUP (gunicorn replaces its
workers) closes every socket with 1012 and ends every SSE stream cleanly; the clients come back
with their cursors, and a message sent around the restart is stored once (or resent with the
same client id and still stored once)."""

import json
import signal
import time

import pytest
from simple_websocket import ConnectionClosed
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.models import Message
from blueberry.services.conversation import start_direct
from blueberry.services.room import record_match
from tests.conftest import LIVE_SECRET
from tests.realtime.clients import SSEReader, connect_ws, open_session, ws_next


@pytest.fixture
def world(app, make_user, live_server):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    conversation = start_direct(mina.id, jun.id)
    room = record_match(mina.id, jun.id)
    db.session.commit()
    cookies = {user.username: open_session(app, user, LIVE_SECRET) for user in (mina, jun)}
    return {"conversation": conversation, "room_id": room.id, "cookies": cookies}


def close_code(ws, seconds: float = 10) -> int:
    """Read until the server closes the socket; its close code."""
    deadline = time.monotonic() + seconds
    with pytest.raises(ConnectionClosed) as closed:
        while time.monotonic() < deadline:
            ws.receive(timeout=0.2)
    return closed.value.reason


def test_a_stop_closes_every_socket_with_1012_and_ends_the_streams(live_server, world):
    mina = world["cookies"]["mina"]
    sockets = [
        connect_ws(live_server.url, mina, "/ws"),
        connect_ws(live_server.url, mina, f"/ws/conversations/{world['conversation'].id}"),
        connect_ws(live_server.url, mina, "/ws/match"),
        connect_ws(live_server.url, mina, f"/ws/rooms/{world['room_id']}"),
    ]
    sse = SSEReader(live_server.url, mina)
    ws_next(sockets[3], "room.state")
    time.sleep(0.3)  # every connection is listening
    live_server.process.send_signal(signal.SIGTERM)
    assert [close_code(ws) for ws in sockets] == [1012] * 4
    assert sse.closed.wait(5)
    assert live_server.process.wait(timeout=10) == 0  # stopped in time, not killed


def test_after_a_reload_the_chat_resumes_and_a_send_lands_once(live_server, world):
    path = f"/ws/conversations/{world['conversation'].id}"
    ws = connect_ws(live_server.url, world["cookies"]["mina"], path)
    ws.send(json.dumps({"type": "message.send", "client_id": "r-1", "content": "before"}))
    seen = [ws_next(ws, "message.new")["seq"]]
    live_server.process.send_signal(signal.SIGHUP)  # new workers start; the old ones stop gracefully
    ws.send(json.dumps({"type": "message.send", "client_id": "r-2", "content": "around"}))
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            raw = ws.receive(timeout=10)
            if raw and json.loads(raw)["type"] == "message.new":
                seen.append(json.loads(raw)["data"]["seq"])
    assert closed.value.reason == 1012
    ws = reconnect(live_server, world["cookies"]["mina"], f"{path}?after={max(seen)}")
    if len(seen) == 1:  # not answered before the close: the client resends with the same id
        ws.send(json.dumps({"type": "message.send", "client_id": "r-2", "content": "around"}))
        assert ws_next(ws, "message.new")["content"] == "around"
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Message.id))) == 2
    ws.close()


def reconnect(live_server, cookie: str, path: str):
    """Connect again, as a client does after 1012 (the new workers may take a moment)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return connect_ws(live_server.url, cookie, path)
        except (ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
