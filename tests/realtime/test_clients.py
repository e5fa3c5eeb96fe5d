"""The test websocket client itself: a server that answers, speaks and closes in one write (as
a refusal right after the upgrade can arrive) must leave the frames and the close code readable."""

import base64
import hashlib
import json
import socket
import struct
import threading

from tests.realtime.clients import WSClient, closed_code

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(opcode: int, payload: bytes) -> bytes:
    return bytes([0x80 | opcode, len(payload)]) + payload


def serve_once(listener: socket.socket, extra: bytes) -> None:
    conn, _ = listener.accept()
    request = conn.recv(4096).decode()
    headers = dict(line.split(": ", 1) for line in request.split("\r\n")[1:] if ": " in line)
    key = {name.lower(): value for name, value in headers.items()}["sec-websocket-key"]
    accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
    head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    head += f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    conn.sendall(head.encode() + extra)  # the 101, a frame and the close in one segment
    conn.recv(4096)  # the client's close answer, if any
    conn.close()


def test_a_close_that_came_with_the_upgrade_is_reported_by_receive():
    listener = socket.create_server(("127.0.0.1", 0))
    error = json.dumps({"type": "error", "data": {"code": "blocked"}}).encode()
    extra = frame(0x1, error) + frame(0x8, struct.pack("!H", 4403) + b"blocked")
    threading.Thread(target=serve_once, args=(listener, extra), daemon=True).start()
    ws = WSClient.connect(f"ws://127.0.0.1:{listener.getsockname()[1]}/")
    assert json.loads(ws.receive(timeout=2))["data"]["code"] == "blocked"
    assert closed_code(ws) == 4403
    listener.close()
