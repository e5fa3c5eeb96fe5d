"""Recommendation benchmark: 50 readers click "Get recommendations" at once, through the real
processes, with a local OpenAI-compatible server that takes 1 s to answer.

    .venv/bin/python bench/recommend.py [--readers 50] [--workers 1,4,16] [--model-s 1.0]

For each `worker.py ai N` in --workers: every reader holds an SSE stream (gunicorn, 2 gevent
workers), then all POST /recommendations/runs at the same moment (the click). Click to result
on the page = until the stream says the run is done and the run's fragment (with its picks)
has come back. From SQL: the wait in the queue (queued → started) and the job's own time outside
the model call (started → finished, minus the time waiting for the model). Loopback only,
bounded in count and time; prints Markdown for docs/PERFORMANCE.md.
"""

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bench.chat import percentile  # noqa: E402
from bench.fanout_clients import SSEWatcher as StreamWatcher  # noqa: E402
from bench.fanout_setup import bench_world  # noqa: E402
from bench.live_fanout import open_all  # noqa: E402
from blueberry.extensions import db  # noqa: E402
from blueberry.jobs import book as book_jobs  # noqa: E402
from blueberry.models import AiRun, TasteProfile  # noqa: E402
from blueberry.models.base import utcnow  # noqa: E402
from tests.fakes.openai import API_KEY, FakeOpenAI  # noqa: E402
from tests.recommendations import three_authors  # noqa: E402

WAIT_S = 120
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ANSWERS = {"genres": ["소설/시/희곡", "인문학"], "mood": "warm", "fiction": "both", "origin": "either",
           "pace": "steady", "themes": ["family"], "era": "any", "popularity": "any", "favourites": [],
           "notes": "조용한 저녁에 읽을 책"}  # fmt: skip


def prepare(app, people) -> None:
    """The sample catalog, and every reader done with the quiz and agreeing to the AI."""
    with app.app_context():
        book_jobs.load_sample(if_empty=True)
        now = utcnow()
        rows = [{"user_id": p.user_id, "answers": ANSWERS, "step": 10, "completed_at": now, "ai_consent_at": now,
                 "updated_at": now} for p in people]  # fmt: skip
        db.session.execute(insert(TasteProfile), rows)
        db.session.commit()


def last_run_id(app) -> int:
    """Runs are kept between setups (their ids are never reused, so a stream's old `done`
    cannot pass for a new one); each reader's next run leaves out the books shown before."""
    with app.app_context():
        return db.session.scalar(select(func.max(AiRun.id))) or 0


class SSEWatcher(StreamWatcher):
    """A stream awaiting the first of several markers (this reader's run, whatever its id)."""

    def expect_any(self, markers: list[str]) -> None:
        self.markers = [marker.encode() for marker in markers]
        self.received = asyncio.get_running_loop().create_future()

    async def _read(self) -> None:
        tail = b""
        while chunk := await self.reader.read(65536):
            text = tail + chunk
            waiting = self.received is not None and not self.received.done() and b'"stage":"done"' in text
            if waiting and any(marker in text for marker in self.markers):
                self.received.set_result(time.monotonic())
            tail = chunk[-64:]


class Reader:
    def __init__(self, world, person):
        self.person, self.base = person, world.server.url
        self.client = httpx.AsyncClient(base_url=self.base, timeout=60)
        # On the server's own domain, so the cookie the page sets (with its CSRF secret) replaces it.
        self.client.cookies.set("bb_session", person.cookie, domain="127.0.0.1")
        self.token = ""

    async def ready(self) -> None:
        page = await self.client.get("/recommendations")
        self.token = CSRF.search(page.text).group(1)

    async def click(self, watcher: SSEWatcher, next_run_id: int) -> float:
        """Click, wait for the stream's `done` of this run, fetch the picks: the seconds it took.
        The run's id is not known before the click: any id past the last one is this reader's."""
        watcher.expect_any([f'"run_id":{n},"stage":"done"' for n in range(next_run_id, next_run_id + 1000)])
        started = time.monotonic()
        headers = {"HX-Request": "true", "X-CSRFToken": self.token, "Origin": self.base}
        response = await self.client.post("/recommendations/runs", data={"use_ai": "1"}, headers=headers)
        found = re.search(r'id="recommendation-run-(\d+)"', response.text)
        assert found, (response.status_code, response.text[:300])
        run_id = found.group(1)
        await asyncio.wait_for(watcher.received, WAIT_S)
        picks = await self.client.get(f"/recommendations/runs/{run_id}", headers={"HX-Request": "true"})
        assert picks.text.count('class="pick"') == 3, picks.text[:300]
        return time.monotonic() - started


def from_sql(app, after_id: int) -> dict:
    with app.app_context():
        runs = list(db.session.scalars(select(AiRun).where(AiRun.id > after_id)))
    queued = sorted((r.started_at - r.created_at).total_seconds() * 1000 for r in runs)
    overhead = sorted((r.finished_at - r.started_at).total_seconds() * 1000 - r.model_ms for r in runs)
    return {"runs": len(runs), "ai": sum(r.source == "ai" for r in runs), "queued": queued, "overhead": overhead}


async def one_setup(world, readers, watchers, workers: int, tmp: Path) -> dict:
    after_id = last_run_id(world.app)
    env = {**os.environ, **world.env}
    with open(tmp / f"ai-{workers}.log", "ab") as log:
        process = subprocess.Popen([sys.executable, "worker.py", "ai", str(workers)], cwd=ROOT, env=env,
                                   stdout=log, stderr=log)  # fmt: skip
    try:
        await asyncio.sleep(3 + workers * 0.3)  # every worker has registered
        took = await asyncio.gather(*(r.click(w, after_id + 1) for r, w in zip(readers, watchers, strict=True)))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {"workers": workers, "took": sorted(t * 1000 for t in took), **from_sql(world.app, after_id)}


def row(result: dict) -> str:
    took, queued, overhead = result["took"], result["queued"], result["overhead"]
    return (f"| {result['workers']} | {len(took)} | {result['ai']} / {result['runs']} "
            f"| {percentile(took, 50):.0f} ms | {percentile(took, 99):.0f} ms "
            f"| {percentile(queued, 50):.0f} / {percentile(queued, 99):.0f} ms "
            f"| {percentile(overhead, 50):.0f} / {percentile(overhead, 99):.0f} ms |")  # fmt: skip


async def main(args) -> str:
    model = FakeOpenAI().start()
    model.delay_s, model.default = args.model_s, three_authors
    env = {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": model.base_url, "RECOMMENDATION_RUNS_PER_DAY": "100"}
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="bb-bench-") as tmp:
            async with bench_world(Path(tmp), args.readers, env) as world:
                prepare(world.app, world.people)
                readers = [Reader(world, person) for person in world.people]
                await asyncio.gather(*(reader.ready() for reader in readers))
                watchers, _ = await open_all(lambda i: SSEWatcher.open(world.server, world.people[i]), args.readers)
                for workers in args.workers:
                    results.append(await one_setup(world, readers, watchers, workers, Path(tmp)))
                for watcher in watchers:
                    watcher.close()
    finally:
        model.stop()
    return "\n".join([
        f"Command: `.venv/bin/python bench/recommend.py --readers {args.readers} "
        f"--workers {','.join(map(str, args.workers))} --model-s {args.model_s}`",
        "",
        "| ai worker processes | readers at once | runs the model chose / runs | click to picks on the page p50 "
        "| p99 | in the queue p50 / p99 | job outside the model call p50 / p99 |",
        "|---|---|---|---|---|---|---|",
        *map(row, results),
    ])  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--workers", type=lambda text: [int(n) for n in text.split(",")], default=[1, 4, 16])
    parser.add_argument("--model-s", type=float, default=1.0)
    print(asyncio.run(main(parser.parse_args())))
