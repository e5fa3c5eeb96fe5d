"""Password hashing, always off the event loop (a hash takes tens of milliseconds of CPU)."""

from functools import cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from blueberry.offload import offload


def _method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def hash_password(password: str) -> str:
    """The salted hash of `password`, computed in the threadpool."""
    return offload(generate_password_hash, password, _method())


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check `password`; with no hash (unknown user) spend the same time and answer False."""
    if not password_hash:  # unknown user, or an account without a password
        offload(check_password_hash, _dummy_hash(_method()), password)
        return False
    return offload(check_password_hash, password_hash, password)


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-real-password", method)
