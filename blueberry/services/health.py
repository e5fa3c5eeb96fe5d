"""What /healthz reports: the database, Redis, RQ workers and the scheduler's heartbeat."""

from datetime import UTC, datetime

import redis
from rq import Worker
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from blueberry.extensions import db

SCHEDULER_HEARTBEAT_KEY = "bb:scheduler:heartbeat"
STALE_AFTER_S = 30


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


def check_workers(rq_client: redis.Redis) -> dict:
    """RQ workers registered in Redis with the age of their last heartbeat."""
    workers = [
        {
            "name": w.name,
            "state": str(w.get_state()),
            "queues": w.queue_names(),
            "heartbeat_age_s": _age_s(w.last_heartbeat),
        }
        for w in Worker.all(connection=rq_client)
    ]
    alive = [w for w in workers if w["heartbeat_age_s"] is not None and w["heartbeat_age_s"] < 600]
    return {"ok": bool(alive), "count": len(alive), "workers": workers}


def check_scheduler(client: redis.Redis) -> dict:
    """The scheduler writes its heartbeat every poll; older than 30 s means it is not running."""
    raw = client.get(SCHEDULER_HEARTBEAT_KEY)
    if raw is None:
        return {"ok": False, "last_heartbeat": None}
    age = _age_s(datetime.fromisoformat(raw))
    return {"ok": age is not None and age < STALE_AFTER_S, "last_heartbeat": raw, "heartbeat_age_s": age}


def check_health(client: redis.Redis, rq_client: redis.Redis) -> tuple[dict, bool]:
    """The report and whether the app can serve (the database and Redis are up)."""
    report = {"db": check_database(), "redis": check_redis(client)}
    report["workers"] = report["scheduler"] = {"ok": False, "error": "redis down"}
    if report["redis"]["ok"]:
        try:
            report["workers"] = check_workers(rq_client)
            report["scheduler"] = check_scheduler(client)
        except redis.RedisError as error:  # Redis went away after the ping
            report["redis"] = {"ok": False, "error": str(error)}
    serving = report["db"]["ok"] and report["redis"]["ok"]
    return {"status": "ok" if serving else "down", **report}, serving
