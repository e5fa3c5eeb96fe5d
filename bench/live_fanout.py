"""Live fan-out benchmark: idle websockets held, and one notification to 1,000 SSE streams.

    .venv/bin/python bench/live_fanout.py [--sockets 5000] [--sse-users 1000] [--hold 30]

Loopback only, bounded in count and time; it starts its own Redis and gunicorn (2 gevent
workers) on free ports, creates its own users and login sessions directly in a fresh SQLite
database (not through the throttled login form) and stops everything when done. Prints a
Markdown table for docs/PERFORMANCE.md.
"""

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout_clients import IdleSocket, SSEWatcher, worker_connections  # noqa: E402
from bench.fanout_setup import bench_world  # noqa: E402

DEADLINE_S = 600


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def open_all(factory, count: int, concurrency: int = 200) -> tuple[list, float]:
    """Open `count` connections, `concurrency` at a time; returns them and the seconds it took."""
    gate = asyncio.Semaphore(concurrency)

    async def one(i):
        async with gate:
            return await factory(i)

    started = time.perf_counter()
    conns = await asyncio.gather(*(one(i) for i in range(count)))
    return conns, time.perf_counter() - started


async def websocket_phase(server, people, count: int, hold_s: float) -> dict:
    pids = server.worker_pids()
    before = sum(rss_kib(pid) for pid in pids)
    sockets, took = await open_all(lambda i: IdleSocket.open(server, people[i]), count)
    await asyncio.sleep(3)
    after = sum(rss_kib(pid) for pid in pids)
    spread = worker_connections(pids, server.port)
    await asyncio.sleep(hold_s)  # longer than the server's 25 s ping: idle peers must stay
    alive = sum(sock.alive for sock in sockets)
    answered = sum(await asyncio.gather(*(sock.ping() for sock in sockets[:: max(1, count // 200)])))
    for sock in sockets:
        sock.close()
    return {
        "sockets": count, "connect_s": took, "rate": count / took, "kib_each": (after - before) / count,
        "alive": alive, "answered": answered, "sampled": len(sockets[:: max(1, count // 200)]), "spread": spread,
    }  # fmt: skip


async def fanout_phase(world, count: int, rounds: int) -> dict:
    server, people = world.server, world.people
    watchers, _ = await open_all(lambda i: SSEWatcher.open(server, people[i]), count)
    topics = [f"bb:user:{person.user_id}" for person in people[:count]]
    for _ in range(100):  # every stream subscribed in its worker's hub
        if all(n >= 1 for _, n in world.redis.pubsub_numsub(*topics)):
            break
        await asyncio.sleep(0.1)
    spread = worker_connections(server.worker_pids(), server.port)
    sender = world.sender([p.user_id for p in people[count : count + 100]])
    results = [await _one_fanout(sender, watchers, [p.user_id for p in people[:count]]) for _ in range(rounds)]
    sender.stdin.close()
    sender.wait(timeout=10)
    for watcher in watchers:
        watcher.close()
    return {"users": count, "spread": spread, "rounds": results}


async def _one_fanout(sender, watchers, ids: list[int]) -> dict:
    """One notification to every watcher; latencies from the start of the send and from the commit."""
    marker = "fanout-" + base64.urlsafe_b64encode(os.urandom(6)).decode()
    for watcher in watchers:
        watcher.expect(marker)
    sender.stdin.write(json.dumps({"ids": ids, "title": marker}) + "\n")
    sender.stdin.flush()
    await asyncio.wait_for(asyncio.gather(*(w.received for w in watchers)), timeout=30)
    started, stored, finished = map(float, sender.stdout.readline().split())
    await asyncio.sleep(1)  # let the machine settle between rounds
    return {
        "store_ms": (stored - started) * 1000, "send_ms": (finished - started) * 1000,
        "latencies": sorted((w.received.result() - started) * 1000 for w in watchers),
        "from_commit": sorted((w.received.result() - stored) * 1000 for w in watchers),
    }  # fmt: skip


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _spread(values: list[float]) -> str:
    return " / ".join(f"{percentile(values, p):.0f}" for p in (50, 95, 99)) + f" / {max(values):.0f} ms"


def report(ws: dict, fan: dict, args) -> str:
    rounds = fan["rounds"]
    p99s = sorted(percentile(r["latencies"], 99) for r in rounds)
    lines = [
        "Command: `.venv/bin/python bench/live_fanout.py "
        f"--sockets {args.sockets} --sse-users {args.sse_users} --hold {args.hold:g} --rounds {args.rounds}`",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| idle websockets opened | {ws['sockets']} (per worker: {ws['spread']}) | ≥ 5,000 |",
        f"| connect rate | {ws['rate']:.0f} /s ({ws['connect_s']:.1f} s for all) | |",
        f"| server memory per idle websocket | {ws['kib_each']:.1f} KiB (RSS of both workers) | ≤ 60 KiB |",
        f"| still open after {args.hold:g} s idle | {ws['alive']} of {ws['sockets']} | all |",
        f"| sampled sockets answering ping | {ws['answered']} of {ws['sampled']} | all |",
        f"| SSE streams (per worker) | {fan['users']} ({fan['spread']}) | both workers |",
        f"| p99 start of send → receive, median of {len(rounds)} rounds (range) | "
        f"{statistics.median(p99s):.0f} ms ({p99s[0]:.0f}–{p99s[-1]:.0f}) | ≤ 150 ms |",
        "",
        "| round | store | store + commit + publish | start of send → receive p50 / p95 / p99 / max "
        "| commit → receive p50 / p95 / p99 / max |",
        "|---|---|---|---|---|",
    ]
    for n, r in enumerate(rounds, 1):
        lines.append(
            f"| {n} | {r['store_ms']:.0f} ms | {r['send_ms']:.0f} ms | {_spread(r['latencies'])} "
            f"| {_spread(r['from_commit'])} |"
        )
    return "\n".join(lines)


async def run(args) -> str:
    with tempfile.TemporaryDirectory(prefix="bb-bench-") as tmp:
        async with bench_world(Path(tmp), max(args.sockets, args.sse_users + 100)) as world:
            ws = await websocket_phase(world.server, world.people, args.sockets, args.hold)
            fan = await fanout_phase(world, args.sse_users, args.rounds)
    return report(ws, fan, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--sse-users", type=int, default=1000)
    parser.add_argument("--hold", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=5, help="fan-outs to measure, one after another")
    args = parser.parse_args()
    limit = raise_fd_limit()
    if limit < 2 * args.sockets + 200:
        sys.exit(f"the open-file limit ({limit}) is too low for {args.sockets} sockets on both ends")
    print(asyncio.run(asyncio.wait_for(run(args), timeout=DEADLINE_S)))


if __name__ == "__main__":
    main()
