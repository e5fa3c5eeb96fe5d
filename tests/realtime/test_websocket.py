"""The user's websocket: handshake checks, frame limits, bad frames, throttling, session end."""

import json
import re
import time

import httpx
import pytest
from simple_websocket import ConnectionClosed

from tests.conftest import LIVE_SECRET
from tests.realtime.clients import connect_ws, open_session, ws_events

UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


@pytest.fixture
def mina_cookie(app, make_user, live_server):
    return open_session(app, make_user("mina"), LIVE_SECRET)


def handshake(url: str, **headers) -> int:
    return httpx.get(url + "/ws", headers={**UPGRADE, **headers}, timeout=5).status_code


def test_handshake_checks(live_server, mina_cookie):
    cookie = f"bb_session={mina_cookie}"
    assert handshake(live_server.url, Origin=live_server.url) == 401
    assert handshake(live_server.url, Origin="https://evil.example", Cookie=cookie) == 403
    assert handshake(live_server.url, Cookie=cookie) == 403
    ws = connect_ws(live_server.url, mina_cookie)
    try:
        assert ws.subprotocol == "blueberry.json"
        ws.send(json.dumps({"type": "ping"}))
        assert ws_events(ws, 1)[0]["type"] == "pong"
    finally:
        ws.close()


def test_oversize_frame_closes_with_1009(live_server, mina_cookie):
    ws = connect_ws(live_server.url, mina_cookie)
    ws.send(json.dumps({"type": "ping", "pad": "x" * (65 * 1024)}))
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(50):
            ws.receive(timeout=0.2)
    assert closed.value.reason == 1009


@pytest.mark.parametrize("frame", ["not json", "[1, 2]", '{"no": "type"}', '{"type": 5}'])
def test_malformed_frame_gets_an_error_and_the_socket_lives(live_server, mina_cookie, frame):
    ws = connect_ws(live_server.url, mina_cookie)
    try:
        ws.send(frame)
        error = ws_events(ws, 1)[0]
        assert error["type"] == "error" and error["data"]["code"] == "bad_frame"
        ws.send(json.dumps({"type": "ping"}))
        assert ws_events(ws, 1)[0]["type"] == "pong"
    finally:
        ws.close()


def test_a_flood_is_throttled_and_the_socket_lives(live_server, mina_cookie):
    ws = connect_ws(live_server.url, mina_cookie)
    try:
        for _ in range(60):
            ws.send(json.dumps({"type": "ping"}))
        answers = [event["type"] for event in ws_events(ws, 60)]
        assert answers.count("pong") < 60 and "error" in answers
        time.sleep(1.0)
        ws.send(json.dumps({"type": "ping"}))
        assert ws_events(ws, 1)[0]["type"] == "pong"
    finally:
        ws.close()


def test_html_clients_get_no_json(live_server, mina_cookie):
    ws = connect_ws(live_server.url, mina_cookie, json_protocol=False)
    try:
        assert ws.subprotocol is None
    finally:
        ws.close()


def test_logout_closes_the_socket_with_1008(live_server, mina_cookie):
    ws = connect_ws(live_server.url, mina_cookie)
    browser = httpx.Client(base_url=live_server.url, timeout=5)
    browser.cookies.set("bb_session", mina_cookie, domain="127.0.0.1")  # replaced by the server's updates
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/settings/profile").text).group(1)
    assert browser.post("/auth/logout", data={"csrf_token": token}).status_code == 303
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(50):
            ws.receive(timeout=0.2)
    assert closed.value.reason == 1008
    assert handshake(live_server.url, Origin=live_server.url, Cookie=f"bb_session={mina_cookie}") == 401
