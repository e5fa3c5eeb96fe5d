"""The user's websocket: handshake checks, frame limits, bad frames, throttling, session end."""

import json
import queue
import re
import socket
import time

import httpx
import pytest
from simple_websocket import ConnectionClosed

from tests.conftest import LIVE_SECRET
from tests.realtime.clients import SSEReader, connect_ws, open_session, ws_events

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


def test_compression_is_never_negotiated(live_server, mina_cookie):
    request = (
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in UPGRADE.items())
        + f"Sec-WebSocket-Extensions: permessage-deflate\r\nOrigin: {live_server.url}\r\n"
        + f"Cookie: bb_session={mina_cookie}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=5) as sock:
        sock.sendall(request.encode())
        head = sock.recv(4096).decode().lower()
    assert head.startswith("http/1.1 101")
    assert "sec-websocket-extensions" not in head


def test_a_password_change_ends_the_other_sessions_streams(app, live_server, make_user):
    user = make_user("jun")
    phone, laptop = open_session(app, user, LIVE_SECRET), open_session(app, user, LIVE_SECRET)
    phone_sse, laptop_sse = SSEReader(live_server.url, phone), SSEReader(live_server.url, laptop)
    time.sleep(0.5)
    try:
        browser = httpx.Client(base_url=live_server.url, timeout=5)
        browser.cookies.set("bb_session", laptop, domain="127.0.0.1")
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/settings/accounts").text).group(1)
        data = {"current_password": "correct-horse", "new_password": "new-password-1",
                "confirm_password": "new-password-1", "csrf_token": token}  # fmt: skip
        assert browser.post("/settings/accounts", data=data).status_code == 303
        assert phone_sse.next_of("session.ended")["json"]["type"] == "session.ended"
        assert phone_sse.closed.wait(5)
        with pytest.raises(queue.Empty):
            laptop_sse.next_of("session.ended", timeout=1.0)
    finally:
        phone_sse.close()
        laptop_sse.close()
