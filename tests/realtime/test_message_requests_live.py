"""Message requests against a running server, over real websockets: a request reaches the
recipient's streams with nothing at all (no toast, no count) and the sender's answer is the same
for a willing person, an unknown name, a person who takes no requests and one who blocked them;
accepting opens the conversation with the request's message first and tells the sender live."""

import json

import httpx
import pytest
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import MessageRequest
from blueberry.services import message_requests, notifications, safety
from tests.conftest import LIVE_SECRET, csrf_from
from tests.realtime.clients import connect_ws, open_session, ws_events, ws_next


@pytest.fixture
def people(app, make_user, live_server):
    users = {name: make_user(name) for name in ("mina", "jun", "ara", "eve")}
    users["ara"].requests_from = "nobody"
    safety.block(users["eve"].id, users["mina"].id)
    db.session.commit()
    cookies = {name: open_session(app, user, LIVE_SECRET) for name, user in users.items()}
    return users, cookies


def browser(live_server, cookie: str) -> httpx.Client:
    """A client that keeps its session cookie as a browser would (the server rewrites it)."""
    client = httpx.Client(base_url=live_server.url, timeout=10)
    client.cookies.set("bb_session", cookie, domain=httpx.URL(live_server.url).host, path="/")
    return client


def write(client: httpx.Client, username: str, content: str) -> httpx.Response:
    token = csrf_from(client.get("/conversations").text)
    return client.post("/conversations", data={"csrf_token": token, "username": username, "content": content})


def user_socket(live_server, cookie: str):
    ws = connect_ws(live_server.url, cookie)
    ws.send(json.dumps({"type": "ping"}))
    ws_next(ws, "pong")  # subscribed: whatever is published from here on reaches it
    return ws


def test_a_request_arrives_silently_and_the_answer_never_tells(live_server, people):
    users, cookies = people
    streams = {name: user_socket(live_server, cookies[name]) for name in ("jun", "ara", "eve")}
    mina = browser(live_server, cookies["mina"])
    answers = [write(mina, name, "hello from mina") for name in ("jun", "nobody-here", "ara", "eve")]
    assert {(a.status_code, a.headers.get("location")) for a in answers} == {(303, "/conversations")}
    for name, ws in streams.items():  # the next thing each stream carries is this, not the request
        notifications.notify(users[name], "marker")
        db.session.commit()
        (event,) = ws_events(ws, 1)
        assert (event["type"], event["data"]["title"]) == ("notification.new", "marker")
    assert len(message_requests.incoming(users["jun"].id)) == 1


def test_accepting_opens_the_conversation_with_the_first_message(app, live_server, people):
    users, cookies = people
    mina = browser(live_server, cookies["mina"])
    write(mina, "jun", "first words")
    minas_stream = user_socket(live_server, cookies["mina"])
    jun = browser(live_server, cookies["jun"])
    request_id = db.session.scalar(select(MessageRequest.id))
    token = csrf_from(jun.get("/conversations/requests").text)
    accepted = jun.post(f"/conversations/requests/{request_id}/accept", data={"csrf_token": token})
    assert accepted.status_code == 303
    path = accepted.headers["location"]
    assert "@jun" in ws_next(minas_stream, "notification.new")["title"]
    for name in ("jun", "mina"):
        ws = connect_ws(live_server.url, cookies[name], f"/ws{path}?after=0")
        message = ws_next(ws, "message.new")
        assert (message["sender_id"], message["content"], message["seq"]) == (users["mina"].id, "first words", 1)
