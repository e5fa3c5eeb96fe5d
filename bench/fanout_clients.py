"""Minimal asyncio clients for the benchmark: thousands of idle websockets and SSE streams.

Hand-written on raw sockets so that one process can hold thousands cheaply: a websocket that
answers the server's pings, and an SSE reader that notes when a marker arrives.
"""

import asyncio
import base64
import json
import os
import struct
import time
from pathlib import Path


def _request(server, path: str, cookie: str, extra: str = "") -> bytes:
    host = f"127.0.0.1:{server.port}"
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: bb_session={cookie}\r\n{extra}\r\n").encode()


def _frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (clients must mask)."""
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    size = len(payload)
    head += bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + struct.pack("!H", size)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class IdleSocket:
    """A websocket that stays idle, answers pings and can ping the app."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.alive = True
        self.pongs: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, server, person) -> "IdleSocket":
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = (
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: blueberry.json\r\nOrigin: {server.url}\r\n"
        )
        writer.write(_request(server, "/ws", person.cookie, extra))
        status = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0]
        if b" 101 " not in status:
            raise RuntimeError(f"handshake refused: {status!r}")
        return cls(reader, writer)

    async def _read(self) -> None:
        try:
            while True:
                first, second = await self.reader.readexactly(2)
                size = second & 0x7F
                if size == 126:
                    size = struct.unpack("!H", await self.reader.readexactly(2))[0]
                elif size == 127:
                    size = struct.unpack("!Q", await self.reader.readexactly(8))[0]
                payload = await self.reader.readexactly(size)
                await self._handle(first & 0x0F, payload)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.alive = False

    async def _handle(self, opcode: int, payload: bytes) -> None:
        if opcode == 0x9:  # ping → pong
            self.writer.write(_frame(0xA, payload))
        elif opcode == 0x8:
            self.alive = False
        elif opcode == 0x1 and json.loads(payload).get("type") == "pong":
            self.pongs.put_nowait(payload)

    async def ping(self) -> bool:
        self.writer.write(_frame(0x1, b'{"type":"ping"}'))
        try:
            await asyncio.wait_for(self.pongs.get(), timeout=10)
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.task.cancel()
        self.writer.close()


class SSEWatcher:
    """An SSE stream that resolves `received` with the time the awaited marker first appears."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.marker, self.received = b"", None
        self.task = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, server, person) -> "SSEWatcher":
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(_request(server, "/events?format=json", person.cookie))
        await reader.readuntil(b": connected")
        return cls(reader, writer)

    def expect(self, marker: str) -> None:
        self.marker = marker.encode()
        self.received = asyncio.get_running_loop().create_future()

    async def _read(self) -> None:
        tail = b""
        while chunk := await self.reader.read(65536):
            if self.received is not None and not self.received.done() and self.marker in tail + chunk:
                self.received.set_result(time.monotonic())  # the clock the sender process reads too
            tail = chunk[-64:]

    def close(self) -> None:
        self.task.cancel()
        self.writer.close()


def worker_connections(pids: list[int], port: int) -> list[int]:
    """How many established connections on `port` each worker process holds."""
    inodes = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # ESTABLISHED
            inodes[fields[9]] = True
    counts = []
    for pid in pids:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        counts.append(sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes))
    return counts
