"""Under the real server: an upload announced over its limit is answered 413 from its headers,
before its body is sent, and one just under the limit is read and taken."""

import socket

import pytest

from blueberry.extensions import db
from blueberry.services.conversation import start_direct
from tests.conftest import LIVE_SECRET
from tests.realtime.clients import open_session

MIB = 1024 * 1024


@pytest.fixture
def live_env():
    return {"UPLOAD_MAX_BYTES": str(10 * MIB)}


def post_headers(live_server, path: str, cookie: str, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{live_server.port}\r\nCookie: bb_session={cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_an_upload_announced_over_the_limit_gets_413_unread(app, live_server, make_user):
    mina, jun = make_user("mina"), make_user("jun")
    conversation = start_direct(mina.id, jun.id)
    db.session.commit()
    cookie = open_session(app, mina, LIVE_SECRET)
    path = f"/conversations/{conversation.id}/attachments"
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=5) as sock:
        sock.sendall(post_headers(live_server, path, cookie, 10 * MIB + 64 * 1024))  # and no body at all
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
