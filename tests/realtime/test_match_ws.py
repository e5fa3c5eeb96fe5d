"""The match flow over real websockets on the live server: offer, accept, decline, timeout,
disconnect, bad input, and a second window; then the voice room's signaling relay."""

import json

import httpx
import pytest
import redis
from simple_websocket import ConnectionClosed
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.models import MatchedRoom, MatchHistory
from tests.conftest import LIVE_SECRET
from tests.match_queue import waiting
from tests.realtime.clients import connect_ws, open_session

OFFER_S = 2.0


@pytest.fixture
def live_env():
    return {"MATCH_OFFER_S": str(OFFER_S)}


@pytest.fixture
def people(app, make_user, live_server):
    """Two people who fit each other, with login cookies for the live server."""
    mina = make_user("mina", age=29, gender="female", display_name="Mina <b>")
    jun = make_user("jun", age=31, gender="male", display_name="Jun", bio="Sci-fi.", interests=["books", "jazz"])
    return {name: (user, open_session(app, user, LIVE_SECRET)) for name, user in (("mina", mina), ("jun", jun))}


def next_of(ws, type_: str, timeout: float = 5.0) -> dict:
    """The next event of `type_` (skipping census updates and others)."""
    while True:
        raw = ws.receive(timeout=timeout)
        assert raw is not None, f"no {type_} within {timeout}s"
        event = json.loads(raw)
        if event["type"] == type_:
            return event


def send(ws, type_: str, **data) -> None:
    ws.send(json.dumps({"type": type_, **data}))


def open_match(live_server, cookie):
    ws = connect_ws(live_server.url, cookie, "/ws/match")
    next_of(ws, "match.idle")
    return ws


def offered(live_server, people):
    mina_ws = open_match(live_server, people["mina"][1])
    jun_ws = open_match(live_server, people["jun"][1])
    send(mina_ws, "match.join")
    searching = next_of(mina_ws, "match.searching")["data"]
    assert searching["waited_s"] == 0 and searching["online"] == 1 and searching["compatible"] == 1
    send(jun_ws, "match.join")
    return mina_ws, jun_ws, next_of(mina_ws, "match.offer")["data"], next_of(jun_ws, "match.offer")["data"]


def test_both_accept_and_the_match_opens_a_room_for_the_two(app, live_server, people):
    mina_ws, jun_ws, mina_offer, jun_offer = offered(live_server, people)
    assert mina_offer["match_id"] == jun_offer["match_id"]
    assert mina_offer["partner"] == {
        "id": people["jun"][0].id, "display_name": "Jun", "username": "jun", "age": 31, "gender": "male",
        "bio": "Sci-fi.", "interests": ["books", "jazz"], "photo": "",
    }  # fmt: skip
    assert jun_offer["partner"]["display_name"] == "Mina <b>" and "interests" not in jun_offer["partner"]
    send(mina_ws, "match.accept", match_id=mina_offer["match_id"])
    assert next_of(mina_ws, "match.offer")["data"]["you_accepted"] is True
    assert next_of(jun_ws, "match.partner_accepted")["data"]["match_id"] == jun_offer["match_id"]
    send(jun_ws, "match.accept", match_id=jun_offer["match_id"])
    connected = [next_of(ws, "match.connected")["data"] for ws in (mina_ws, jun_ws)]
    assert connected[0] == connected[1] and connected[0]["room_url"] == f"/rooms/{connected[0]['room_id']}"
    room = db.session.get(MatchedRoom, connected[0]["room_id"])
    assert room.is_open and room.has_member(people["mina"][0].id) and room.has_member(people["jun"][0].id)
    assert db.session.scalar(select(func.count()).select_from(MatchHistory)) == 1
    for ws in (mina_ws, jun_ws):
        ws.close()


def test_decline_requeues_the_accepter_and_idles_the_decliner(live_server, people):
    mina_ws, jun_ws, offer, _ = offered(live_server, people)
    send(mina_ws, "match.accept", match_id=offer["match_id"])
    next_of(jun_ws, "match.partner_accepted")  # her accept is in before his decline
    send(jun_ws, "match.decline", match_id=offer["match_id"])
    ended = next_of(mina_ws, "match.ended")["data"]
    assert ended == {"match_id": offer["match_id"], "reason": "declined", "requeued": True, "by_you": False}
    assert next_of(mina_ws, "match.searching")["data"]["compatible"] == 0  # jun declined: not offered again
    assert next_of(jun_ws, "match.ended")["data"]["by_you"] is True
    r = redis.Redis.from_url(live_server.env["REDIS_URL"], decode_responses=True)
    assert waiting(r) == [str(people["mina"][0].id)]


def test_an_unanswered_offer_expires_and_the_accepter_keeps_searching(live_server, people):
    mina_ws, jun_ws, offer, _ = offered(live_server, people)
    assert offer["expires_at"] > 0
    send(mina_ws, "match.accept", match_id=offer["match_id"])
    assert next_of(mina_ws, "match.offer")["data"]["you_accepted"] is True
    assert next_of(mina_ws, "match.ended", timeout=OFFER_S + 5)["data"]["reason"] == "expired"
    next_of(mina_ws, "match.searching")
    ended = next_of(jun_ws, "match.ended")["data"]
    assert ended["reason"] == "expired" and ended["requeued"] is False
    send(jun_ws, "match.accept", match_id=offer["match_id"])
    assert next_of(jun_ws, "error")["data"]["code"] == "not_found"


def test_a_partner_who_disconnects_ends_the_offer_and_the_other_is_requeued(live_server, people):
    mina_ws, jun_ws, offer, _ = offered(live_server, people)
    jun_ws.close()
    ended = next_of(mina_ws, "match.ended")["data"]
    assert ended["reason"] == "partner_left" and ended["requeued"] is True
    assert next_of(mina_ws, "match.searching")["data"]["online"] == 0


def test_bad_frames_get_errors_and_change_nothing(live_server, people):
    mina_ws = open_match(live_server, people["mina"][1])
    send(mina_ws, "match.teleport")
    assert next_of(mina_ws, "error")["data"]["code"] == "unknown_type"
    mina_ws.send("not json")
    assert next_of(mina_ws, "error")["data"]["code"] == "bad_frame"
    send(mina_ws, "match.accept", match_id="1:2:3")
    assert next_of(mina_ws, "error")["data"]["code"] == "not_found"
    send(mina_ws, "match.accept", match_id=["x"])
    assert next_of(mina_ws, "error")["data"]["code"] == "bad_match_id"
    send(mina_ws, "match.join", lat="north", lon=1)
    assert next_of(mina_ws, "error")["data"]["code"] == "bad_location"
    send(mina_ws, "match.join")
    send(mina_ws, "match.join")
    next_of(mina_ws, "match.searching")
    r = redis.Redis.from_url(live_server.env["REDIS_URL"], decode_responses=True)
    assert len(waiting(r)) == 1
    send(mina_ws, "match.leave")
    next_of(mina_ws, "match.idle")
    assert waiting(r) == []


def test_a_second_window_takes_over_and_keeps_the_place_in_line(live_server, people):
    first = open_match(live_server, people["mina"][1])
    send(first, "match.join")
    next_of(first, "match.searching")
    second = connect_ws(live_server.url, people["mina"][1], "/ws/match")
    assert next_of(second, "match.searching")["data"]["waited_s"] >= 0
    next_of(first, "match.replaced")
    with pytest.raises(ConnectionClosed):  # closed normally: htmx will not reconnect and steal it back
        first.receive(timeout=5)
    assert first.close_reason == 1000
    r = redis.Redis.from_url(live_server.env["REDIS_URL"], decode_responses=True)
    send(second, "ping")
    next_of(second, "pong")
    assert len(waiting(r)) == 1  # the old window's goodbye did not take her out


def matched_room(live_server, people) -> int:
    mina_ws, jun_ws, offer, _ = offered(live_server, people)
    for ws in (mina_ws, jun_ws):
        send(ws, "match.accept", match_id=offer["match_id"])
    room_id = next_of(mina_ws, "match.connected")["data"]["room_id"]
    mina_ws.close()
    jun_ws.close()
    return room_id


def test_the_room_relays_signals_between_its_two_members_only(app, make_user, live_server, people):
    room_id = matched_room(live_server, people)
    path = f"/ws/rooms/{room_id}"
    outsider = open_session(app, make_user("eve"), LIVE_SECRET)
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": live_server.url}  # fmt: skip
    assert httpx.get(live_server.url + path, headers={**upgrade, "Cookie": f"bb_session={outsider}"}).status_code == 404
    assert httpx.get(f"{live_server.url}/rooms/{room_id}", cookies={"bb_session": outsider}).status_code == 404

    mina_ws = connect_ws(live_server.url, people["mina"][1], path)
    first = next_of(mina_ws, "room.state")["data"]
    assert first["peer_present"] is False and first["started_at"] is None
    jun_ws = connect_ws(live_server.url, people["jun"][1], path)
    second = next_of(jun_ws, "room.state")["data"]
    assert second["peer_present"] is True and second["started_at"]
    assert {first["role"], second["role"]} == {"caller", "callee"}
    assert next_of(mina_ws, "room.peer_joined")["data"]["started_at"] == second["started_at"]

    offer = {"type": "offer", "sdp": "v=0\r\n"}
    send(mina_ws, "signal", description=offer, call=2)
    relayed = next_of(jun_ws, "room.signal")["data"]
    assert relayed["description"] == offer and relayed["from"] == people["mina"][0].id
    assert relayed["call"] == 2  # which offer: the answer repeats it, the caller takes only the latest's
    send(mina_ws, "signal", description=offer, call="2; drop table")
    assert "call" not in next_of(jun_ws, "room.signal")["data"]
    send(jun_ws, "signal", candidate={"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0",
                                      "sdpMLineIndex": 0, "onclick": "x"})  # fmt: skip
    assert "onclick" not in next_of(mina_ws, "room.signal")["data"]["candidate"]
    send(jun_ws, "signal", description={"type": "rollback-ish", "sdp": 5})
    assert next_of(jun_ws, "error")["data"]["code"] == "bad_signal"

    jun_ws.close()
    assert next_of(mina_ws, "room.peer_left")
    jun_ws = connect_ws(live_server.url, people["jun"][1], path)  # a dropped peer comes back
    assert next_of(jun_ws, "room.state")["data"]["peer_present"] is True
    next_of(mina_ws, "room.peer_joined")

    response = httpx.get(f"{live_server.url}/rooms/{room_id}", cookies={"bb_session": people["jun"][1]})
    page = response.text
    assert "Mina &lt;b&gt;" in page and "Mina <b>" not in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    cookie = response.cookies.get("bb_session") or people["jun"][1]  # the session now holds the CSRF secret
    left = httpx.post(f"{live_server.url}/rooms/{room_id}/leave", data={"csrf_token": token},
                      cookies={"bb_session": cookie})  # fmt: skip
    assert left.status_code == 303
    for ws in (mina_ws, jun_ws):
        assert next_of(ws, "room.ended")["data"]["reason"] == "left"
    db.session.expire_all()
    assert db.session.get(MatchedRoom, room_id).end_reason == "left"


def test_a_member_without_a_microphone_is_announced_and_never_starts_the_call(live_server, people):
    room_id = matched_room(live_server, people)
    path = f"/ws/rooms/{room_id}"
    jun_ws = connect_ws(live_server.url, people["jun"][1], path + "?mic=off")
    state = next_of(jun_ws, "room.state")["data"]
    assert state["mic"] is False and state["peer_present"] is False
    mina_ws = connect_ws(live_server.url, people["mina"][1], path)  # she joins later: she is told too
    assert next_of(mina_ws, "room.state")["data"]["peer_present"] is False  # he is not in the call
    assert next_of(mina_ws, "room.no_mic")["data"]["from"] == people["jun"][0].id
    send(jun_ws, "signal", description={"type": "offer", "sdp": "v=0\r\n"})
    assert next_of(jun_ws, "error")["data"]["code"] == "no_mic"
    db.session.expire_all()
    assert db.session.get(MatchedRoom, room_id).started_at is None  # nobody talked: no duration

    jun_ws.close()  # he fixed the microphone and reloads: the call starts as usual
    jun_ws = connect_ws(live_server.url, people["jun"][1], path)
    assert next_of(jun_ws, "room.state")["data"]["peer_present"] is True
    assert next_of(mina_ws, "room.peer_joined")["data"]["started_at"]
    for ws in (mina_ws, jun_ws):
        ws.close()
