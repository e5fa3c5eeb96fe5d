"""Password guesses are limited per (account, address) and per address; an account-wide ceiling
only slows; a right password gives its attempt back, so nobody can lock the owner out."""

import time

import pytest

from tests.conftest import get_csrf


def attempt(client, login_id, password, address="127.0.0.1"):
    """A login from `address` (its own browser, so its own session)."""
    token = get_csrf(client)
    data = {"login": login_id, "password": password, "csrf_token": token}
    return client.post("/auth/login", data=data, environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def owner(make_user):
    return make_user("mina")


def test_guesses_from_elsewhere_do_not_lock_the_owner_out(app, owner):
    guesser = app.test_client()
    assert [attempt(guesser, "mina", "guess", "10.0.0.2").status_code for _ in range(5)] == [401] * 5
    assert attempt(guesser, "mina", "correct-horse", "10.0.0.2").status_code == 429  # that address is out
    assert attempt(app.test_client(), "mina", "correct-horse", "10.0.0.1").status_code == 303


def test_a_right_password_gives_its_attempt_back(app, owner):
    for _ in range(8):  # more than the budget of five: right passwords use none of it
        assert attempt(app.test_client(), "mina", "correct-horse").status_code == 303
    client = app.test_client()
    assert [attempt(client, "mina", "guess").status_code for _ in range(4)] == [401] * 4
    assert attempt(app.test_client(), "mina", "correct-horse").status_code == 303
    assert attempt(client, "mina", "guess").status_code == 401  # the fifth wrong one
    assert attempt(client, "mina", "guess").status_code == 429


def test_the_account_wide_ceiling_slows_but_never_refuses(app, owner):
    app.config.update(LOGIN_SLOWDOWN_PER_ACCOUNT="3 per minute", LOGIN_SLOWDOWN_S=0.4)
    guesser = app.test_client()
    for host in range(3):
        assert attempt(guesser, "mina", "guess", f"10.0.1.{host}").status_code == 401
    started = time.monotonic()
    assert attempt(guesser, "mina", "guess", "10.0.1.9").status_code == 401  # not 429
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    assert attempt(app.test_client(), "mina", "correct-horse", "10.0.2.1").status_code == 303
    assert time.monotonic() - started >= 0.4


def test_below_the_ceiling_nobody_waits(app, owner):
    app.config.update(LOGIN_SLOWDOWN_PER_ACCOUNT="3 per minute", LOGIN_SLOWDOWN_S=5)
    started = time.monotonic()
    for host in range(3):
        assert attempt(app.test_client(), "mina", "guess", f"10.0.3.{host}").status_code == 401
    assert time.monotonic() - started < 5


def test_the_address_budget_spans_accounts_and_gives_back_too(app, make_user):
    app.config["LOGIN_LIMIT_PER_IP"] = "3 per minute"
    make_user("jun")
    for _ in range(5):
        assert attempt(app.test_client(), "jun", "correct-horse").status_code == 303
    client = app.test_client()
    assert [attempt(client, f"ghost{n}", "x").status_code for n in range(3)] == [401] * 3
    refused = attempt(client, "ghost9", "x")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_reauth_and_linking_share_the_account_budget(app, client, owner):
    guesser = app.test_client()
    for _ in range(4):
        assert attempt(guesser, "mina", "guess").status_code == 401
    assert attempt(client, "mina", "correct-horse").status_code == 303
    token = get_csrf(client, "/auth/reauth")
    assert client.post("/auth/reauth", data={"password": "guess", "csrf_token": token}).status_code == 200
    refused = client.post("/auth/reauth", data={"password": "correct-horse", "csrf_token": token})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
