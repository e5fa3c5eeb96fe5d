"""Meeting room benchmark: one message → every other member of the room, over websockets held by
both gunicorn workers.

    .venv/bin/python bench/meeting_room.py [--members 50] [--rate 20] [--rooms 100] [--room-size 10]
                                           [--total-rate 200] [--seconds 10]

Two runs, back to back, in one world (its own Redis, SQLite and gunicorn with 2 gevent workers):
1. one live meeting of `--members` people, every one connected, a message every 1/`--rate` s
   from each member in turn: the time from the send until each other member's socket yields
   `message.new` (per delivery), and until the last of them has it (per message);
2. `--rooms` live meetings of `--room-size` people, `--total-rate` messages a second in all.
Rows written per message are counted by SQLite triggers on the tables the send path writes
(message, conversation, conversation_member), added after the rooms are set up. After each
run every socket's messages are checked against the database: nothing lost, nothing twice.
Loopback only, bounded in count and time; prints Markdown for docs/PERFORMANCE.md.
"""

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import websockets  # noqa: E402
from sqlalchemy import bindparam, select, text  # noqa: E402

from bench.chat import conversation_socket, percentile, worker_of  # noqa: E402
from bench.fanout_setup import bench_world  # noqa: E402
from blueberry.extensions import db  # noqa: E402
from blueberry.jobs import book as book_jobs  # noqa: E402
from blueberry.models import Message, User  # noqa: E402
from blueberry.models.base import utcnow  # noqa: E402
from blueberry.services import book as catalog  # noqa: E402
from blueberry.services import meeting as meetings  # noqa: E402

DRAIN_S = 20
TABLES = ("message", "conversation", "conversation_member")


class Window:
    """One member's socket on its room, noting when each message arrives."""

    def __init__(self, ws):
        self.ws, self.arrivals, self.seqs = ws, {}, []
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, server, person, conversation_id) -> "Window":
        return cls(await conversation_socket(server, person, conversation_id))

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                if '"message.new"' in raw[:40]:
                    data = json.loads(raw)["data"]
                    self.arrivals[data["client_id"]] = time.perf_counter()
                    self.seqs.append(data["seq"])
        except websockets.ConnectionClosed:
            return


def open_rooms(app, groups: list[list]) -> list:
    """A live meeting per group of people (the first leads): its conversation id."""
    with app.app_context():
        book_jobs.load_sample(if_empty=True)
        book, ids = catalog.bestsellers(1)[0], []
        for group in groups:
            starts = utcnow() + timedelta(days=1)
            form = meetings.MeetingForm(book=book, title="Bench room", description="", starts_at=starts,
                                        ends_at=starts + timedelta(hours=1), capacity=len(group), online=True,
                                        place="")  # fmt: skip
            meeting = meetings.create(db.session.get(User, group[0].user_id), form)
            for person in group[1:]:
                meetings.join(meeting, db.session.get(User, person.user_id))
            meeting.starts_at, meeting.ends_at = utcnow() - timedelta(minutes=1), utcnow() + timedelta(hours=2)
            ids.append(meeting.conversation_id)
        db.session.commit()
    return ids


def count_writes(app) -> None:
    """Triggers counting the rows each send-path table gets written (reset with `writes`);
    SQLite's syntax, so only there (PostgreSQL: `pg_stat_user_tables` in `writes`)."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        db.session.execute(text("CREATE TABLE IF NOT EXISTS bench_writes (tbl TEXT PRIMARY KEY, n INTEGER)"))
        for table in TABLES:
            db.session.execute(text(f"INSERT OR IGNORE INTO bench_writes VALUES ('{table}', 0)"))
            for op in ("INSERT", "UPDATE"):
                db.session.execute(text(
                    f"CREATE TRIGGER IF NOT EXISTS bench_{table}_{op.lower()} AFTER {op} ON {table} "
                    f"BEGIN UPDATE bench_writes SET n = n + 1 WHERE tbl = '{table}'; END"
                ))  # fmt: skip
        db.session.commit()


def writes(app, reset: bool = False) -> dict:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return _postgres_writes()
        found = dict(db.session.execute(text("SELECT tbl, n FROM bench_writes")).all())
        if reset:
            db.session.execute(text("UPDATE bench_writes SET n = 0"))
            db.session.commit()
    return found


def _postgres_writes() -> dict:
    """Rows inserted and updated so far per table (the statistics lag by up to a second: the
    scenario reads them after its drain, and subtracts the count read before it)."""
    query = text("SELECT relname, n_tup_ins + n_tup_upd FROM pg_stat_user_tables WHERE relname IN :names")
    return dict(db.session.execute(query.bindparams(bindparam("names", expanding=True)), {"names": TABLES}).all())


async def run(rooms: list[list[Window]], rate: float, seconds: float, tag: str) -> dict:
    """Send at `rate` in all, round robin over the rooms and, within each, over its members."""
    count, sent = int(rate * seconds), {}
    turn = Counter()
    start = time.perf_counter()
    for k in range(count):
        if (wait := start + k / rate - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        r = k % len(rooms)
        sender = turn[r] % len(rooms[r])
        turn[r] += 1
        client_id = f"{tag}-{k}"
        sent[client_id] = (time.perf_counter(), r, sender)
        await rooms[r][sender].ws.send(json.dumps({"type": "message.send", "client_id": client_id, "content": "hi"}))
    deadline = time.perf_counter() + DRAIN_S
    expected = sum(len(rooms[r]) - 1 for _, r, _ in sent.values())
    while time.perf_counter() < deadline and _received(rooms, sent)[0] < expected:
        await asyncio.sleep(0.2)
    received, per_delivery, per_message = _received(rooms, sent)
    return {"sent": count, "expected": expected, "received": received, "delivery": sorted(per_delivery),
            "message": sorted(per_message), "lag_s": time.perf_counter() - deadline + DRAIN_S - seconds}  # fmt: skip


def _received(rooms, sent) -> tuple[int, list[float], list[float]]:
    total, per_delivery, per_message = 0, [], []
    for cid, (at, r, sender) in sent.items():
        times = [w.arrivals[cid] for i, w in enumerate(rooms[r]) if i != sender and cid in w.arrivals]
        total += len(times)
        per_delivery += [(t - at) * 1000 for t in times]
        if len(times) == len(rooms[r]) - 1:
            per_message.append((max(times) - at) * 1000)
    return total, per_delivery, per_message


def check(app, rooms: list[list[Window]], ids: list) -> tuple[int, int]:
    """(stored but not received, duplicated or out of order) over every window."""
    lost = wrong = 0
    with app.app_context():
        for windows, cid in zip(rooms, ids, strict=True):
            stored = set(db.session.scalars(select(Message.seq).where(Message.conversation_id == cid)))
            for window in windows:
                lost += len(stored - set(window.seqs))
                wrong += (len(window.seqs) != len(set(window.seqs))) + (window.seqs != sorted(window.seqs))
    return lost, wrong


async def scenario(world, groups, ids, *, rate: float, seconds: float, tag: str) -> dict:
    rooms = [[await Window.open(world.server, p, cid) for p in group] for group, cid in zip(groups, ids, strict=True)]
    await asyncio.sleep(2)  # replay and presence settle
    pids, port = world.server.worker_pids(), world.server.port
    placed = Counter(worker_of(pids, port, w.ws.transport.get_extra_info("sockname")[1]) for w in rooms[0])
    before = writes(world.app, reset=True)
    gc.collect()
    gc.freeze()
    result = await run(rooms, rate, seconds, tag)
    await asyncio.sleep(1)  # PostgreSQL's statistics are sent about once a second
    after = writes(world.app)
    if db_dialect(world.app) != "sqlite":
        after = {t: n - before.get(t, 0) for t, n in after.items()}
    result["writes"], result["check"] = after, check(world.app, rooms, ids)
    result["workers"] = sorted(placed.values(), reverse=True)
    for windows in rooms:
        for window in windows:
            await window.ws.close()
    return result


def db_dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def spread(values: list[float]) -> str:
    return f"{percentile(values, 50):.1f} / {percentile(values, 99):.1f} ms"


def line(name: str, size: int, rooms: int, rate: float, result: dict) -> str:
    d, m = result["delivery"], result["message"]
    per = {t: result["writes"].get(t, 0) / max(result["sent"], 1) for t in TABLES}
    rows = f"{sum(per.values()):.2f} ({', '.join(f'{t} {v:.2f}' for t, v in per.items())})"
    cells = [
        name, f"{rooms} × {size}", f"{rate:g}", str(result["sent"]), f"{result['received']} / {result['expected']}",
        spread(d), spread(m),
        rows, f"{result['check'][0]} / {result['check'][1]}", "+".join(map(str, result["workers"])),
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


async def main(args) -> str:
    with tempfile.TemporaryDirectory(prefix="bb-bench-") as tmp:
        env = {"CHAT_SENDS_PER_10S": "100000", "WS_MAX": "4000"}
        async with bench_world(Path(tmp), args.members + args.rooms * args.room_size, env) as world:
            people = world.people
            big = [people[: args.members]]
            small = [people[args.members + i * args.room_size : args.members + (i + 1) * args.room_size]
                     for i in range(args.rooms)]  # fmt: skip
            big_ids, small_ids = open_rooms(world.app, big), open_rooms(world.app, small)
            count_writes(world.app)
            one = await scenario(world, big, big_ids, rate=args.rate, seconds=args.seconds, tag="big")
            many = await scenario(world, small, small_ids, rate=args.total_rate, seconds=args.seconds, tag="many")
    return "\n".join([
        f"Command: `.venv/bin/python bench/meeting_room.py --members {args.members} --rate {args.rate:g} "
        f"--rooms {args.rooms} --room-size {args.room_size} --total-rate {args.total_rate:g} "
        f"--seconds {args.seconds:g}`",
        "",
        "| run | rooms × members | msg/s | sent | deliveries | per delivery p50 / p99 | to all others p50 / p99 "
        "| rows written per message | lost / duplicated | sockets of room 1 per worker |",
        "|---|---|---|---|---|---|---|---|---|---|",
        line("one big room", args.members, 1, args.rate, one),
        line("many rooms", args.room_size, args.rooms, args.total_rate, many),
    ])  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--room-size", type=int, default=10)
    parser.add_argument("--total-rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    print(asyncio.run(main(parser.parse_args())))
