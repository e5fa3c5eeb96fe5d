"""What /healthz reports: the database, Redis, RQ workers and the scheduler's heartbeat.

Liveness by default: the answer is 200 while this web process and its database work, whatever
else is down (pages are built to survive a Redis outage, and one dead worker must not take web
nodes out of a load balancer). Readiness on request: `require` names the parts that must be up
too (`redis`, `workers`, `scheduler`), else 503.
"""

from datetime import UTC, datetime

import redis
from rq import Worker
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from blueberry.extensions import db

SCHEDULER_HEARTBEAT_KEY = "bb:scheduler:heartbeat"
STALE_AFTER_S = 30
PARTS = ("redis", "workers", "scheduler")


def check_database() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except SQLAlchemyError as error:
        db.session.rollback()
        return {"ok": False, "error": type(error).__name__}


def check_redis(client: redis.Redis) -> dict:
    try:
        client.ping()
        return {"ok": True}
    except redis.RedisError as error:
        return {"ok": False, "error": str(error)}


def _age_s(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return round((datetime.now(UTC) - moment).total_seconds(), 1)


def check_workers(rq_client: redis.Redis, stale_after_s: float) -> dict:
    """RQ workers registered in Redis with the age of their last heartbeat (alive: a fresh one)."""
    workers = [
        {
            "name": w.name,
            "state": str(w.get_state()),
            "queues": w.queue_names(),
            "heartbeat_age_s": _age_s(w.last_heartbeat),
        }
        for w in Worker.all(connection=rq_client)
    ]
    alive = [w for w in workers if w["heartbeat_age_s"] is not None and w["heartbeat_age_s"] < stale_after_s]
    return {"ok": bool(alive), "count": len(alive), "workers": workers}


def check_scheduler(client: redis.Redis) -> dict:
    """The scheduler writes its heartbeat every poll; older than 30 s means it is not running."""
    raw = client.get(SCHEDULER_HEARTBEAT_KEY)
    if raw is None:
        return {"ok": False, "last_heartbeat": None}
    age = _age_s(datetime.fromisoformat(raw))
    return {"ok": age is not None and age < STALE_AFTER_S, "last_heartbeat": raw, "heartbeat_age_s": age}


def check_health(
    client: redis.Redis, rq_client: redis.Redis, worker_stale_s: float, require: set[str] = frozenset()
) -> tuple[dict, bool]:
    """The report, and whether the database and every part in `require` are up."""
    report = {"db": check_database(), "redis": check_redis(client)}
    report["workers"] = report["scheduler"] = {"ok": False, "error": "redis down"}
    if report["redis"]["ok"]:
        try:
            report["workers"] = check_workers(rq_client, worker_stale_s)
            report["scheduler"] = check_scheduler(client)
        except redis.RedisError as error:  # Redis went away after the ping
            report["redis"] = {"ok": False, "error": str(error)}
    ok = report["db"]["ok"] and all(report[part]["ok"] for part in require)
    return {"status": "ok" if ok else "down", **report}, ok
