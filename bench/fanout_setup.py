"""The benchmark's world: its own Redis, a migrated SQLite database with users and login
sessions made directly (no login form), and gunicorn with two gevent workers."""

import contextlib
import secrets
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
from blueberry.services import notifications
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

    def send(self, user_ids: list[int], title: str) -> float:
        """The same notification to every user in one transaction; returns the seconds it took."""
        import time

        with self.app.app_context():
            started = time.perf_counter()
            notifications.notify_many(user_ids, title)
            db.session.commit()
            return time.perf_counter() - started


def _make_people(app, count: int) -> list[Person]:
    password = generate_password_hash("bench-password", "pbkdf2:sha256:1000")
    users = [
        {"username": f"bench{i}", "password_hash": password, "display_name": f"Bench {i}", "age": 30, "gender": "female"}
        for i in range(count)
    ]  # fmt: skip
    ids = list(db.session.scalars(insert(User).returning(User.id), users))
    db.session.execute(insert(MatchSetting), [{"user_id": uid} for uid in ids])
    tokens = [secrets.token_urlsafe(32) for _ in ids]
    db.session.execute(insert(UserSession), [{"user_id": u, "token_hash": token_hash(t)} for u, t in zip(ids, tokens)])
    db.session.commit()
    return [Person(uid, session_cookie(app, token, uid)) for uid, token in zip(ids, tokens)]


@contextlib.asynccontextmanager
async def bench_world(tmp: Path, count: int):
    redis_server = RedisServer(tmp / "redis").start()
    database = f"sqlite:///{tmp / 'bench.db'}"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=database, REDIS_URL=redis_server.url, SECRET_KEY=SECRET)
    config["RQ_DASHBOARD_REDIS_URL"] = redis_server.url
    app = create_app(config)
    with app.app_context():
        upgrade()
        people = _make_people(app, count)
    env = {"DATABASE_URL": database, "REDIS_URL": redis_server.url, "SECRET_KEY": SECRET}
    server = LiveServer(env, workers=2).start()
    try:
        yield World(server, redis.Redis.from_url(redis_server.url, decode_responses=True), people, app)
    finally:
        server.stop()
        redis_server.stop()
