"""Flask extensions, created unbound, and the app's Redis client.

`get_redis()` gives web code a client with short timeouts, no retries and a circuit breaker:
after one failure every call fails at once for a short cool-down, so a dead Redis makes live
features degrade instead of making every page wait.
"""

import time

import redis
from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sock import Sock
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def client_ip() -> str:
    """The request's address, as the rate limits count it."""
    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
sock = Sock()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_ip)
babel = Babel()


class BreakerRedis(redis.Redis):
    """A Redis client that stops calling a server that just failed, for a cool-down."""

    cooldown = 2.0
    open_until = 0.0

    def execute_command(self, *args, **options):
        if time.monotonic() < self.open_until:
            raise redis.ConnectionError("Redis circuit open after a recent failure")
        try:
            return super().execute_command(*args, **options)
        except (redis.ConnectionError, redis.TimeoutError):
            self.open_until = time.monotonic() + self.cooldown
            raise


def make_redis(
    url: str, socket_timeout: float | None, cooldown: float | None = None, decode: bool = True
) -> redis.Redis:
    """A client for `url`; with a `cooldown` it is a circuit-breaking one for web processes."""
    options = dict(
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout or 5,
        retry=Retry(NoBackoff(), 0),
        decode_responses=decode,
        health_check_interval=30,
    )
    if cooldown is None:
        return redis.Redis.from_url(url, **options)
    client = BreakerRedis.from_url(url, **options)
    client.cooldown = cooldown
    return client


def get_redis(decode: bool = True) -> redis.Redis:
    """The app's shared Redis client (short timeouts, circuit breaker).

    Text responses by default; `decode=False` gives the bytes client that RQ needs.
    """
    name = "bb_redis" if decode else "bb_redis_bytes"
    client = current_app.extensions.get(name)
    if client is None:
        config = current_app.config
        client = make_redis(
            config["REDIS_URL"], config["REDIS_SOCKET_TIMEOUT"], config["REDIS_BREAKER_COOLDOWN"], decode
        )
        current_app.extensions[name] = client
    return client
