"""Chat benchmark: send → receive latency over websockets, across the two gunicorn workers.

    .venv/bin/python bench/chat.py [--conversations 200] [--rate 500] [--seconds 10] [--steps 750,1000,1500]

200 conversations; each has a sender and a recipient whose sockets are held by *different*
gunicorn workers (checked through /proc: the message must cross Redis pub/sub). Messages go out
at a fixed rate, round robin over the senders, each with its own client id; we time from the
send until the recipient's socket yields `message.new`. After each run, every recipient's list
is checked against the database: nothing lost, nothing twice, in order. Then higher rates, to
find the highest one whose p99 stays under 50 ms.

Loopback only, bounded in count and time; its own Redis, SQLite and gunicorn (2 gevent
workers), stopped at the end. Prints a Markdown table for docs/PERFORMANCE.md.
"""

import argparse
import asyncio
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import websockets  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench.fanout_setup import bench_world  # noqa: E402
from blueberry.extensions import db  # noqa: E402
from blueberry.models import Message  # noqa: E402
from blueberry.services.conversation import start_direct  # noqa: E402

P99_LIMIT_MS = 50
DRAIN_S = 30


class Side:
    """One end of a conversation: a socket and a reader task noting when messages arrive.

    asyncio `websockets` (C-accelerated framing) in one thread, so the benchmark's own client
    costs little of the two cores it shares with the server.
    """

    def __init__(self, ws):
        self.ws = ws
        self.arrivals: dict[str, float] = {}
        self.seqs: list[int] = []
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, server, person, conversation_id) -> "Side":
        return cls(await conversation_socket(server, person, conversation_id))

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                if '"message.new"' in raw[:40]:
                    event = json.loads(raw)
                    self.arrivals[event["data"]["client_id"]] = time.perf_counter()
                    self.seqs.append(event["data"]["seq"])
        except websockets.ConnectionClosed:
            return

    def local_port(self) -> int:
        return self.ws.transport.get_extra_info("sockname")[1]

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


async def conversation_socket(server, person, conversation_id):
    """`person`'s JSON socket on a conversation, from its first message."""
    url = server.url.replace("http://", "ws://") + f"/ws/conversations/{conversation_id}?after=0"
    return await websockets.connect(
        url, subprotocols=["blueberry.json"], origin=server.url, compression=None,
        additional_headers={"Cookie": f"bb_session={person.cookie}"}, max_queue=None,
    )  # fmt: skip


def worker_of(pids: list[int], server_port: int, client_port: int) -> int | None:
    """Which worker process holds the server end of the client's connection."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
        if local == server_port and remote == client_port:
            inode = fields[9]
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


async def cross_worker_pair(world, sender, recipient, conversation_id) -> tuple[Side, Side]:
    """A sender and a recipient held by different workers (reconnect until they are)."""
    pids, port = world.server.worker_pids(), world.server.port
    send_side = await Side.connect(world.server, sender, conversation_id)
    await asyncio.sleep(0.01)
    send_worker = worker_of(pids, port, send_side.local_port())
    for _ in range(30):
        receive_side = await Side.connect(world.server, recipient, conversation_id)
        await asyncio.sleep(0.01)
        if worker_of(pids, port, receive_side.local_port()) not in (None, send_worker):
            return send_side, receive_side
        await receive_side.close()
    raise RuntimeError("could not place the recipient on the other worker")


async def run_rate(pairs: list[tuple[Side, Side]], rate: float, seconds: float, tag: str) -> dict:
    """Send at `rate` for `seconds`; latencies of what arrived, and what did not."""
    count, sent = int(rate * seconds), {}
    start = time.perf_counter()
    for k in range(count):
        if (wait := start + k / rate - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        sender, _ = pairs[k % len(pairs)]
        client_id = f"{tag}-{k}"
        sent[client_id] = (time.perf_counter(), k % len(pairs))
        await sender.ws.send(json.dumps({"type": "message.send", "client_id": client_id, "content": f"hello {k}"}))
    lateness = time.perf_counter() - (start + count / rate)
    deadline = time.perf_counter() + DRAIN_S  # let a backlog drain, so the next rate starts clean
    while time.perf_counter() < deadline and sum(cid in pairs[i][1].arrivals for cid, (_, i) in sent.items()) < count:
        await asyncio.sleep(0.2)
    latencies = sorted(
        (pairs[i][1].arrivals[cid] - at) * 1000 for cid, (at, i) in sent.items() if cid in pairs[i][1].arrivals
    )
    if os.environ.get("BENCH_DEBUG"):
        by_second: dict = {}
        for cid, (at, i) in sent.items():
            if cid in pairs[i][1].arrivals:
                by_second.setdefault(int(at - start), []).append((pairs[i][1].arrivals[cid] - at) * 1000)
        for second, lat in sorted(by_second.items()):
            lat.sort()
            print(f"  t={second}s n={len(lat)} p50={lat[len(lat) // 2]:.1f} max={lat[-1]:.1f}", file=sys.stderr)
    return {"rate": rate, "sent": count, "received": len(latencies), "latencies": latencies, "lag_s": lateness}


def check_against_database(app, pairs, conversation_ids) -> tuple[int, int]:
    """(lost, duplicated or out of order) over every recipient, compared with SQL."""
    lost = wrong = 0
    with app.app_context():
        for (_, recipient), cid in zip(pairs, conversation_ids, strict=True):
            stored = list(
                db.session.scalars(select(Message.seq).where(Message.conversation_id == cid).order_by(Message.seq))
            )
            seen = recipient.seqs
            lost += len(set(stored) - set(seen))
            wrong += (len(seen) != len(set(seen))) + (seen != sorted(seen))
    return lost, wrong


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


async def setup(world, conversations: int):
    people = world.people
    with world.app.app_context():
        ids = [start_direct(people[2 * i].user_id, people[2 * i + 1].user_id).id for i in range(conversations)]
        db.session.commit()
    pairs = [await cross_worker_pair(world, people[2 * i], people[2 * i + 1], ids[i]) for i in range(conversations)]
    return pairs, ids


def report(args, runs: list[dict], checks: list[tuple[int, int]]) -> str:
    lines = [
        f"Command: `.venv/bin/python bench/chat.py --conversations {args.conversations} --rate {args.rate:g} "
        f"--seconds {args.seconds:g} --steps {args.steps}`",
        "",
        f"| rate (msg/s) | sent | received | p50 | p95 | p99 | max | stored, not received in {DRAIN_S} s "
        "| duplicated / out of order | sender lag |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run, (lost, wrong) in zip(runs, checks, strict=True):
        lat = run["latencies"]
        spread = " | ".join(f"{percentile(lat, p):.1f} ms" for p in (50, 95, 99))
        lines.append(
            f"| {run['rate']:g} | {run['sent']} | {run['received']} | {spread} | {max(lat or [0]):.1f} ms "
            f"| {lost} | {wrong} | {run['lag_s']:.2f} s |"
        )
    ok = [
        run["rate"] for run, check in zip(runs, checks, strict=True)
        if percentile(run["latencies"], 99) < P99_LIMIT_MS and check == (0, 0) and run["received"] == run["sent"]
    ]  # fmt: skip
    lines += ["", f"Highest rate with p99 < {P99_LIMIT_MS} ms and nothing lost: {max(ok) if ok else 'none'} msg/s"]
    return "\n".join(lines)


async def main(args) -> str:
    rates = [args.rate] + [float(r) for r in args.steps.split(",") if r]
    with tempfile.TemporaryDirectory(prefix="bb-bench-") as tmp:
        env = {"CHAT_SENDS_PER_10S": "100000", "WS_MAX": "2000"}
        async with bench_world(Path(tmp), 2 * args.conversations, env) as world:
            pairs, ids = await setup(world, args.conversations)
            gc.collect()  # the client's own full collections (100 ms here) would count as latency
            gc.freeze()
            runs, checks = [], []
            for n, rate in enumerate(rates):
                seconds = args.seconds if n == 0 else args.seconds / 2
                runs.append(await run_rate(pairs, rate, seconds, f"r{n}"))
                checks.append(check_against_database(world.app, pairs, ids))
            for sender, recipient in pairs:
                await sender.close()
                await recipient.close()
    return report(args, runs, checks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--steps", default="750,1000,1500")
    print(asyncio.run(main(parser.parse_args())))
