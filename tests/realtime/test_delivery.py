"""Events published after commit reach the right user's SSE stream and websocket, once, in order."""

import queue
import threading
import time

import pytest

from blueberry.extensions import db
from blueberry.services import notifications
from tests.conftest import LIVE_SECRET
from tests.realtime.clients import SSEReader, connect_ws, open_session, ws_events


@pytest.fixture
def people(app, make_user, live_server):
    mina, jun = make_user("mina"), make_user("jun")
    return {
        "mina": (mina, open_session(app, mina, LIVE_SECRET)),
        "jun": (jun, open_session(app, jun, LIVE_SECRET)),
    }


def notify(user, title):
    note = notifications.notify(user, title)
    db.session.commit()
    return note


def test_event_after_commit_reaches_own_stream_and_socket_only(live_server, people):
    (mina, mina_cookie), (_, jun_cookie) = people["mina"], people["jun"]
    mina_sse, jun_sse = SSEReader(live_server.url, mina_cookie), SSEReader(live_server.url, jun_cookie)
    ws = connect_ws(live_server.url, mina_cookie)
    time.sleep(0.5)  # both subscribed
    try:
        notify(mina, "hello mina")
        event = mina_sse.next_of("notification.new")
        assert event["json"]["data"]["title"] == "hello mina"
        assert event["json"]["data"]["unread"] == 1
        assert ws_events(ws, 1)[0]["data"]["title"] == "hello mina"
        with pytest.raises(queue.Empty):
            jun_sse.next_of("notification.new", timeout=1.5)
    finally:
        ws.close()
        mina_sse.close()
        jun_sse.close()


def test_nothing_is_published_on_rollback(live_server, people):
    mina, cookie = people["mina"]
    sse = SSEReader(live_server.url, cookie)
    time.sleep(0.5)
    try:
        notifications.notify(mina, "rolled back")
        db.session.rollback()
        notify(mina, "committed")
        assert sse.next_of("notification.new")["json"]["data"]["title"] == "committed"
        with pytest.raises(queue.Empty):
            sse.next_of("notification.new", timeout=1.0)
    finally:
        sse.close()


def test_sse_stream_opens_with_a_comment_and_keeps_alive(live_server, people):
    _, cookie = people["mina"]
    sse = SSEReader(live_server.url, cookie)
    try:
        time.sleep(2.5)
        assert sse.comments[0] == ": connected"
        assert ": keepalive" in sse.comments
        assert sse.response.headers["content-type"].startswith("text/event-stream")
    finally:
        sse.close()


def test_replay_after_a_cut_during_a_burst_is_exactly_once_in_order(app, live_server, people):
    mina, cookie = people["mina"]
    first = SSEReader(live_server.url, cookie)
    time.sleep(0.5)

    def burst():
        with app.app_context():
            for n in range(1, 51):
                notify(mina, f"n{n}")
                time.sleep(0.02)

    sender = threading.Thread(target=burst)
    sender.start()
    seen = [first.next_of("notification.new") for _ in range(15)]
    first.close()  # the network drops mid-burst
    time.sleep(0.2)
    second = SSEReader(live_server.url, cookie, last_event_id=seen[-1]["id"])
    try:
        sender.join()
        seen += [second.next_of("notification.new") for _ in range(35)]
        titles = [item["json"]["data"]["title"] for item in seen]
        assert titles == [f"n{n}" for n in range(1, 51)]
        with pytest.raises(queue.Empty):
            second.next_of("notification.new", timeout=1.0)
    finally:
        second.close()


def test_events_are_html_fragments_for_htmx(live_server, people):
    mina, cookie = people["mina"]
    sse = SSEReader(live_server.url, cookie, fmt="html")
    time.sleep(0.5)
    try:
        notify(mina, "<b>not bold</b>")
        event = sse.next_of("notification.new")
        assert 'id="toasts" hx-swap-oob="beforeend"' in event["raw"]
        assert 'id="notification-badge"' in event["raw"]
        assert "&lt;b&gt;not bold&lt;/b&gt;" in event["raw"] and "<b>" not in event["raw"]
        assert event["id"].endswith(f"~{notifications.latest_id(mina.id)}")
    finally:
        sse.close()


def test_anonymous_stream_answers_200_and_says_the_session_ended(live_server):
    sse = SSEReader(live_server.url, "not-a-session")
    try:
        assert sse.next_of("session.ended")["json"]["type"] == "session.ended"
        assert sse.closed.wait(5)
        assert sse.response.status_code == 200
    finally:
        sse.close()
