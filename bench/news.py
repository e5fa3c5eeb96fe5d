"""News list pages benchmark: category pages at a fixed rate while ingestion adds stories, with
the pages' Redis cache (services/news_cache.py) and with it off.

    .venv/bin/python bench/news.py [--rate 200] [--seconds 60] [--ingest-every 10] [--modes cache,nocache]
        [--stories 300] [--new 3] [--connections 64] [--per-connection 20] [--client raw|httpx]
        [--ingest-in process|thread]
    scripts/with_postgres.sh bash -c 'BENCH_DATABASE_URL=$TEST_POSTGRES_URL .venv/bin/python bench/news.py'

The stories come through the app's own ingestion from local fake publishers (tests/fakes/feeds.py):
3 sources whose sections map to 9 categories, --stories in all, ingested once before the runs
(their first pages written through). Then for each mode, the real app under gunicorn (2 gevent
workers, NEWS_CACHE=1 or 0; both modes on the same database and Redis, the cache's counters reset
before each run, after a 3 s warm-up) takes anonymous `GET /news?category=<slug>` at exactly
--rate requests per second, open loop: each request goes out at its scheduled time whatever the
earlier ones are doing, and its latency counts from that time, so queueing counts. Scopes: "all"
and the 9 categories, weighted toward "all" and the first tabs; one request in five is the next
page (the htmx fragment, `HX-Request: true`, at the `?cursor=` of the last first page of that
scope). Every 200 must hold stories; anything else is an error.

Meanwhile, every --ingest-every seconds, each feed gets --new stories (a feed carries its newest 50)
and `ingest_news()` runs: by default in a worker process of its own, as `worker.py ingest` runs it
(a session of its own, INGEST_NICE nicer than the web);
`--ingest-in thread` runs it in a thread of this process instead, where its ~250 ms of Python
holds the GIL against the client's event loop and that shows as latency. Its commits bump the
versions of the scopes they touched and write their first pages through.

The client is one asyncio event loop with a lean HTTP/1.1 client: about 0.5 ms of CPU a request,
where `--client httpx` takes about 2.7 ms (40 % of a core at 150/s, on a machine of 2 cores that
the server needs, and its p99 was 7 times the lean client's).
A connection carries --per-connection requests (a reader's visit) and then closes, so connections
spread over both workers as many readers' would.

After each run: latency p50 / p95 / p99 / max (also of first and next pages, and of the requests
sent within 1 s of an ingestion run's start against the rest), the achieved rate, errors, the CPU
each process used (a share of one core; "other processes" shows anything else running on the
machine, which a run should not have), and from Redis (`bb:news:stats`) hits, misses, fills,
waits, give-ups and write-throughs. Hit rate = reads answered from Redis (hits, and misses that
waited for another request's fill) / all reads (hits + misses). Fills per version bump = fills /
write-throughs (one write-through is one scope's new version). Then the stampede check (cache
on): each scope in turn gets a new version with nothing written, and 50 requests for its first
page go out at once, each on a connection of its own: one of them should fill it (the `fills`
counter moves by 1), the others wait for it.

Targets (the cache on): hit rate ≥ 95 %, p99 ≤ 20 ms. Loopback only, bounded in count and time
(about 2.5 minutes with the defaults), its own Redis, database (SQLite unless BENCH_DATABASE_URL)
and gunicorn, stopped at the end. Prints Markdown for docs/PERFORMANCE.md; progress goes to stderr
(BENCH_DEBUG=1: latency second by second, and every 100 ms around each ingestion run with the CPU).
"""

import argparse
import asyncio
import collections
import functools
import gc
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.chat import percentile  # noqa: E402
from bench.fanout_setup import bench_world  # noqa: E402
from blueberry import create_app  # noqa: E402
from blueberry.extensions import db  # noqa: E402
from blueberry.jobs.news import ingest_news  # noqa: E402
from blueberry.models.base import utcnow  # noqa: E402
from blueberry.services.news_cache import STATS_KEY  # noqa: E402
from tests.fakes.feeds import FakeFeeds, rss  # noqa: E402
from tests.news import source, story  # noqa: E402
from tests.servers import LiveServer  # noqa: E402
from worker import lower_priority  # noqa: E402

# name, language, the source's own category, its sections → our categories
SOURCES = [
    ("Daily World", "en", "world", {"Business": "business", "Technology": "technology"}),
    ("Culture Desk", "en", "culture", {"Books": "books", "Science": "science"}),
    ("Seoul Wire", "ko", "society", {"Politics": "politics", "Sports": "sports"}),
]
# How often readers ask for each scope (the front page most, then the first tabs).
WEIGHTS = {"all": 30, "world": 12, "business": 10, "technology": 9, "society": 8, "politics": 8, "culture": 7,
           "science": 6, "books": 5, "sports": 5}  # fmt: skip
NEXT_PAGE_SHARE = 0.2
FEED_ITEMS = 50  # after the seed, a feed carries its newest stories only, as publishers' do
WARM_UP_S = 3
STAMPEDE = 50
CURSOR = re.compile(rb"cursor=(\d+-\d+)")
CARD = b'class="news-card"'
KEEPALIVE_S = 1.5  # gunicorn closes an idle connection after 2 s
REQUEST_TIMEOUT_S = 10


class Feeds:
    """The fake publishers' feeds, and the stories in them (each story a number of its own)."""

    def __init__(self, fake: FakeFeeds, per_source: int):
        self.fake, self.next_n = fake, 1
        self.items: list[list[dict]] = [[] for _ in SOURCES]
        now = utcnow()
        for i in reversed(range(per_source)):  # oldest first: a feed lists its newest first
            for s in range(len(SOURCES)):
                self._add(s, now - timedelta(minutes=2 * (i * len(SOURCES) + s) + 5))
        self._publish(per_source)

    def _add(self, s: int, date) -> None:
        """A story in source `s`: its own category, then each mapped section in turn."""
        sections = [None, *SOURCES[s][3]]
        section = sections[len(self.items[s]) % len(sections)]
        self.items[s].insert(0, story(self.next_n, date=date, category=section))
        self.next_n += 1

    def _publish(self, items: int = FEED_ITEMS) -> None:
        for s, (name, language, _, _) in enumerate(SOURCES):
            self.fake.put(f"/feed-{s}.xml", rss(self.items[s][:items], title=name, language=language))

    def add(self, per_source: int) -> None:
        """New stories at the top of every feed, published now."""
        now = utcnow()
        for k in range(per_source):
            for s in range(len(SOURCES)):
                self._add(s, now - timedelta(seconds=per_source - k, microseconds=s))
        self._publish()

    def config(self) -> str:
        return json.dumps([
            source(name, self.fake.url(f"/feed-{s}.xml"), language, category, sections)
            for s, (name, language, category, sections) in enumerate(SOURCES)
        ])  # fmt: skip


def ingest(app) -> dict:
    """One ingestion run in an app context: its time and counts."""
    with app.app_context():
        started = time.perf_counter()
        counts = ingest_news()
        elapsed = (time.perf_counter() - started) * 1000
        db.session.remove()
    return {"ms": elapsed, "new": counts["new"], "failed": counts["failed"]}


def ingest_worker() -> None:
    """`bench/news.py --ingest-worker`: ingestion in a process of its own, as the `ingest` queue's
    worker runs it (configured from the environment): one run for each line on stdin, its result
    printed as JSON, at the priority the worker gives `ingest` jobs (INGEST_NICE). One run
    first, before "ready", warms it up (the feeds have nothing new)."""
    app = create_app()
    lower_priority(app.config["INGEST_NICE"])
    ingest(app)
    print("ready", flush=True)
    for _ in sys.stdin:
        print(json.dumps(ingest(app)), flush=True)


class IngestProcess:
    """The started, warmed-up ingestion worker of one mode."""

    def __init__(self, env: dict):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--ingest-worker"], env={**os.environ, **env},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            start_new_session=True,  # as `make run` starts `worker.py ingest`
        )  # fmt: skip
        while (line := self.process.stdout.readline()) and line.strip() != "ready":
            pass
        assert line, "the ingestion worker did not start"

    def __call__(self) -> dict:
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        while (line := self.process.stdout.readline()) and not line.startswith("{"):
            pass
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


class Client:
    """A lean HTTP/1.1 client on asyncio streams: keep-alive connections (at most `limit`, used in
    turn, each for `per_connection` requests at most, a reader's visit: new connections are
    accepted by whichever gunicorn worker is free, so the load spreads over both as browsers'
    does, where a few connections held for the whole run would pin it), one cookie jar as a
    browser has, Content-Length bodies (what gunicorn sends here)."""

    def __init__(self, url: str, limit: int, per_connection: int = 20):
        self.host, _, port = url.removeprefix("http://").partition(":")
        self.port, self.per_connection = int(port), per_connection
        self.slots = asyncio.Semaphore(limit)
        self.idle: collections.deque = collections.deque()  # (reader, writer, idle since, requests)
        self.cookie = b""
        self.preamble = f"HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n".encode()

    async def get(self, target: str, headers: dict | None = None) -> tuple[int, bytes]:
        request = b"GET " + target.encode() + b" " + self.preamble + self.cookie
        request += b"".join(f"{k}: {v}\r\n".encode() for k, v in (headers or {}).items()) + b"\r\n"
        async with self.slots:
            for attempt in (1, 2):
                reader, writer, uses = await self._connection()
                try:
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                except (ConnectionError, asyncio.IncompleteReadError):
                    writer.close()
                    if uses and attempt == 1:  # the server closed it while idle: again on a new one,
                        continue  # as browsers do for a GET
                    raise
                except BaseException:
                    writer.close()
                    raise
                try:
                    status, length, keep = self._head(head)
                    body = await reader.readexactly(length)
                except BaseException:
                    writer.close()
                    raise
                if keep and uses + 1 < self.per_connection:
                    self.idle.append((reader, writer, time.monotonic(), uses + 1))
                else:
                    writer.close()
                return status, body
        raise AssertionError("unreachable")

    async def _connection(self):
        """The longest idle connection still fresh (gunicorn closes them after 2 s), else a new one."""
        while self.idle:
            reader, writer, since, uses = self.idle.popleft()
            if time.monotonic() - since < KEEPALIVE_S and not reader.at_eof():
                return reader, writer, uses
            writer.close()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return reader, writer, 0

    def _head(self, head: bytes) -> tuple[int, int, bool]:
        lines = head.split(b"\r\n")
        status, length, keep = int(lines[0][9:12]), 0, True
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.lower() == b"close":
                keep = False
            elif name == b"transfer-encoding":
                raise ValueError("chunked responses are not read by this client")
            elif name == b"set-cookie":
                self.cookie = b"Cookie: " + value.split(b";", 1)[0] + b"\r\n"
        return status, length, keep

    async def close(self) -> None:
        while self.idle:
            self.idle.popleft()[1].close()


class HttpxClient:
    """The same requests through httpx (to compare the client's own cost)."""

    def __init__(self, url: str, limit: int, per_connection: int = 0):  # httpx keeps its connections
        limits = httpx.Limits(max_connections=limit, max_keepalive_connections=limit, keepalive_expiry=KEEPALIVE_S)
        self.client = httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits)

    async def get(self, target: str, headers: dict | None = None) -> tuple[int, bytes]:
        response = await self.client.get(target, headers=headers)
        return response.status_code, response.content

    async def close(self) -> None:
        await self.client.aclose()


def client_for(kind: str, server: LiveServer, connections: int, per_connection: int):
    return (Client if kind == "raw" else HttpxClient)(server.url, connections, per_connection)


def news_url(scope: str, cursor: str | None = None) -> str:
    params = {} if scope == "all" else {"category": scope}
    if cursor:
        params["cursor"] = cursor
    return "/news" + (f"?{urlencode(params)}" if params else "")


class Readers:
    """Anonymous readers: one request per scheduled moment, all on one asyncio client."""

    def __init__(self, client, rng: random.Random):
        self.client, self.rng = client, rng
        self.scopes, self.weights = list(WEIGHTS), list(WEIGHTS.values())
        self.cursors: dict[str, str] = {}  # scope → the next page's cursor on its last first page
        # (scheduled at, kind, latency s, outcome, how late the client itself sent it s)
        self.results: list[tuple[float, str, float, str, float]] = []

    def plan(self, count: int) -> list[tuple[str, bool]]:
        scopes = self.rng.choices(self.scopes, self.weights, k=count)
        return [(scope, self.rng.random() < NEXT_PAGE_SHARE) for scope in scopes]

    async def one(self, at: float, scope: str, next_page: bool) -> None:
        late = time.perf_counter() - at
        cursor = self.cursors.get(scope) if next_page else None
        headers = {"HX-Request": "true"} if cursor else None  # the next cards, as htmx asks for them
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                status, body = await self.client.get(news_url(scope, cursor), headers)
            outcome = str(status)
            if status == 200 and CARD not in body:
                outcome = "200, no story"
            if status == 200 and not cursor:
                found = CURSOR.search(body)
                if found:
                    self.cursors[scope] = found.group(1).decode()
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError, httpx.HTTPError) as error:
            outcome = type(error).__name__
        self.results.append((at, "next" if cursor else "first", time.perf_counter() - at, outcome, late))

    async def drive(self, rate: float, seconds: float, start: float) -> None:
        """Requests at exactly `rate` from `start` for `seconds`, each at its moment whatever the
        earlier ones are doing (open loop); returns once all are answered."""
        plan = self.plan(int(rate * seconds))
        tasks = []
        for k, (scope, next_page) in enumerate(plan):
            at = start + k / rate
            if (wait := at - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(self.one(at, scope, next_page)))
        await asyncio.gather(*tasks)


async def ingest_meanwhile(run_ingest, feeds: Feeds, start: float, args) -> list:
    """Every --ingest-every s within the run: --new stories in each feed, then an ingestion run."""
    runs, j = [], 1
    while (at := start + j * args.ingest_every) < start + args.seconds:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        feeds.add(args.new)
        runs.append({"at": at - start, **await asyncio.to_thread(run_ingest)})
        j += 1
    return runs


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_s() -> tuple[float, float]:
    """CPU seconds the whole machine has been busy, all cores together, and stolen by the
    hypervisor (/proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


class CpuMeter:
    """CPU shares (1.0 = one core) over an interval: each server worker, this process, the
    ingestion process, Redis, and everything else on the machine (another job would show there)."""

    def __init__(self, workers: list[int], ingestion: int | None, redis_pid: int, master: int):
        self.groups = {f"worker {n}": [pid] for n, pid in enumerate(workers, 1)}
        self.groups.update(bench=[os.getpid()], ingestion=[ingestion] if ingestion else [], redis=[redis_pid],
                           master=[master])  # fmt: skip
        self.before = self._read()

    def _read(self) -> dict[str, float]:
        values = {name: cpu_s(pids) for name, pids in self.groups.items()}
        values["machine"], values["steal"] = machine_s()
        values["at"] = time.perf_counter()
        return values

    def shares(self) -> dict[str, float]:
        now = self._read()
        wall = now["at"] - self.before["at"]
        shares = {name: (now[name] - self.before[name]) / wall for name in now if name != "at"}
        steal = shares.pop("steal")
        shares["others"] = shares.pop("machine") - sum(shares.values())
        shares["steal"] = steal
        self.before = now
        return shares


SAMPLES: list[tuple[float, dict[str, float]]] = []  # BENCH_DEBUG: (t, CPU shares)


async def sample_cpu(meter: CpuMeter, start: float, every: float = 0.1) -> None:
    SAMPLES.clear()
    meter.shares()
    while True:
        await asyncio.sleep(every)
        SAMPLES.append((time.perf_counter() - start, meter.shares()))


def print_around_ingestion(results, runs, start: float, samples) -> None:
    """BENCH_DEBUG: from just before each ingestion to 2 s after, every 100 ms: the latency of the
    requests sent then, and the CPU of the workers (and of the ingestion process)."""
    for run in runs:
        print(f"  around the ingestion at {run['at']:.1f} s ({run['ms']:.0f} ms):", file=sys.stderr)
        for t, cpu in samples:
            if run["at"] - 0.2 <= t - 0.1 < run["at"] + 2:
                lat = sorted(r[2] * 1000 for r in results if t - 0.1 <= r[0] - start < t)
                print(f"    {t - 0.1:5.1f} s: n={len(lat)} p50={percentile(lat, 50):6.1f} max={max(lat or [0]):6.1f} "
                      f"CPU {' '.join(f'{k} {c:4.0%}' for k, c in cpu.items() if k != 'master')}",
                      file=sys.stderr)  # fmt: skip


def counters(world) -> dict[str, int]:
    return {key: int(value) for key, value in world.redis.hgetall(STATS_KEY).items()}


async def run_mode(world, feeds: Feeds, mode: str, args, rng: random.Random) -> dict:
    server = world.server
    client = client_for(args.client, server, args.connections, args.per_connection)
    if args.ingest_in == "process":
        run_ingest = IngestProcess({**world.env, **server_env(feeds, mode)})
    else:
        run_ingest = functools.partial(ingest, world.app)
    try:
        readers = Readers(client, rng)
        print(f"{mode}: warming up {WARM_UP_S} s", file=sys.stderr)
        await readers.drive(args.rate, WARM_UP_S, time.perf_counter() + 0.05)
        readers.results.clear()
        world.redis.delete(STATS_KEY)
        ingestion = run_ingest.process.pid if args.ingest_in == "process" else None
        redis_pid = int(world.redis.info("server")["process_id"])
        meter = CpuMeter(server.worker_pids(), ingestion, redis_pid, server.process.pid)
        print(f"{mode}: {args.rate:g} requests/s for {args.seconds:g} s", file=sys.stderr)
        start = time.perf_counter() + 0.05
        sampler_meter = CpuMeter(server.worker_pids(), ingestion, redis_pid, server.process.pid)
        sampler = asyncio.create_task(sample_cpu(sampler_meter, start)) if os.environ.get("BENCH_DEBUG") else None
        _, runs = await asyncio.gather(
            readers.drive(args.rate, args.seconds, start),
            ingest_meanwhile(run_ingest, feeds, start, args),
        )
        if sampler:
            sampler.cancel()
        cpu = meter.shares()
    finally:
        await client.close()
        if args.ingest_in == "process":
            run_ingest.close()
    results = readers.results
    if os.environ.get("BENCH_DEBUG"):
        by_second: dict[int, list[float]] = {}
        for at, _, latency, *_ in results:
            by_second.setdefault(int(at - start), []).append(latency * 1000)
        for second, lat in sorted(by_second.items()):
            lat.sort()
            print(f"  t={second}s n={len(lat)} p50={percentile(lat, 50):.1f} p99={percentile(lat, 99):.1f} "
                  f"max={lat[-1]:.1f}", file=sys.stderr)  # fmt: skip
        print(f"  ingestion: {runs}", file=sys.stderr)
        print_around_ingestion(results, runs, start, SAMPLES)
    finished = max(at + latency for at, _, latency, *_ in results) - start
    return {
        "mode": mode, "results": results, "runs": runs, "stats": counters(world), "start": start,
        "achieved": len(results) / finished, "cpu": cpu,
    }  # fmt: skip


async def stampede(world, kind: str, connections: int = STAMPEDE) -> list[dict]:
    """For each scope: a new version with nothing written (as if every page had expired), then
    `connections` requests for its first page at once, each on a connection of its own; what the
    cache's counters moved by."""
    rounds = []
    client = client_for(kind, world.server, connections, 1000)  # no connection closes between rounds
    try:
        await asyncio.gather(*(client.get("/healthz") for _ in range(connections)))  # every connection open
        for scope in WEIGHTS:
            version = world.redis.incr(f"bb:news:vseq:{scope}")
            world.redis.set(f"bb:news:v:{scope}", version)
            before = counters(world)
            replies = await asyncio.gather(
                *(client.get(news_url(scope)) for _ in range(connections)), return_exceptions=True
            )
            after = counters(world)
            moved = {key: after.get(key, 0) - before.get(key, 0) for key in ("fills", "waited", "hits", "gave_up")}
            ok = sum(not isinstance(r, BaseException) and r[0] == 200 and CARD in r[1] for r in replies)
            rounds.append({"scope": scope, "ok": ok, **moved})
    finally:
        await client.close()
    return rounds


def server_env(feeds: Feeds, mode: str) -> dict:
    """The server's environment for one mode."""
    return {"NEWS_CACHE": "1" if mode == "cache" else "0", "NEWS_SOURCES": feeds.config(),
            "NEWS_SOURCES_FILE": "", "NEWS_ALLOW_PRIVATE_ADDRESSES": "1"}  # fmt: skip


def configure_app(app, feeds: Feeds, mode: str) -> None:
    """The bench's own app (its ingestion writes the cache through only when the cache is on)."""
    app.config.update(NEWS_CACHE=mode == "cache", NEWS_SOURCES=feeds.config(), NEWS_SOURCES_FILE="",
                      NEWS_ALLOW_PRIVATE_ADDRESSES=True)  # fmt: skip


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:.1f} ms" if values else "—"


AFTER_INGESTION_S = 1.0  # "during ingestion": requests sent in the second after a run starts


def report(args, kind: str, stories: int, runs: list[dict], rounds: list[dict]) -> str:
    command = (f".venv/bin/python bench/news.py --rate {args.rate:g} --seconds {args.seconds:g} "
               f"--ingest-every {args.ingest_every:g} --modes {','.join(args.modes)} --stories {args.stories} "
               f"--new {args.new} --connections {args.connections} --per-connection {args.per_connection} "
               f"--client {args.client} "
               f"--ingest-in {args.ingest_in}")  # fmt: skip
    lines = [
        f"Command: `{command}` ({kind}, {stories} stories at the start)",
        "",
        "| cache | requests | errors | achieved rate | p50 | p95 | p99 | max | first pages p50 / p99 "
        f"| next pages p50 / p99 | p99 within {AFTER_INGESTION_S:g} s of an ingestion / the rest "
        "| CPU: server workers / bench (client) / ingestion / Redis / other processes / stolen |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        results = run["results"]
        latencies = sorted(r[2] for r in results)
        by_kind = {k: sorted(r[2] for r in results if r[1] == k) for k in ("first", "next")}
        starts = [run["start"] + ingested["at"] for ingested in run["runs"]]
        near = [any(0 <= r[0] - at < AFTER_INGESTION_S for at in starts) for r in results]
        during = sorted(r[2] for r, n in zip(results, near, strict=True) if n)
        rest = sorted(r[2] for r, n in zip(results, near, strict=True) if not n)
        errors = sum(r[3] != "200" for r in results)
        lines.append(
            f"| {'on' if run['mode'] == 'cache' else 'off'} | {len(results)} | {errors} | {run['achieved']:.1f}/s "
            f"| {ms(latencies, 50)} | {ms(latencies, 95)} | {ms(latencies, 99)} | {latencies[-1] * 1000:.1f} ms "
            f"| {ms(by_kind['first'], 50)} / {ms(by_kind['first'], 99)} "
            f"| {ms(by_kind['next'], 50)} / {ms(by_kind['next'], 99)} | {ms(during, 99)} / {ms(rest, 99)} "
            f"| {' + '.join(f'{c:.0%}' for k, c in run['cpu'].items() if k.startswith('worker'))} "
            f"/ {run['cpu']['bench']:.0%} / {run['cpu']['ingestion']:.0%} / {run['cpu']['redis']:.0%} "
            f"/ {run['cpu']['others']:.0%} / {run['cpu']['steal']:.0%} |"
        )
    lines += [
        "",
        "| cache | hits | misses | hit rate | fills (avg fill) | version bumps (write-throughs) | fills per bump "
        "| waited / gave up | ingestion runs | new stories | ingestion time avg / max |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        stats, ingested = run["stats"], run["runs"]
        hits, misses, fills, bumps = (stats.get(k, 0) for k in ("hits", "misses", "fills", "write_through"))
        if run["mode"] == "cache":
            cache = (f"{hits} | {misses} | {hit_rate(stats):.1%} "
                     f"| {fills} ({stats.get('fill_ms', 0) / fills if fills else 0:.1f} ms) | {bumps} "
                     f"| {fills / bumps if bumps else float('nan'):.2f} "
                     f"| {stats.get('waited', 0)} / {stats.get('gave_up', 0)}")  # fmt: skip
        else:
            cache = "— | — | — | — | — | — | —"
        times = [r["ms"] for r in ingested] or [0]
        lines.append(
            f"| {'on' if run['mode'] == 'cache' else 'off'} | {cache} | {len(ingested)} "
            f"| {sum(r['new'] for r in ingested)} | {sum(times) / len(times):.0f} / {max(times):.0f} ms |"
        )
    for run in runs:
        outcomes: dict[str, int] = {}
        for r in run["results"]:
            if r[3] != "200":
                outcomes[r[3]] = outcomes.get(r[3], 0) + 1
        late = sorted(r[4] for r in run["results"])
        lines.append(f"\n{run['mode']}: errors {outcomes or 'none'}; the client sent its requests late by "
                     f"p99 {ms(late, 99)}, max {late[-1] * 1000:.1f} ms (counted in the latencies).")  # fmt: skip
    cached = [run for run in runs if run["mode"] == "cache"]
    if cached:
        rate = hit_rate(cached[0]["stats"])
        p99 = percentile(sorted(r[2] for r in cached[0]["results"]), 99) * 1000
        lines += ["", f"Targets with the cache: hit rate ≥ 95 %: {'met' if rate >= 0.95 else 'missed'} "
                      f"({rate:.1%}); p99 ≤ 20 ms: {'met' if p99 <= 20 else 'missed'} ({p99:.1f} ms)."]  # fmt: skip
    if rounds:
        fills = [r["fills"] for r in rounds]
        lines += [
            "",
            f"Stampede: {STAMPEDE} requests at once for a cold first page, {len(rounds)} scopes in turn: "
            f"fills {', '.join(map(str, fills))} (expected 1 each); waited {sum(r['waited'] for r in rounds)}, "
            f"hits {sum(r['hits'] for r in rounds)}, gave up {sum(r['gave_up'] for r in rounds)}; "
            f"{sum(r['ok'] for r in rounds)} / {STAMPEDE * len(rounds)} answered 200 with stories.",
        ]  # fmt: skip
    return "\n".join(lines)


def hit_rate(stats: dict) -> float:
    """Reads answered from Redis (hits, and misses that waited for another request's fill) / reads."""
    reads = stats.get("hits", 0) + stats.get("misses", 0)
    return (stats.get("hits", 0) + stats.get("waited", 0)) / reads if reads else 0.0


async def main(args) -> str:
    rng = random.Random(20261203)
    fake = FakeFeeds().start()
    runs, rounds = [], []
    try:
        feeds = Feeds(fake, args.stories // len(SOURCES))
        with tempfile.TemporaryDirectory(prefix="bb-bench-") as tmp:
            async with bench_world(Path(tmp), 1, server_env(feeds, args.modes[0])) as world:
                first_server = world.server
                try:
                    started = time.perf_counter()
                    configure_app(world.app, feeds, "cache")  # the seed is written through
                    seeded = await asyncio.to_thread(ingest, world.app)
                    stories = seeded["new"]
                    print(f"seeded {stories} stories in {seeded['ms']:.0f} ms", file=sys.stderr)
                    kind = "PostgreSQL" if world.env["DATABASE_URL"].startswith("postgres") else "SQLite"
                    gc.collect()  # the client's own full collections would count as latency
                    gc.freeze()
                    for n, mode in enumerate(args.modes):
                        configure_app(world.app, feeds, mode)
                        if n:  # the same database and Redis, a server in the next mode
                            world.server.stop()
                            world.server = LiveServer({**world.env, **server_env(feeds, mode)}, workers=2).start()
                        runs.append(await run_mode(world, feeds, mode, args, rng))
                        if mode == "cache":
                            rounds = await stampede(world, args.client)
                    print(f"done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
                finally:
                    if world.server is not first_server:
                        world.server.stop()
    finally:
        fake.stop()
    return report(args, kind, stories, runs, rounds)


def modes(text: str) -> list[str]:
    chosen = [mode.strip() for mode in text.split(",") if mode.strip()]
    if not chosen or set(chosen) - {"cache", "nocache"}:
        raise argparse.ArgumentTypeError("modes: cache, nocache, or both (comma-separated)")
    return chosen


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ingest-every", type=float, default=10)
    parser.add_argument("--modes", type=modes, default=["cache", "nocache"])
    parser.add_argument("--stories", type=int, default=300)
    parser.add_argument("--new", type=int, default=3, help="new stories per source at each ingestion")
    parser.add_argument("--connections", type=int, default=64, help="the client's connection limit")
    parser.add_argument("--per-connection", type=int, default=20, help="requests a connection carries at most")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw", help="raw: the lean asyncio client")
    parser.add_argument("--ingest-in", choices=["process", "thread"], default="process",
                        help="process: a worker process of its own; thread: in this process")  # fmt: skip
    parser.add_argument("--ingest-worker", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.ingest_worker:
        ingest_worker()
    else:
        print(asyncio.run(main(arguments)))
