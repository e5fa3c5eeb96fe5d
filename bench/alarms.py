"""Reminder benchmark: 5,000 meeting reminders due at one moment, through the real processes.

    .venv/bin/python bench/alarms.py [--meetings 1000] [--size 5] [--lead 30]

1,000 meetings of 5 people all start at the same minute, so 5,000 reminders fall due at once.
Everyone holds an SSE stream (gunicorn, 2 gevent workers); the app's own timed job for that due
time is scheduled on the `alarms` queue, and the real `worker.py alarms` (RQ's scheduler in it
moves the job at its time) and `worker.py schedule` (the 15 s sweep) run as processes. Lateness
per reminder = when its stream shows it − the due time (wall clock, shared by all processes).
Then SQL: one `sent` claim and one notification per person; the streams: each reminder once.
Loopback only, bounded in count and time; prints Markdown for docs/PERFORMANCE.md.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.chat import percentile  # noqa: E402
from bench.fanout_clients import SSEWatcher  # noqa: E402
from bench.fanout_setup import bench_world  # noqa: E402
from bench.live_fanout import open_all  # noqa: E402
from blueberry.extensions import db  # noqa: E402
from blueberry.jobs import book as book_jobs  # noqa: E402
from blueberry.models import Claim, Conversation, Meeting, MeetingParticipant, Notification  # noqa: E402
from blueberry.services import book as catalog  # noqa: E402
from blueberry.services import meeting_reminders  # noqa: E402

WAIT_S = 60


class ReminderWatcher(SSEWatcher):
    """A stream noting (wall clock) when its reminder first shows, and how many times it does."""

    def __init__(self, reader, writer):
        self.seen, self.first = 0, None
        super().__init__(reader, writer)

    async def _read(self) -> None:
        tail = b""
        while chunk := await self.reader.read(65536):
            found = (tail + chunk).count(self.marker) - tail.count(self.marker) if self.marker else 0
            if found and self.first is None:
                self.first = time.time()
            self.seen += found
            tail = chunk[-64:]


def open_meetings(app, people, size: int, starts_at: datetime) -> None:
    """The meetings, rows written directly (the reminder reads only these): person i goes to
    meeting i // size, since well before its reminder time."""
    with app.app_context():
        book_jobs.load_sample(if_empty=True)
        book_id, count = catalog.bestsellers(1)[0].id, len(people) // size
        long_ago = starts_at - timedelta(days=1)
        conversations = [{"id": uuid.uuid4(), "kind": "meeting", "origin": "meeting", "title": f"bench-{i}-room"}
                         for i in range(count)]  # fmt: skip
        db.session.execute(insert(Conversation), conversations)
        shared = {
            "book_id": book_id,
            "capacity": size,
            "going": size,
            "online": True,
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=1),
            "created_at": long_ago,
            "updated_at": long_ago,
        }
        meetings = [{**shared, "leader_id": people[i * size].user_id, "title": f"bench-{i}-room",
                     "conversation_id": conversations[i]["id"]} for i in range(count)]  # fmt: skip
        ids = list(db.session.scalars(insert(Meeting).returning(Meeting.id), meetings))
        db.session.execute(insert(MeetingParticipant), [
            {"meeting_id": ids[n // size], "user_id": person.user_id, "role": "leader" if n % size == 0 else "member",
             "state": "going", "joined_at": long_ago, "state_at": long_ago}
            for n, person in enumerate(people[: count * size])
        ])  # fmt: skip
        db.session.commit()


def schedule_reminder(app) -> None:
    """What opening a meeting does: the job of its reminder time, after the commit (one for all:
    they share the time)."""
    with app.app_context():
        meeting_reminders.schedule(db.session.scalar(select(Meeting).limit(1)))
        db.session.commit()


def start_processes(world, tmp: Path) -> list[subprocess.Popen]:
    env = {**os.environ, **world.env}
    log = open(tmp / "processes.log", "ab")  # noqa: SIM115 (closed with the temporary folder)
    return [subprocess.Popen([sys.executable, "worker.py", command], cwd=ROOT, env=env, stdout=log, stderr=log)
            for command in ("alarms", "schedule")]  # fmt: skip


def check(app, count: int) -> dict:
    with app.app_context():
        sent = db.session.scalar(select(func.count()).select_from(Claim).where(Claim.outcome == "sent"))
        notes = db.session.execute(
            select(Notification.user_id, func.count()).where(Notification.kind == "meeting.reminder")
            .group_by(Notification.user_id)
        ).all()  # fmt: skip
    return {"claims": sent, "people": len(notes), "twice": sum(1 for _, n in notes if n > 1), "expected": count}


async def main(args) -> str:
    count = args.meetings * args.size
    with tempfile.TemporaryDirectory(prefix="bb-bench-") as tmp:
        async with bench_world(Path(tmp), count, {"WS_MAX": "12000"}) as world:
            watchers, took = await open_all(lambda i: ReminderWatcher.open(world.server, world.people[i]), count)
            for n, watcher in enumerate(watchers):
                watcher.marker = f"bench-{n // args.size}-room".encode()  # plain ASCII: JSON escapes the quotes
            processes = start_processes(world, Path(tmp))
            due = (datetime.now(UTC) + timedelta(seconds=args.lead)).replace(microsecond=0)
            open_meetings(world.app, world.people, args.size, due + meeting_reminders.LEAD)
            schedule_reminder(world.app)
            deadline = time.time() + args.lead + WAIT_S
            while time.time() < deadline and any(w.first is None for w in watchers):
                await asyncio.sleep(0.2)
            await asyncio.sleep(2)  # a duplicate would come now
            lateness = sorted((w.first - due.timestamp()) * 1000 for w in watchers if w.first is not None)
            seen_twice = sum(1 for w in watchers if w.seen > 1)
            sql = check(world.app, count)
            for process in processes:
                process.terminate()
                process.wait(timeout=30)
            for watcher in watchers:
                watcher.close()
    return "\n".join([
        f"Command: `.venv/bin/python bench/alarms.py --meetings {args.meetings} --size {args.size} --lead {args.lead}`",
        "",
        "| reminders due at once | SSE streams (opened in) | received | lateness p50 | p99 | max | twice on a stream "
        "| sent claims / people notified / notified twice (SQL) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {count} | {count} ({took:.1f} s) | {len(lateness)} | {percentile(lateness, 50):.0f} ms "
        f"| {percentile(lateness, 99):.0f} ms | {max(lateness or [0]):.0f} ms | {seen_twice} "
        f"| {sql['claims']} / {sql['people']} / {sql['twice']} |",
    ])  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--size", type=int, default=5)
    parser.add_argument("--lead", type=int, default=30, help="seconds from setup to the due time")
    print(asyncio.run(main(parser.parse_args())))
