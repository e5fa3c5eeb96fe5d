"""Matching benchmark: pairings per second, and join → both offers delivered over the websocket.

    .venv/bin/python bench/matching.py [--seekers 10000] [--processes 4] [--pairs 300]

1. Throughput. `--seekers` people with random ages, ranges and gender preferences are online
   (presence and profile in Redis, not timed). Then `--processes` processes join them all at
   once, each its share, and we count the offers made per second. The same population, in the
   same order, runs twice: through the engine (one Lua script per join, no lock) and through
   the original design with one `global_match_lock` (SET NX EX 10, spin, scan, write, release),
   implemented below as the baseline. The baseline gets the same bounded scan and reads the
   candidates' profiles in one pipelined round trip: it is the lock that costs, not a strawman.
2. Latency. gunicorn (2 gevent workers) on a fresh database; `--pairs` times, one person is
   searching on `/ws/match` and a second joins: we time from the second's `match.join` frame
   until both have received `match.offer`.

Loopback only, bounded in count and time; it starts its own Redis and gunicorn on free ports
and stops them. Prints a Markdown table for docs/PERFORMANCE.md.
"""

import argparse
import asyncio
import json
import multiprocessing
import random
import shutil
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from simple_websocket import Client  # noqa: E402

from bench.fanout_setup import bench_world  # noqa: E402
from blueberry.services.matching import Engine, Limits, Seeker  # noqa: E402
from tests.realtime.clients import WSClient  # noqa: E402
from tests.servers import RedisServer  # noqa: E402

LOCK, QUEUE = "global_match_lock", "match_queue"  # the original design's keys
SCAN = 200


def population(count: int, seed: int = 7) -> list[Seeker]:
    rng = random.Random(seed)
    people = []
    for uid in range(1, count + 1):
        low = rng.randint(18, 45)
        gender, wish = rng.choice(["male", "female"]), rng.choice(["male", "female", "any"])
        people.append(Seeker(uid, f"p{uid}", rng.randint(18, 60), gender, low, rng.randint(low + 5, 80), wish, 50))
    return people


def profile(packed: bytes) -> tuple:
    """The engine's packed profile (struct '>BBBBBBHdd' + name): age, min, max, gender, wish."""
    return struct.unpack_from(">BBBBB", packed)


def fits(me: tuple, them: tuple) -> bool:
    def accepts(a, b):
        return a[1] <= b[0] <= a[2] and a[4] in (0, b[3])

    return accepts(me, them) and accepts(them, me)


def lock_join(client: redis.Redis, uid: int) -> bool:
    """The original design's join: take the global lock, scan the queue, offer or enqueue, release."""
    token = str(uid).encode()
    while not client.set(LOCK, token, nx=True, ex=10):
        time.sleep(0.0005)
    try:
        candidates = [c for c in client.zrange(QUEUE, 0, SCAN - 1) if c != token]
        me, *profiles = (profile(p) for p in client.hmget("bb:match:seekers", [token, *candidates]))
        partner = next((c for c, p in zip(candidates, profiles, strict=True) if fits(me, p)), None)
        pipe = client.pipeline(transaction=False)
        if partner is None:
            pipe.zadd(QUEUE, {token: time.time() * 1000})
        else:
            match_id = f"{partner.decode()}:{uid}"
            offer = {"match_id": match_id, "user1": partner.decode(), "user2": str(uid), "status": "pending"}
            pipe.zrem(QUEUE, partner)
            pipe.set(f"bb:match:offer:{match_id}", json.dumps(offer), ex=300)
            for user in (partner.decode(), str(uid)):
                pipe.set(f"bb:match:user:{user}", match_id, ex=300)
                pipe.publish(f"bb:seeker:{user}", json.dumps({"type": "match.offer", "data": offer}))
            pipe.incr("bb:match:seq")
        pipe.execute()
        return partner is not None
    finally:
        if client.get(LOCK) == token:
            client.delete(LOCK)


def _joiner(url: str, design: str, ids: list[int], start, results) -> None:
    client = redis.Redis.from_url(url, decode_responses=design == "engine")
    engine = Engine(client, Limits(scan=SCAN))
    join = engine.join if design == "engine" else (lambda uid: lock_join(client, uid))
    start.wait()
    began = time.perf_counter()
    for uid in ids:
        join(uid)
    results.put((began, time.perf_counter()))


def throughput(url: str, people: list[Seeker], processes: int, design: str) -> dict:
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    engine = Engine(client, Limits(scan=SCAN, presence_s=3600))
    for person in people:
        engine.connect(person, f"t{person.user_id}", set())
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Event(), ctx.Queue()
    shares = [[p.user_id for p in people[i::processes]] for i in range(processes)]
    workers = [ctx.Process(target=_joiner, args=(url, design, share, start, results)) for share in shares]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    start.set()
    spans = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join(10)
    elapsed = max(end for _, end in spans) - min(began for began, _ in spans)
    pairings = int(client.get("bb:match:seq") or 0)
    return {"design": design, "pairings": pairings, "elapsed": elapsed, "rate": pairings / elapsed,
            "waiting": sum(client.zcard(key) for key in client.scan_iter("*queue*"))}  # fmt: skip


def _open(server, person) -> Client:
    url = server.url.replace("http://", "ws://") + "/ws/match"
    headers = {"Cookie": f"bb_session={person.cookie}", "Origin": server.url}
    ws = WSClient.connect(url, subprotocols=["blueberry.json"], headers=headers)
    _wait_for(ws, "match.idle")
    return ws


def _wait_for(ws: Client, type_: str, timeout: float = 10) -> float:
    while True:
        raw = ws.receive(timeout=timeout)
        if raw is None:
            raise TimeoutError(f"no {type_} within {timeout} s")
        if json.loads(raw)["type"] == type_:
            return time.perf_counter()


def _note_arrival(ws: Client, arrived: dict) -> None:
    arrived["first"] = _wait_for(ws, "match.offer")


def latency(world, pairs: int) -> list[float]:
    people, samples = world.people, []
    for n in range(pairs):
        try:
            first, second = _open(world.server, people[2 * n]), _open(world.server, people[2 * n + 1])
        except TimeoutError as error:
            raise TimeoutError(f"pair {n}: {error}") from error
        first.send('{"type":"match.join"}')
        _wait_for(first, "match.searching")
        arrived: dict = {}
        watcher = threading.Thread(target=_note_arrival, args=(first, arrived))
        watcher.start()
        sent = time.perf_counter()
        second.send('{"type":"match.join"}')
        last = _wait_for(second, "match.offer")
        watcher.join(10)
        samples.append((max(last, arrived["first"]) - sent) * 1000)
        first.close()
        second.close()
    return sorted(samples)


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def report(args, runs: list[dict], samples: list[float]) -> str:
    engine, lock = runs
    spread = " / ".join(f"{percentile(samples, p):.1f}" for p in (50, 95, 99)) + f" / {samples[-1]:.1f} ms"
    return "\n".join([
        f"Command: `.venv/bin/python bench/matching.py --seekers {args.seekers} --processes {args.processes} "
        f"--pairs {args.pairs}`",
        "",
        "| measure | engine (Lua, no lock) | one global lock | target |",
        "|---|---|---|---|",
        f"| pairings made from {args.seekers:,} seekers | {engine['pairings']:,} | {lock['pairings']:,} | |",
        f"| time for all joins ({args.processes} processes) | {engine['elapsed']:.2f} s | {lock['elapsed']:.2f} s | |",
        f"| pairings per second | {engine['rate']:,.0f} | {lock['rate']:,.0f} | ≥ 2,000 |",
        f"| engine ÷ lock | {engine['rate'] / lock['rate']:.1f}× | | ≥ 5× |",
        f"| left waiting (no fit) | {engine['waiting']:,} | {lock['waiting']:,} | |",
        f"| join → both offers delivered over websocket, p50 / p95 / p99 / max ({len(samples)} pairs) "
        f"| {spread} | | p99 ≤ 50 ms |",
    ])  # fmt: skip


async def main(args) -> str:
    people = population(args.seekers)
    with tempfile.TemporaryDirectory(prefix="bb-bench-") as tmp:
        redis_server = RedisServer(Path(tmp) / "redis-throughput", binary=shutil.which("redis-server")).start()
        try:
            # The unix socket, as `make run` uses it (the embedded Redis listens on instance/redis.sock).
            url = f"unix://{redis_server.workdir / 'redis.sock'}"
            runs = [throughput(url, people, args.processes, d) for d in ("engine", "lock")]
        finally:
            redis_server.stop()
        async with bench_world(Path(tmp), 2 * args.pairs) as world:
            samples = await asyncio.to_thread(latency, world, args.pairs)
    return report(args, runs, samples)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seekers", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=300)
    print(asyncio.run(main(parser.parse_args())))
