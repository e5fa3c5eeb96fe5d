"""The input rules on PostgreSQL, whose INTEGER is 32-bit and whose text cannot hold a NUL: what
SQLite would quietly store or compare must be refused at the edge, never reach the database."""

import json

import httpx
import pytest
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import Message
from blueberry.services import accounts, chat, receipts
from blueberry.services.conversation import start_direct
from tests.conftest import LIVE_SECRET, get_csrf, login
from tests.realtime.clients import connect_ws, open_session, ws_next

pytestmark = pytest.mark.postgres
UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip


def make_pg_user(username: str):
    user = accounts.create_user(accounts.SignupData(username, "correct-horse", 30, "female"))
    db.session.commit()
    return user


@pytest.fixture
def talk(pg_migrated):
    mina, jun = make_pg_user("mina"), make_pg_user("jun")
    conversation = start_direct(mina.id, jun.id)
    chat.post_message(conversation.id, jun.id, "p-1", "hello")
    db.session.commit()
    return mina, jun, conversation


def test_http_ids_and_cursors_beyond_int4_and_nul_are_refused(pg_migrated, talk):
    client = pg_migrated.test_client()
    assert login(client, "mina").status_code == 303
    assert client.get("/rooms/2147483648").status_code == 404
    assert client.get("/notifications?before=2147483648").status_code == 400
    assert client.get(f"/conversations/{talk[2].id}?before=2147483648").status_code == 400
    token = get_csrf(client, "/notifications")
    assert client.post("/notifications/2147483648/read", data={"csrf_token": token}).status_code == 404
    profile = {"display_name": "a\x00b", "age": "30", "gender": "female", "timezone": "Asia/Seoul",
               "language": "en", "csrf_token": get_csrf(client, "/settings/profile")}  # fmt: skip
    assert client.post("/settings/profile", data=profile).status_code == 400


def test_a_read_position_in_the_future_is_clamped(pg_migrated, talk):
    mina, _, conversation = talk
    assert len(receipts.mark_read(conversation.id, mina.id, 2**31 - 1)) == 1
    db.session.commit()
    assert chat.member(conversation.id, mina.id).last_read_seq == 1


def test_frames_with_nul_or_huge_integers_are_refused_over_a_socket(pg_migrated, pg_live_server, talk):
    mina, _, conversation = talk
    cookie = open_session(pg_migrated, mina, LIVE_SECRET)
    path = f"/ws/conversations/{conversation.id}"
    headers = {**UPGRADE, "Origin": pg_live_server.url, "Cookie": f"bb_session={cookie}"}
    refused = httpx.get(f"{pg_live_server.url}{path}?after=2147483648", headers=headers, timeout=5)
    assert refused.status_code == 400
    ws = connect_ws(pg_live_server.url, cookie, f"{path}?after=2147483647")  # ahead of the conversation
    ws.send(json.dumps({"type": "message.send", "client_id": "n-1", "content": "a\u0000b"}))
    assert ws_next(ws, "error")["code"] == "bad_frame"
    ws.send(json.dumps({"type": "message.read", "up_to_seq": 2**31}))
    assert ws_next(ws, "error")["code"] == "bad_up_to_seq"
    ws.send(json.dumps({"type": "message.send", "client_id": "n-2", "content": "still here"}))
    assert ws_next(ws, "message.new")["seq"] == 2  # the client's `after` was clamped: it hears new ones
    ws.close()
    db.session.expire_all()
    assert [m.content for m in db.session.scalars(select(Message).order_by(Message.seq))] == ["hello", "still here"]
