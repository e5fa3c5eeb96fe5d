"""Sign up, log in with username or phone + password, log out (Kakao and Discord: social.py)."""

import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from blueberry.blueprints.auth.forms import LoginForm, SignupForm
from blueberry.errors import handle_http_error, retry_after_header
from blueberry.extensions import db, limiter
from blueberry.forms import apply_field_error, hide_untouched_errors, render_form, run_field_checks
from blueberry.i18n import select_locale
from blueberry.login import AUTH_AT, SESSION_TOKEN, password_attempt
from blueberry.models import User
from blueberry.redirects import safe_next
from blueberry.services import accounts, login_throttle, sessions
from blueberry.services.errors import FieldError

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _region() -> str:
    return current_app.config["PHONE_DEFAULT_REGION"]


def _validating() -> bool:
    return bool(request.args.get("validate"))


def _config_limit(name: str):
    return lambda: current_app.config[name]


def sign_in(user: User) -> None:
    """Start a fresh server-side session for `user` (a new token defeats session fixation)."""
    session.clear()
    token = sessions.start_session(user, request.user_agent.string, request.remote_addr or "")
    db.session.commit()
    session[SESSION_TOKEN] = token
    session[AUTH_AT] = time.time()
    session.permanent = True
    login_user(user)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_config_limit("SIGNUP_LIMIT_PER_IP"), methods=["POST"], exempt_when=_validating)
@limiter.limit(_config_limit("SIGNUP_CHECK_LIMIT_PER_IP"), methods=["POST"], exempt_when=lambda: not _validating())
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignupForm()
    if _validating():
        return _validate_signup(form)
    if not form.validate_on_submit():
        return render_form("auth/signup.html", "auth/_signup_form.html", form)
    try:
        user = accounts.create_user(_signup_data(form), _region())
    except FieldError as error:
        db.session.rollback()
        apply_field_error(form, error)
        return render_form("auth/signup.html", "auth/_signup_form.html", form)
    sign_in(user)
    flash(_("Welcome to Blueberry, %(name)s!", name=user.display_name), "success")
    return redirect(url_for("settings.matching"), 303)


def _signup_data(form: SignupForm) -> accounts.SignupData:
    return accounts.SignupData(
        username=form.username.data,
        password=form.password.data,
        age=form.age.data,
        gender=form.gender.data,
        phone=form.phone.data or "",
        display_name=form.display_name.data or "",
        language=select_locale(),
    )


def _validate_signup(form: SignupForm):
    """Inline validation while typing: check without saving or hashing anything."""
    form.validate_on_submit()
    run_field_checks(form, {"username": accounts.check_username, "phone": lambda v: accounts.check_phone(v, _region())})
    hide_untouched_errors(form)
    return render_form("auth/signup.html", "auth/_signup_form.html", form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.values.get("next"), url_for("main.home"))
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_form("auth/login.html", "auth/login.html", form)
    # Username and phone of one account share its budget; unknown names get one of their own.
    attempt = password_attempt(accounts.login_throttle_key(form.login.data, _region()))
    user = accounts.authenticate(form.login.data, form.password.data, _region())
    if user is None:
        # One answer for an unknown account and a wrong password.
        form.form_errors.append(_("Wrong username, phone number or password."))
        return render_template("auth/login.html", form=form), 401
    login_throttle.give_back(attempt)
    sign_in(user)
    return redirect(target, 303)


@bp.post("/logout")
def logout():
    sessions.revoke_session(session.get(SESSION_TOKEN))
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"), 303)


@bp.errorhandler(429)
def too_many_attempts(error):
    """A throttled login re-renders the login form with the reason (Retry-After is set)."""
    if request.endpoint != "auth.login":
        return handle_http_error(error)
    form = LoginForm()
    form.form_errors.append(_("Too many attempts. Please wait a moment and try again."))
    return render_template("auth/login.html", form=form), 429, retry_after_header(error)


from blueberry.blueprints.auth import email as _email_routes  # noqa: E402,F401 (its routes)
from blueberry.blueprints.auth import social as _social_routes  # noqa: E402,F401 (its routes)
