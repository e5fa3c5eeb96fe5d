"""The hub on its own: a Redis that is away from the start, then arrives; fragments cost no queries."""

import sys
import time

from flask_login import login_user
from sqlalchemy import event

from blueberry.blueprints.live import render_html
from blueberry.extensions import db, make_redis
from blueberry.realtime.events import NOTIFICATION_NEW, make_event, publish_now
from blueberry.realtime.hub import Hub, Listener
from tests.servers import RedisServer, wait_for


def test_listeners_hear_down_then_up_when_redis_is_away_from_the_start(tmp_path):
    server = RedisServer(tmp_path / "late-redis")  # not started yet
    hub = Hub(lambda: make_redis(server.url, socket_timeout=None), max_backoff=0.3)
    listener = Listener(["bb:user:7"])
    hub.add(listener)
    try:
        assert listener.get(3)["type"] == "live.down"
        server.start()
        assert listener.get(5)["type"] == "live.up"
        assert listener.ready.wait(2)
        publish_now(make_redis(server.url, 1), "bb:user:7", NOTIFICATION_NEW, {"notification_id": 1})
        assert listener.get(3)["data"] == {"notification_id": 1}
    finally:
        hub.close()
        server.stop()


def test_event_fragments_run_no_sql(app, make_user):
    user = make_user("mina")
    statements = []
    with app.test_request_context("/events"):
        login_user(user)
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            data = {"notification_id": 3, "title": "hi", "body": "", "link": "", "unread": 2}
            html = render_html(make_event(NOTIFICATION_NEW, data, "1-0~3"))
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
    assert 'id="notification-badge"' in html and ">2</span>" in html
    assert statements == []


def test_each_listener_hears_down_once_however_it_races_the_first_failure(tmp_path):
    server = RedisServer(tmp_path / "never")  # never started: every connection attempt fails
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race is in a few lines
    try:
        for _ in range(20):
            hub = Hub(lambda: make_redis(server.url, socket_timeout=None), max_backoff=0.05)
            listeners = [Listener([f"bb:user:{n}"]) for n in range(50)]
            for listener in listeners:
                hub.add(listener)
            heard = lambda listeners=listeners: all(listener.items for listener in listeners)  # noqa: E731
            assert wait_for(heard, 5), "live.down never came"
            time.sleep(0.2)  # long enough for a second announcement and a retry, if there were one
            hub.close()  # a hub left running keeps retrying: twenty of them would slow the next
            assert [[e["type"] for e in listener.items] for listener in listeners] == [["live.down"]] * 50
    finally:
        sys.setswitchinterval(switch)


def test_a_closed_hub_stops_retrying(tmp_path):
    server = RedisServer(tmp_path / "never")
    attempts = []
    hub = Hub(lambda: attempts.append(1) or make_redis(server.url, socket_timeout=None), max_backoff=0.01)
    hub.add(Listener(["bb:user:1"]))
    assert wait_for(lambda: len(attempts) >= 3, 5)
    hub.close()
    time.sleep(0.05)  # one attempt may have been under way
    settled = len(attempts)
    time.sleep(0.3)
    assert len(attempts) == settled
