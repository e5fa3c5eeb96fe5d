"""Parallel requests against the real server: no burst of guesses slips past the throttle,
and two sign-ups for one name end in one account and a field error, never a 500."""

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.models import User
from tests.conftest import csrf_from


def _browser(base_url: str, path: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base_url, timeout=10)
    return client, csrf_from(client.get(path).text)


def _parallel(count: int, call):
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def test_a_burst_of_guesses_gets_no_more_than_the_limit(live_server, make_user):
    make_user("mina")
    client, token = _browser(live_server.url, "/auth/login")
    data = {"login": "mina", "password": "wrong-password", "csrf_token": token}
    statuses = _parallel(30, lambda: client.post("/auth/login", data=data).status_code)
    assert statuses.count(401) <= 5, statuses
    assert statuses.count(429) >= 25


def test_simultaneous_signups_for_one_name(app, live_server):
    def attempt():
        client, token = _browser(live_server.url, "/auth/signup")
        data = {"username": "mina", "password": "long-enough-pw", "age": "27", "gender": "female", "csrf_token": token}
        return client.post("/auth/signup", data=data).status_code

    statuses = _parallel(8, attempt)
    assert 500 not in statuses, statuses
    assert statuses.count(303) == 1 and statuses.count(422) == 7, statuses
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
