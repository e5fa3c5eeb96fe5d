"""Conversations over real websockets on the live server: messages, receipts, typing, deletion,
exactly-once sends from two sockets, hidden receipts, and a reconnect that misses nothing."""

import json

import httpx
import pytest
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import Message
from blueberry.realtime.events import conversation_topic, publish_now
from blueberry.services import chat
from blueberry.services.conversation import start_direct
from tests.conftest import LIVE_SECRET
from tests.realtime.clients import connect_ws, open_session, ws_next

UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip


@pytest.fixture
def chat_world(app, make_user, live_server):
    mina, jun = make_user("mina"), make_user("jun", gender="male", display_name="Jun")
    conversation = start_direct(mina.id, jun.id)
    db.session.commit()
    cookies = {user.username: open_session(app, user, LIVE_SECRET) for user in (mina, jun)}
    return {"mina": mina, "jun": jun, "conversation": conversation, "cookies": cookies}


def path_of(world, after: int = 0) -> str:
    return f"/ws/conversations/{world['conversation'].id}?after={after}"


def open_chat(live_server, world, who: str, after: int = 0):
    return connect_ws(live_server.url, world["cookies"][who], path_of(world, after))


def send(ws, type_: str, **data) -> None:
    ws.send(json.dumps({"type": type_, **data}))


def test_message_receipts_typing_and_delete_between_two_people(live_server, chat_world):
    mina_ws, jun_ws = open_chat(live_server, chat_world, "mina"), open_chat(live_server, chat_world, "jun")
    send(mina_ws, "message.send", client_id="m-1", content="<b>hi</b> <div hx-get='/x'>")
    mine = ws_next(mina_ws, "message.new")
    theirs = ws_next(jun_ws, "message.new")
    assert mine == theirs and mine["seq"] == 1 and mine["client_id"] == "m-1"
    assert mine["content"] == "<b>hi</b> <div hx-get='/x'>" and mine["sender_id"] == chat_world["mina"].id
    delivered = ws_next(mina_ws, "receipt.updated")
    assert delivered == {"message_id": mine["id"], "user_id": chat_world["jun"].id, "status": "delivered"}

    send(jun_ws, "typing")
    assert ws_next(mina_ws, "typing") == {"user_id": chat_world["jun"].id, "display_name": "Jun"}
    send(jun_ws, "message.read", up_to_seq=1)
    assert ws_next(mina_ws, "receipt.updated")["status"] == "read"

    send(mina_ws, "message.delete", message_id=mine["id"])
    for ws in (mina_ws, jun_ws):
        assert ws_next(ws, "message.deleted") == {"message_id": mine["id"], "seq": 1}
    send(jun_ws, "message.delete", message_id=mine["id"])  # not his
    assert ws_next(jun_ws, "error")["code"] == "bad_message_id"


def test_the_same_client_id_from_two_sockets_lands_once(live_server, chat_world):
    first, second = open_chat(live_server, chat_world, "mina"), open_chat(live_server, chat_world, "mina")
    jun_ws = open_chat(live_server, chat_world, "jun")
    for _ in range(5):
        for ws in (first, second):
            send(ws, "message.send", client_id="same", content="once")
    ids = {ws_next(ws, "message.new")["id"] for ws in (first, second) for _ in range(5)}
    assert len(ids) == 1
    assert ws_next(jun_ws, "message.new")["id"] in ids
    with pytest.raises(AssertionError):
        ws_next(jun_ws, "message.new", timeout=1)  # one fan-out, not ten
    assert len(db.session.scalars(select(Message)).all()) == 1


def test_hidden_read_receipts_are_not_sent(live_server, chat_world):
    from blueberry.services import chat

    chat.member(chat_world["conversation"].id, chat_world["jun"].id).hide_read_receipts = True
    db.session.commit()
    mina_ws, jun_ws = open_chat(live_server, chat_world, "mina"), open_chat(live_server, chat_world, "jun")
    send(mina_ws, "message.send", client_id="m-1", content="hello")
    ws_next(jun_ws, "message.new")
    assert ws_next(mina_ws, "receipt.updated")["status"] == "delivered"
    send(jun_ws, "message.read", up_to_seq=1)
    send(jun_ws, "ping")
    ws_next(jun_ws, "pong")
    with pytest.raises(AssertionError):
        ws_next(mina_ws, "receipt.updated", timeout=1)


def test_a_reconnect_with_the_last_sequence_gets_exactly_what_was_missed(live_server, chat_world):
    mina_ws, jun_ws = open_chat(live_server, chat_world, "mina"), open_chat(live_server, chat_world, "jun")
    seen = []
    for n in range(1, 4):
        send(mina_ws, "message.send", client_id=f"a{n}", content=f"m{n}")
        seen.append(ws_next(jun_ws, "message.new")["seq"])
    jun_ws.close()
    for n in range(4, 8):
        send(mina_ws, "message.send", client_id=f"a{n}", content=f"m{n}")
        ws_next(mina_ws, "message.new")
    jun_ws = open_chat(live_server, chat_world, "jun", after=seen[-1])
    send(mina_ws, "message.send", client_id="a8", content="m8")
    while len(seen) < 8:
        seen.append(ws_next(jun_ws, "message.new")["seq"])
    stored = [m.seq for m in db.session.scalars(select(Message).order_by(Message.seq))]
    assert seen == stored == list(range(1, 9))


def test_bad_input_and_outsiders(app, make_user, live_server, chat_world):
    mina_ws = open_chat(live_server, chat_world, "mina")
    send(mina_ws, "message.send", client_id="e1", content="   ")
    assert ws_next(mina_ws, "error")["code"] == "bad_content"
    send(mina_ws, "message.send", client_id="e2", content="x" * 4001)
    assert ws_next(mina_ws, "error")["code"] == "bad_content"
    send(mina_ws, "message.read", up_to_seq="all")
    assert ws_next(mina_ws, "error")["code"] == "bad_up_to_seq"
    send(mina_ws, "message.shout")
    assert ws_next(mina_ws, "error")["code"] == "unknown_type"

    eve = open_session(app, make_user("eve"), LIVE_SECRET)
    headers = {**UPGRADE, "Origin": live_server.url, "Cookie": f"bb_session={eve}"}
    assert httpx.get(live_server.url + path_of(chat_world), headers=headers).status_code == 404
    assert httpx.get(live_server.url + "/ws/conversations/not-a-uuid", headers=headers).status_code == 404
    page = httpx.get(f"{live_server.url}/conversations/{chat_world['conversation'].id}", cookies={"bb_session": eve})
    assert page.status_code == 404


def test_a_message_published_before_an_earlier_one_does_not_hide_it(live_server, chat_world, rdb):
    """Two senders in two processes commit seq 1 then 2 but may publish 2 first: the socket
    sees the gap and takes what lies between from SQL, so 1 is not dropped as already seen."""
    jun_ws = open_chat(live_server, chat_world, "jun")
    conversation, mina = chat_world["conversation"], chat_world["mina"]
    first, _ = chat.post_message(conversation.id, mina.id, "first", "published late")
    second, _ = chat.post_message(conversation.id, mina.id, "second", "published first")
    db.session.info.pop("bb_after_commit_events")  # nothing goes out with the commit…
    db.session.commit()
    publish_now(rdb, conversation_topic(conversation.id), "message.new", second)  # …then only the second
    arrived = [ws_next(jun_ws, "message.new"), ws_next(jun_ws, "message.new")]
    assert [m["seq"] for m in arrived] == [1, 2] and arrived[0]["id"] == first["id"]
    publish_now(rdb, conversation_topic(conversation.id), "message.new", first)  # the late one: not twice
    send(jun_ws, "ping")
    assert ws_next(jun_ws, "pong") == {}
    assert all(json.loads(raw)["type"] != "message.new" for raw in iter(lambda: jun_ws.receive(timeout=0.3), None))


@pytest.mark.parametrize("frame", [{"content": "a\u0000b"}, {"content": "\u0000"}, {"content": "ok", "x": ["\u0000"]}])
def test_a_nul_in_a_frame_is_refused_and_nothing_is_stored(live_server, chat_world, frame):
    ws = open_chat(live_server, chat_world, "mina")
    send(ws, "message.send", client_id="n-1", **frame)
    assert ws_next(ws, "error")["code"] == "bad_frame"
    send(ws, "ping")
    assert ws_next(ws, "pong") == {}
    db.session.expire_all()
    assert db.session.scalar(select(Message)) is None
    ws.close()
