"""Sign in with Kakao or Discord; link them to an account; prove a recent login.

`/auth/oauth/<provider>` starts the provider's consent (GET to log in; POST with `action`
`connect` or `reauth` from a signed-in page). The callback checks Authlib's `state` (missing,
wrong or replayed → 400, no session), then:
- a known login signs its user in;
- an unknown one whose verified email or phone belongs to a user waits in the session
  (`oauth_pending`) until that user logs in to link it, or chooses a separate account;
- otherwise the sign-up is finished with what the provider gave (`/auth/oauth/finish`).
"""

import time

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueberry import oauth
from blueberry.blueprints.auth import bp, sign_in
from blueberry.blueprints.auth.forms import PasswordCheckForm, SocialSignupForm
from blueberry.extensions import db
from blueberry.forms import apply_field_error, render_form
from blueberry.i18n import select_locale
from blueberry.login import AUTH_AT, account_key, password_attempt, recently_authenticated
from blueberry.models import User
from blueberry.redirects import safe_next
from blueberry.services import login_throttle, passwords, social
from blueberry.services.errors import FieldError

PENDING = "oauth_pending"
PENDING_MAX_AGE_S = 600


def _provider_or_404(name: str):
    client = oauth.client(name)
    if client is None:
        abort(404)
    return client


@bp.route("/oauth/<provider>", methods=["GET", "POST"])
def oauth_start(provider: str):
    client = _provider_or_404(provider)
    action = request.form.get("action", "login") if request.method == "POST" else "login"
    target = safe_next(request.values.get("next"), url_for("main.home"))
    if action not in ("login", "connect", "reauth"):
        abort(400)
    if action != "login" and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if action == "connect" and not recently_authenticated():
        return redirect(url_for("auth.reauth", next=url_for("settings.accounts")), 303)
    if action == "login" and current_user.is_authenticated:
        return redirect(target)
    session[_intent_key(provider)] = {"provider": provider, "action": action, "next": target}
    return client.authorize_redirect(url_for("auth.oauth_callback", provider=provider, _external=True))


@bp.get("/oauth/<provider>/callback")
def oauth_callback(provider: str):
    client = _provider_or_404(provider)
    intent = session.pop(_intent_key(provider), None)
    if intent is None or intent.get("provider") != provider:
        abort(400)  # no consent was started here: a forged, stale or replayed callback
    label = oauth.PROVIDERS[provider].label
    if request.args.get("error"):
        for key in [k for k in session if k.startswith(f"_state_{provider}_")]:
            session.pop(key)  # Authlib's state for this consent: it will not be used
        return _back(intent, _("You did not let Blueberry use your %(provider)s account.", provider=label))
    try:
        profile = _fetch_profile(client, provider)
    except MismatchingStateError:
        abort(400)
    except (OAuthError, requests.RequestException, ValueError):
        current_app.logger.warning("%s sign-in failed", provider, exc_info=True)
        return _back(
            intent, _("%(provider)s is not answering properly right now. Try again in a moment.", provider=label)
        )
    return ACTIONS[intent["action"]](profile, intent)


def _intent_key(provider: str) -> str:
    """Per provider: a Kakao login started in one tab does not spoil a Discord one in another."""
    return f"oauth_intent_{provider}"


def _fetch_profile(client, provider: str) -> social.ProviderProfile:
    token = client.authorize_access_token()
    answer = client.get(oauth.userinfo_url(provider), token=token)
    answer.raise_for_status()
    data = answer.json()
    if provider == "kakao":
        return social.kakao_profile(data, current_app.config["PHONE_DEFAULT_REGION"])
    return social.discord_profile(data)


def _back(intent: dict, message: str):
    flash(message, "error")
    if intent["action"] == "login":
        return redirect(url_for("auth.login"), 303)
    return redirect(url_for("settings.accounts" if intent["action"] == "connect" else "auth.reauth"), 303)


def _login(profile: social.ProviderProfile, intent: dict):
    account = social.find_account(profile.provider, profile.uid)
    if account is not None and account.user.is_active:
        social.record_login(account, profile)
        _sign_in_keeping_pending(account.user)
        return redirect(intent["next"], 303)
    if account is not None:
        return _back(intent, _("This account is disabled."))
    existing = social.matching_user(profile)
    session[PENDING] = {**profile.as_dict(), "user_id": existing.id if existing else None, "at": time.time()}
    return redirect(url_for("auth.oauth_link" if existing else "auth.oauth_finish"), 303)


def _sign_in_keeping_pending(user: User) -> None:
    """Sign in; a login waiting to be linked to this very user is linked now."""
    pending = _pending()
    sign_in(user)
    if pending and pending.get("user_id") == user.id:
        _link_pending(user, pending)


def _link_pending(user: User, pending: dict) -> None:
    profile = _profile_of(pending)
    social.link(user, profile)
    db.session.commit()
    flash(_("%(provider)s is now linked to your account.", provider=oauth.PROVIDERS[profile.provider].label), "success")


def _connect(profile: social.ProviderProfile, intent: dict):
    if not current_user.is_authenticated or not recently_authenticated():
        abort(400)
    try:
        social.link(current_user, profile)
    except FieldError as error:
        db.session.rollback()
        return _back(intent, str(error.message))
    db.session.commit()
    label = oauth.PROVIDERS[profile.provider].label
    flash(_("%(provider)s is now linked to your account.", provider=label), "success")
    return redirect(url_for("settings.accounts"), 303)


def _reauth(profile: social.ProviderProfile, intent: dict):
    account = social.find_account(profile.provider, profile.uid)
    if not current_user.is_authenticated or account is None or account.user_id != current_user.id:
        return _back(intent, _("That login is not linked to your account."))
    session[AUTH_AT] = time.time()
    return redirect(intent["next"], 303)


ACTIONS = {"login": _login, "connect": _connect, "reauth": _reauth}


def _pending() -> dict | None:
    pending = session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_MAX_AGE_S:
        return None
    return pending


def _profile_of(pending: dict) -> social.ProviderProfile:
    fields = {k: v for k, v in pending.items() if k not in ("user_id", "at")}
    return social.ProviderProfile(**fields)


@bp.route("/oauth/link", methods=["GET", "POST"])
def oauth_link():
    """A provider login whose verified email or phone is an existing user's: log in to link it."""
    pending = _pending()
    user = db.session.get(User, pending["user_id"]) if pending and pending.get("user_id") else None
    if user is None:
        return redirect(url_for("auth.login"))
    form = PasswordCheckForm()
    label = oauth.PROVIDERS[pending["provider"]].label
    others = [a for a in user.social_accounts if oauth.client(a.provider) is not None]
    if not form.validate_on_submit():
        return render_template("auth/oauth_link.html", form=form, user=user, label=label, others=others)
    attempt = password_attempt(account_key(user.id))
    if not passwords.verify_password(user.password_hash, form.password.data):
        form.password.errors.append(_("Wrong password."))
        return render_template("auth/oauth_link.html", form=form, user=user, label=label, others=others), 401
    login_throttle.give_back(attempt)
    _sign_in_keeping_pending(user)
    return redirect(url_for("main.home"), 303)


@bp.route("/oauth/finish", methods=["GET", "POST"])
def oauth_finish():
    """A new account from a provider login: ask for what the provider did not give (age, gender)."""
    pending = _pending()
    if pending is None:
        flash(_("That sign-in took too long. Please start again."), "error")
        return redirect(url_for("auth.login"))
    profile = _profile_of(pending)
    form = SocialSignupForm(data=_suggestions(profile) if request.method == "GET" else None)
    label = oauth.PROVIDERS[profile.provider].label
    page = "auth/oauth_finish.html"
    if not form.validate_on_submit():
        return render_form(page, page, form, label=label)
    data = social.SocialSignup(form.username.data, form.display_name.data or "", form.age.data, form.gender.data,
                               select_locale())  # fmt: skip
    try:
        user = social.create_user(profile, data)
    except FieldError as error:
        db.session.rollback()
        apply_field_error(form, error)
        return render_form(page, page, form, label=label)
    session.pop(PENDING, None)
    sign_in(user)
    flash(_("Welcome to Blueberry, %(name)s!", name=user.display_name), "success")
    return redirect(url_for("settings.matching"), 303)


def _suggestions(profile: social.ProviderProfile) -> dict:
    return {
        "username": social.suggested_username(profile), "display_name": (profile.nickname or "")[:50],
        "age": social.suggested_age(profile), "gender": profile.gender,
    }  # fmt: skip


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
def reauth():
    """Confirm it is you (password, or a linked provider) before a sensitive change."""
    target = safe_next(request.values.get("next"), url_for("settings.accounts"))
    form = PasswordCheckForm(next=target)
    linked = [a for a in current_user.social_accounts if oauth.client(a.provider) is not None]
    if form.validate_on_submit():
        attempt = password_attempt(account_key(current_user.id))
        if passwords.verify_password(current_user.password_hash, form.password.data):
            login_throttle.give_back(attempt)
            session[AUTH_AT] = time.time()
            return redirect(target, 303)
        form.password.errors.append(_("Wrong password."))
    return render_template("auth/reauth.html", form=form, linked=linked, next=target)
