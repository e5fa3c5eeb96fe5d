"""The record of who is connected anywhere (reminders email only those who are not): SSE
streams and websockets alike, two tabs, a tab closing, and a crashed worker's connection, which
lapses by itself."""

import json
import time

import redis

from blueberry.services.online import KEY, online_ids
from tests.conftest import LIVE_SECRET
from tests.realtime.clients import SSEReader, connect_ws, open_session, ws_next
from tests.servers import wait_for


def test_streams_and_sockets_count_until_the_last_one_closes(app, make_user, live_server):
    mina, jun = make_user("mina"), make_user("jun")
    cookie = open_session(app, mina, LIVE_SECRET)
    with app.app_context():
        assert online_ids([mina.id, jun.id]) == set()
        first, second = SSEReader(live_server.url, cookie), SSEReader(live_server.url, cookie)
        assert wait_for(lambda: online_ids([mina.id, jun.id]) == {mina.id}, 5)
        first.close()
        second.close()
        assert wait_for(lambda: online_ids([mina.id]) == set(), 5)  # at once: no grace needed here
        ws = connect_ws(live_server.url, cookie)
        ws.send(json.dumps({"type": "ping"}))
        ws_next(ws, "pong")
        assert online_ids([mina.id]) == {mina.id}  # a websocket counts the same
        ws.close()
        assert wait_for(lambda: online_ids([mina.id]) == set(), 5)


def test_a_crashed_workers_connection_lapses(app, make_user, live_redis):
    mina = make_user("mina")
    client = redis.Redis.from_url(live_redis.url)
    client.zadd(KEY.format(mina.id), {"killed-worker": time.time() + 1})  # its last heartbeat's lapse time
    with app.app_context():
        assert online_ids([mina.id]) == {mina.id}
        assert wait_for(lambda: online_ids([mina.id]) == set(), 5)
