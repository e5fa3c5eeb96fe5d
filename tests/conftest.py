"""Fixtures: a real redis-server, a migrated database per test (SQLite, or PostgreSQL with
TEST_DATABASE=postgres: tests/databases.py), the app and its clients."""

import os
import re

import pytest
import redis
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_migrate import upgrade

from blueberry import create_app
from blueberry.config import TestConfig
from blueberry.extensions import db, get_redis
from blueberry.models.base import utcnow
from blueberry.services import accounts
from tests import databases
from tests.fakes.aladin import fake_aladin  # noqa: F401 (fixtures for every test module)
from tests.fakes.feeds import fake_feeds  # noqa: F401
from tests.fakes.oauth import fake_discord, fake_kakao  # noqa: F401
from tests.fakes.openai import fake_openai  # noqa: F401
from tests.servers import LiveServer, RedisServer

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database_store(tmp_path_factory, redis_server):
    """Where each test's database comes from, migrated from empty with the real migrations once."""
    if databases.kind() == "postgres":
        store = databases.PostgresDatabases(_postgres_server(), os.environ.get("PYTEST_XDIST_WORKER", "main"))
    else:
        store = databases.SQLiteFiles(tmp_path_factory.mktemp("db"))
    app = create_app(_config(store.template_url, redis_server.url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield store
    if databases.kind() == "postgres":
        store.close()


def _postgres_server() -> str:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.fail("TEST_POSTGRES_URL is not set: run `make test-postgres` (scripts/with_postgres.sh sets it)")
    return url


def _config(database_url: str, redis_url: str, **extra) -> dict:
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=redis_url, RQ_DASHBOARD_REDIS_URL=redis_url)
    config["RATELIMIT_STORAGE_URI"] = redis_url
    config.update(extra)
    return config


@pytest.fixture
def database_url(database_store, tmp_path):
    """This test's own migrated database (dropped afterwards on PostgreSQL)."""
    url = database_store.fresh(tmp_path)
    yield url
    database_store.drop(url)


@pytest.fixture
def app_config(database_url, redis_server, tmp_path):
    """Overridable settings for the `app` fixture."""
    return _config(database_url, redis_server.url, UPLOAD_DIR=tmp_path / "uploads")


@pytest.fixture
def app(app_config, redis_server):
    redis_client = redis.Redis.from_url(redis_server.url)
    redis_client.flushdb()
    app = create_app(app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    if "bb_hub" in app.extensions:  # its thread would otherwise outlive the test
        app.extensions["bb_hub"].close()


class IsolatedClient(FlaskClient):
    """A test client whose requests get their own app context, as under a real server.

    The `app` fixture keeps a context pushed for the test's own database work; Flask would
    reuse it for requests, sharing `g` (the CSRF token, the logged-in user) between them.
    """

    def open(self, *args, **kwargs):
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)
            db.session.expire_all()  # the test's session must see what requests committed


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def rdb(app):
    return get_redis()


@pytest.fixture
def make_user(app):
    """Factory: a committed user (password `correct-horse` unless given)."""
    counter = iter(range(1, 10_000))

    def make(username=None, password="correct-horse", age=30, gender="female", phone="", **fields):
        data = accounts.SignupData(
            username=username or f"user{next(counter)}", password=password, age=age, gender=gender, phone=phone
        )
        user = accounts.create_user(data)
        for name, value in fields.items():
            setattr(user, name, value)
        db.session.commit()
        return user

    return make


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in page"
    return match.group(1) or match.group(2)


def get_csrf(client, url="/auth/login") -> str:
    return csrf_from(client.get(url).get_data(as_text=True))


def login(client, login_id, password="correct-horse", **extra):
    token = get_csrf(client)
    return client.post("/auth/login", data={"login": login_id, "password": password, "csrf_token": token, **extra})


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, which it may stop and start (outage tests)."""
    server = RedisServer(tmp_path / "own-redis").start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(database_store):
    """An empty PostgreSQL database of this test's own (tests marked `postgres`, `make test-postgres`)."""
    if databases.kind() != "postgres":
        pytest.fail("tests marked postgres need TEST_DATABASE=postgres: run `make test-postgres`")
    url = database_store.fresh(empty=True)
    yield url
    database_store.drop(url)


@pytest.fixture
def pg_app(postgres_url, redis_server):
    """The app on PostgreSQL with an empty schema."""
    redis.Redis.from_url(redis_server.url).flushdb()
    app = create_app(_config(postgres_url, redis_server.url))
    app.test_client_class = IsolatedClient
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pg_migrated(pg_app):
    """The app on a migrated PostgreSQL, with its context pushed (like `app` on SQLite)."""
    with pg_app.app_context():
        upgrade()
        yield pg_app
        db.session.remove()


LIVE_SECRET = "live-test-secret"


@pytest.fixture
def clock(app):
    """The app's clock (blueberry/clock.py), set by the test: `clock.at = …`; it starts now, in
    whole seconds (RQ keeps scheduled times in whole seconds)."""

    class Clock:
        at = utcnow().replace(microsecond=0)

    app.extensions["bb_clock"] = lambda: Clock.at
    yield Clock
    app.extensions.pop("bb_clock", None)


@pytest.fixture
def live_redis(redis_server):
    """The Redis the live server uses (a test may override it with its own server)."""
    return redis_server


@pytest.fixture
def live_env():
    """Extra environment for the live server (a test module may override it)."""
    return {}


def start_live_server(database_url: str, redis_url: str, upload_dir, extra: dict) -> LiveServer:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": LIVE_SECRET,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SSE_KEEPALIVE_S": "1",
        "ICE_SERVERS": "[]",
        "UPLOAD_DIR": str(upload_dir),
        **extra,
    }
    redis.Redis.from_url(redis_url).flushdb()
    return LiveServer(env).start()


@pytest.fixture
def live_server(database_url, live_redis, live_env, tmp_path):
    """The app under gunicorn on a free port, on this test's database and the test Redis."""
    server = start_live_server(database_url, live_redis.url, tmp_path / "uploads", live_env)
    yield server
    server.stop()


@pytest.fixture
def pg_live_server(pg_migrated, postgres_url, redis_server, tmp_path):
    """The app under gunicorn on the migrated PostgreSQL (stopped before the schema is dropped)."""
    server = start_live_server(postgres_url, redis_server.url, tmp_path / "uploads", {})
    yield server
    server.stop()


def provider_config(kakao=None, discord=None) -> dict:
    """Settings that point the app's Kakao and Discord logins at local fake providers."""
    config = {}
    for name, fake in (("KAKAO", kakao), ("DISCORD", discord)):
        if fake is not None:
            config.update({f"{name}_CLIENT_ID": fake.client_id, f"{name}_CLIENT_SECRET": fake.client_secret,
                           f"{name}_AUTHORIZE_URL": fake.authorize_url, f"{name}_TOKEN_URL": fake.token_url,
                           f"{name}_USERINFO_URL": fake.userinfo_url})  # fmt: skip
    return config
