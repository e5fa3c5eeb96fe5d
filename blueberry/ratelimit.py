"""Flask-Limiter storage: the app's Redis with short timeouts, memory when Redis is down."""

from flask import Flask


def limiter_storage_uri(redis_url: str) -> str:
    """`limits` spells a Redis unix socket `redis+unix://`."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def configure_limiter(app: Flask) -> None:
    timeout = app.config["REDIS_SOCKET_TIMEOUT"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", limiter_storage_uri(app.config["REDIS_URL"]))
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": timeout, "socket_connect_timeout": timeout})
