"""The per-user send throttle over a real socket: refused sends answer `rate_limited`, are
not stored, and the socket stays up."""

import json

import pytest
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.models import Message
from tests.realtime.clients import ws_next
from tests.realtime.test_chat_ws import chat_world, open_chat, send  # noqa: F401 (fixture)


@pytest.fixture
def live_env():
    return {"CHAT_SENDS_PER_10S": "3"}


def test_sends_beyond_the_limit_are_refused_and_not_stored(live_server, chat_world):  # noqa: F811
    ws = open_chat(live_server, chat_world, "mina")
    for n in range(5):
        send(ws, "message.send", client_id=f"burst-{n}", content=f"message {n}")
    answers = [json.loads(ws.receive(timeout=5)) for _ in range(5)]
    assert sorted(a["type"] for a in answers) == ["error", "error", "message.new", "message.new", "message.new"]
    assert {a["data"]["code"] for a in answers if a["type"] == "error"} == {"rate_limited"}
    send(ws, "ping")
    assert ws_next(ws, "pong") == {}  # still up
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Message)) == 3
