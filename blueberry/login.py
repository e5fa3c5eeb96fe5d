"""Flask-Login wiring: a cookie logs a user in only while its server-side session is live."""

import time

from flask import Flask, current_app, jsonify, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import TooManyRequests

from blueberry.extensions import db, login_manager
from blueberry.htmx import is_htmx
from blueberry.services import login_throttle
from blueberry.services.sessions import find_session, touch_session

SESSION_TOKEN = "sid"
# When this browser last proved who it is (login, or re-authentication): recent-login checks.
AUTH_AT = "auth_at"


def recently_authenticated() -> bool:
    """Logged in, or re-authenticated, within RECENT_LOGIN_S (connecting a login, a first password)."""
    return time.time() - session.get(AUTH_AT, 0) < current_app.config["RECENT_LOGIN_S"]


def account_key(user_id: int) -> str:
    """The throttle name of an account, whichever route or spelling reaches it."""
    return f"user:{user_id}"


def password_attempt(account: str) -> login_throttle.Attempt:
    """Count a password attempt at `account` from this address, on whichever route it is made.

    Over a budget → 429 with Retry-After. Over the account-wide ceiling the attempt waits first
    (a cooperative sleep under gevent) and then goes on: guessers elsewhere slow down, the owner
    still gets in. Give the attempt back (`login_throttle.give_back`) when the password is right.
    """
    config = current_app.config
    budgets = login_throttle.Budgets(
        config["LOGIN_LIMIT_PER_IP"], config["LOGIN_LIMIT_PER_ACCOUNT_IP"], config["LOGIN_SLOWDOWN_PER_ACCOUNT"]
    )
    attempt = login_throttle.begin_attempt(budgets, account, request.remote_addr or "unknown")
    if attempt.refused:
        raise TooManyRequests(retry_after=attempt.retry_after)
    if attempt.slow:
        time.sleep(config["LOGIN_SLOWDOWN_S"])
    return attempt


def load_user(user_id: str):
    row = find_session(session.get(SESSION_TOKEN), current_app.permanent_session_lifetime)
    if row is None or str(row.user_id) != user_id or not row.user.is_active:
        return None
    if touch_session(row):
        db.session.commit()
    return row.user


def unauthorized():
    """Pages go to the login form; htmx and API callers get a 401 they can act on."""
    login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        return "", 401, {"HX-Redirect": login_url}
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error="login_required"), 401
    return redirect(login_url)


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.login_message = _l("Please log in to see that page.")


def session_cookie(app: Flask, token: str, user_id: int) -> str:
    """The signed session cookie value of a login session (benchmarks and tests open many)."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({SESSION_TOKEN: token, "_user_id": str(user_id), "_fresh": True, "_permanent": True})
