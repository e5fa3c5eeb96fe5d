"""Persist before publish: with Redis stopped, a chat message is still stored (its publish and
domain event are lost, not the message) and the open window is told to retry (1013); after
Redis returns, the window gets it on reconnect."""

import json
import time

import pytest
from simple_websocket import ConnectionClosed
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import Message
from blueberry.services import chat
from blueberry.services.conversation import start_direct
from tests.conftest import LIVE_SECRET
from tests.realtime.clients import connect_ws, open_session


@pytest.fixture
def live_redis(own_redis):
    return own_redis


@pytest.fixture
def app_config(app_config, live_redis):
    return app_config | {"REDIS_URL": live_redis.url, "REDIS_BREAKER_COOLDOWN": 0.1}


def test_a_message_sent_while_redis_is_down_is_stored_and_replayed(app, make_user, live_server, live_redis):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    conversation = start_direct(mina.id, jun.id)
    db.session.commit()
    cookie = open_session(app, jun, LIVE_SECRET)
    path = f"/ws/conversations/{conversation.id}?after=0"
    ws = connect_ws(live_server.url, cookie, path)
    time.sleep(0.5)
    live_redis.stop()
    with pytest.raises(ConnectionClosed) as closed:  # told to come back later, not left hanging
        for _ in range(100):
            ws.receive(timeout=0.1)
    assert closed.value.reason == 1013

    message, created = chat.post_message(conversation.id, mina.id, "while-down", "still here")
    db.session.commit()  # no exception: the publish and the domain event failed quietly
    assert created and db.session.scalar(select(Message.content)) == "still here"

    live_redis.start()
    deadline = time.monotonic() + 15
    while True:  # the server's circuit breaker and hub come back within seconds
        try:
            ws = connect_ws(live_server.url, cookie, path)
            event = json.loads(ws.receive(timeout=5) or "{}")
            break
        except (ConnectionClosed, ConnectionError, json.JSONDecodeError):
            assert time.monotonic() < deadline, "no reconnect after Redis came back"
            time.sleep(0.5)
    assert event["type"] == "message.new" and event["data"]["id"] == message["id"]
