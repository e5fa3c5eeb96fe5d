"""Once a websocket is upgraded it never carries an HTTP response: a failure after the upgrade
closes it with 1011 (the client reconnects) or, inside one frame, answers `error`
`internal_error` and the socket stays up. Faults are real: the test breaks the live server's
database (a renamed table, a trigger that aborts a write) under it."""

import json
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text

from blueberry.extensions import db
from blueberry.services import chat
from blueberry.services.conversation import start_direct
from blueberry.services.room import record_match
from tests.conftest import LIVE_SECRET
from tests.realtime.clients import closed_code, connect_ws, open_session, ws_next

UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip


@pytest.fixture
def world(app, make_user, live_server):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    conversation = start_direct(mina.id, jun.id)
    chat.post_message(conversation.id, jun.id, "c-1", "hello")
    room = record_match(mina.id, jun.id)
    db.session.commit()
    cookies = {user.username: open_session(app, user, LIVE_SECRET) for user in (mina, jun)}
    return {"conversation": conversation, "room_id": room.id, "cookies": cookies}


def break_database(statement: str) -> None:
    db.session.execute(text(statement))
    db.session.commit()


def refuse_updates(table: str) -> None:
    """A trigger that aborts every update of `table`, in this database's own dialect."""
    if db.engine.dialect.name == "sqlite":
        break_database(f"CREATE TRIGGER refuse BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, 'forced'); END")
        return
    break_database("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE 'forced'; END $$")
    break_database(f"CREATE TRIGGER refuse BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION refuse()")


def test_chat_socket_closes_with_1011_when_its_replay_fails(live_server, world):
    break_database("ALTER TABLE message RENAME TO message_gone")
    ws = connect_ws(live_server.url, world["cookies"]["mina"], f"/ws/conversations/{world['conversation'].id}")
    assert closed_code(ws) == 1011


def test_user_socket_closes_with_1011_when_its_catch_up_fails(live_server, world):
    break_database("ALTER TABLE notification RENAME TO notification_gone")
    ws = connect_ws(live_server.url, world["cookies"]["mina"], "/ws")
    assert closed_code(ws) == 1011


def test_match_socket_closes_with_1011_when_connecting_fails(live_server, world):
    break_database("ALTER TABLE match_history RENAME TO match_history_gone")
    ws = connect_ws(live_server.url, world["cookies"]["mina"], "/ws/match")
    assert closed_code(ws) == 1011


def test_room_socket_closes_with_1011_when_starting_the_call_fails(live_server, world):
    path = f"/ws/rooms/{world['room_id']}"
    first = connect_ws(live_server.url, world["cookies"]["mina"], path)
    assert ws_next(first, "room.state")["peer_present"] is False
    refuse_updates("matched_room")
    second = connect_ws(live_server.url, world["cookies"]["jun"], path)
    assert closed_code(second) == 1011


def test_a_failing_frame_answers_internal_error_and_the_socket_lives(live_server, world):
    ws = connect_ws(live_server.url, world["cookies"]["mina"], f"/ws/conversations/{world['conversation'].id}")
    ws_next(ws, "message.new")
    refuse_updates("conversation_member")
    ws.send(json.dumps({"type": "message.read", "up_to_seq": 1}))
    assert ws_next(ws, "error")["code"] == "internal_error"
    ws.send(json.dumps({"type": "ping"}))
    assert ws_next(ws, "pong") == {}
    ws.close()


@pytest.mark.parametrize("up_to_seq", [2**63, 2**31, -1, 1.5, "1", True])
def test_an_integer_out_of_range_is_refused_at_the_edge(live_server, world, up_to_seq):
    ws = connect_ws(live_server.url, world["cookies"]["mina"], f"/ws/conversations/{world['conversation'].id}")
    ws.send(json.dumps({"type": "message.read", "up_to_seq": up_to_seq}))
    assert ws_next(ws, "error")["code"] == "bad_up_to_seq"
    ws.send(json.dumps({"type": "ping"}))
    assert ws_next(ws, "pong") == {}
    ws.close()


@pytest.mark.parametrize("after", ["99999999999999999999", "2147483648", "-1", "1e3", "²"])
def test_a_bad_after_is_refused_before_the_upgrade(live_server, world, after):
    url = f"{live_server.url}/ws/conversations/{world['conversation'].id}"
    headers = {**UPGRADE, "Origin": live_server.url, "Cookie": f"bb_session={world['cookies']['mina']}"}
    assert httpx.get(url, params={"after": after}, headers=headers, timeout=5).status_code == 400


def test_a_huge_location_is_refused_and_the_match_socket_lives(live_server, world):
    ws = connect_ws(live_server.url, world["cookies"]["mina"], "/ws/match")
    ws_next(ws, "match.idle")
    ws.send('{"type": "match.join", "lat": 1' + "0" * 400 + ', "lon": 1}')
    assert ws_next(ws, "error")["code"] == "bad_location"
    ws.send(json.dumps({"type": "ping"}))
    assert ws_next(ws, "pong") == {}
    ws.close()


@pytest.mark.parametrize("cursor", ["1-0~99999999999999999999", "99999999999999999999999-0~1", "1-²~³"])
def test_an_absurd_cursor_reads_as_no_cursor(live_server, world, cursor):
    ws = connect_ws(live_server.url, world["cookies"]["mina"], f"/ws?last_event_id={quote(cursor)}")
    ws.send(json.dumps({"type": "ping"}))
    assert ws_next(ws, "pong") == {}
    ws.close()
