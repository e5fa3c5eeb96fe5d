"""The benchmark's world: its own Redis, a migrated SQLite database with users and login
sessions made directly (no login form), and gunicorn with two gevent workers."""

import contextlib
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import redis
from flask_migrate import upgrade
from sqlalchemy import insert
from werkzeug.security import generate_password_hash

from blueberry import create_app
from blueberry.config import TestConfig
from blueberry.extensions import db
from blueberry.login import session_cookie
from blueberry.models import MatchSetting, User, UserSession
from blueberry.services.sessions import token_hash
from tests.servers import LiveServer, RedisServer

SECRET = secrets.token_urlsafe(32)


@dataclass
class Person:
    user_id: int
    cookie: str


@dataclass
class World:
    server: LiveServer
    redis: redis.Redis
    people: list[Person]
    app: object

    env: dict

    def sender(self, warm_up_ids: list[int]) -> subprocess.Popen:
        """A started, warmed-up sender process waiting for its order (see fanout_sender.py)."""
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("fanout_sender.py")), *map(str, warm_up_ids)],
            env={**os.environ, **self.env}, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert process.stdout.readline().strip() == "ready"
        return process


def _make_people(app, count: int) -> list[Person]:
    password = generate_password_hash("bench-password", "pbkdf2:sha256:1000")
    person = {"password_hash": password, "age": 30, "gender": "female"}
    users = [{"username": f"bench{i}", "display_name": f"Bench {i}", **person} for i in range(count)]
    ids = list(db.session.scalars(insert(User).returning(User.id), users))
    db.session.execute(insert(MatchSetting), [{"user_id": uid} for uid in ids])
    tokens = [secrets.token_urlsafe(32) for _ in ids]
    db.session.execute(
        insert(UserSession), [{"user_id": u, "token_hash": token_hash(t)} for u, t in zip(ids, tokens, strict=True)]
    )
    db.session.commit()
    return [Person(uid, session_cookie(app, token, uid)) for uid, token in zip(ids, tokens, strict=True)]


@contextlib.asynccontextmanager
async def bench_world(tmp: Path, count: int, extra_env: dict | None = None):
    redis_server = RedisServer(tmp / "redis").start()
    # SQLite by default; BENCH_DATABASE_URL runs a benchmark against PostgreSQL instead.
    database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=database, REDIS_URL=redis_server.url, SECRET_KEY=SECRET)
    config["RQ_DASHBOARD_REDIS_URL"] = redis_server.url
    app = create_app(config)
    with app.app_context():
        upgrade()
        people = _make_people(app, count)
    env = {"DATABASE_URL": database, "REDIS_URL": redis_server.url, "SECRET_KEY": SECRET, **(extra_env or {})}
    server = LiveServer(env, workers=2).start()
    try:
        yield World(server, redis.Redis.from_url(redis_server.url, decode_responses=True), people, app, env)
    finally:
        server.stop()
        redis_server.stop()
