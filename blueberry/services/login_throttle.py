"""Password guesses: counted before the password is checked, given back when it is right.

Counting first means a burst of parallel guesses cannot slip past; giving back a right password
means only wrong ones use a budget up. Three budgets, in the style of django-axes (lock out the
pair of account and address, not the account):

- per address (`per_ip`): attempts from one address at any accounts; beyond it → refused;
- per account from one address (`per_account_ip`): beyond it → refused; guesses from other
  addresses do not touch the owner's budget, so nobody can lock the owner out;
- per account from everywhere (`slow_account`): a larger ceiling that only slows: beyond it an
  attempt waits before its password is checked, and is never refused.

The counters live in Flask-Limiter's storage (Redis keys `LIMITS:LIMITER/bb:limit/pw-…/<window>`,
beside its own, fixed windows with the window's TTL), or in this process's memory while Redis
is out.
"""

import time
from dataclasses import dataclass, field

import redis
from flask import current_app
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from blueberry.extensions import limiter

OUTAGE_COOLDOWN_S = 2.0
STORAGE_ERRORS = (redis.RedisError, StorageError)


class _Fallback:
    """While the shared storage is out: this app's own counters, and how long to leave it alone."""

    def __init__(self):
        self.limiter = FixedWindowRateLimiter(MemoryStorage())
        self.until = 0.0  # monotonic seconds


@dataclass(frozen=True)
class Budgets:
    """The limits, in Flask-Limiter's notation (`5 per minute;20 per hour`)."""

    per_ip: str
    per_account_ip: str
    slow_account: str


@dataclass
class Attempt:
    """One password attempt's hits (to give back if the password is right) and its verdict."""

    hits: list = field(default_factory=list)
    retry_after: int = 0  # seconds; refused when above zero
    slow: bool = False  # over the account-wide ceiling: wait before checking

    @property
    def refused(self) -> bool:
        return self.retry_after > 0


def begin_attempt(budgets: Budgets, account: str, address: str) -> Attempt:
    """Count an attempt at `account` from `address`; refused attempts are given back at once."""
    fallback = _fallback()
    strategy = fallback.limiter if time.monotonic() < fallback.until else limiter.limiter
    attempt = Attempt()
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]  # beside Flask-Limiter's own counters
    hard = [
        (budgets.per_ip, (prefix, "pw-ip", address)),
        (budgets.per_account_ip, (prefix, "pw-account-ip", account, address)),
    ]
    try:
        for limits, identifiers in hard:
            attempt.retry_after = max(attempt.retry_after, _hit_all(strategy, attempt, limits, identifiers))
        if attempt.refused:
            give_back(attempt)
            return attempt
        attempt.slow = _hit_all(strategy, attempt, budgets.slow_account, (prefix, "pw-account", account)) > 0
    except STORAGE_ERRORS:  # the storage is out: count this one again, in memory
        fallback.until = time.monotonic() + OUTAGE_COOLDOWN_S
        return begin_attempt(budgets, account, address) if strategy is not fallback.limiter else attempt
    return attempt


def give_back(attempt: Attempt) -> None:
    """The password was right (or the attempt was refused): it uses up no budget."""
    try:
        for strategy, item, identifiers in attempt.hits:
            strategy.hit(item, *identifiers, cost=-1)
    except STORAGE_ERRORS:  # a lost give-back only leaves a count to expire
        _fallback().until = time.monotonic() + OUTAGE_COOLDOWN_S
    attempt.hits = []


def _hit_all(strategy: RateLimiter, attempt: Attempt, limits: str, identifiers: tuple) -> int:
    """Hit every window of `limits`; the seconds until the fullest one resets, or 0 if none is over."""
    wait = 0
    for item in parse_many(limits):
        allowed = strategy.hit(item, *identifiers)
        attempt.hits.append((strategy, item, identifiers))
        if not allowed:
            wait = max(wait, _seconds_left(strategy, item, identifiers))
    return wait


def _seconds_left(strategy: RateLimiter, item: RateLimitItem, identifiers: tuple) -> int:
    reset_at = strategy.get_window_stats(item, *identifiers).reset_time
    return max(1, int(reset_at - time.time()) + 1)


def _fallback() -> _Fallback:
    if "bb_login_fallback" not in current_app.extensions:
        current_app.extensions["bb_login_fallback"] = _Fallback()
    return current_app.extensions["bb_login_fallback"]
