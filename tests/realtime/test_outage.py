"""Redis stops and returns under connected clients: they are told, resync, and nothing committed is lost."""

import time

import pytest
from simple_websocket import ConnectionClosed

from blueberry.extensions import db
from blueberry.services import notifications
from tests.conftest import LIVE_SECRET
from tests.realtime.clients import SSEReader, connect_ws, open_session


@pytest.fixture
def live_redis(own_redis):
    return own_redis


@pytest.fixture
def app_config(app_config, live_redis):
    # The test process publishes to the live server's Redis.
    return app_config | {"REDIS_URL": live_redis.url, "REDIS_BREAKER_COOLDOWN": 0.1}


def test_clients_are_told_resync_and_get_what_was_sent_meanwhile(app, make_user, live_server, live_redis):
    mina = make_user("mina")
    cookie = open_session(app, mina, LIVE_SECRET)
    sse = SSEReader(live_server.url, cookie)
    ws = connect_ws(live_server.url, cookie)
    time.sleep(0.5)
    try:
        live_redis.stop()
        assert sse.next_of("live.down", timeout=10)["json"]["type"] == "live.down"
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(100):
                ws.receive(timeout=0.1)
        assert closed.value.reason == 1013

        notifications.notify(mina, "sent while Redis was away")
        db.session.commit()  # committed; its publish failed

        live_redis.start()
        assert sse.next_of("live.up", timeout=15)["json"]["type"] == "live.up"
        missed = sse.next_of("notification.new")
        assert missed["json"]["data"]["title"] == "sent while Redis was away"

        time.sleep(0.3)  # the test's own Redis breaker cool-down
        notifications.notify(mina, "after the return")
        db.session.commit()
        assert sse.next_of("notification.new")["json"]["data"]["title"] == "after the return"
    finally:
        sse.close()
