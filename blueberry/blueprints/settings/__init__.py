"""The signed-in user's settings: profile, match preferences, password; language for everyone."""

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required

from blueberry import oauth
from blueberry.blueprints.settings.forms import CardForm, MatchSettingForm, PasswordForm, ProfileForm, SetPasswordForm
from blueberry.extensions import db
from blueberry.forms import LanguageForm, apply_field_error, hide_untouched_errors, render_form, run_field_checks
from blueberry.htmx import go
from blueberry.login import SESSION_TOKEN, account_key, password_attempt, recently_authenticated
from blueberry.redirects import safe_next
from blueberry.services import accounts, login_throttle, match_setting, sessions, social
from blueberry.services.errors import FieldError

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _validating() -> bool:
    return bool(request.args.get("validate"))


def _render_checked(page: str, fragment: str, form, **context):
    """Re-render a form with its errors (inline validation hides those of untouched fields)."""
    if _validating():
        hide_untouched_errors(form)
    return render_form(page, fragment, form, **context)


def saved(message: str, endpoint: str):
    """After a save, reload the page with a notice (htmx by HX-Redirect, forms by PRG)."""
    flash(message, "success")
    return go(url_for(endpoint))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    page, fragment = "settings/profile.html", "settings/_profile_form.html"
    region = current_app.config["PHONE_DEFAULT_REGION"]
    if not form.validate_on_submit() or _validating():
        if _validating():
            run_field_checks(form, {"phone": lambda v: accounts.check_phone(v, region, user_id=current_user.id)})
        return _render_checked(page, fragment, form, card_form=CardForm.of(current_user))
    data = accounts.ProfileData(
        display_name=form.display_name.data,
        age=form.age.data,
        gender=form.gender.data,
        phone=form.phone.data or "",
        timezone=form.timezone.data,
        language=form.language.data,
    )
    try:
        accounts.update_profile(current_user, data, region)
    except FieldError as error:
        db.session.rollback()
        apply_field_error(form, error)
        return render_form(page, fragment, form, card_form=CardForm.of(current_user))
    db.session.commit()
    refresh()  # the language may just have changed
    return saved(_("Profile saved."), "settings.profile")


@bp.route("/matching", methods=["GET", "POST"], endpoint="matching")
@login_required
def matching_settings():
    setting = current_user.match_setting
    form = MatchSettingForm(obj=setting)
    page, fragment = "settings/matching.html", "settings/_matching_form.html"
    valid = form.validate_on_submit()
    if valid:
        try:
            match_setting.check_age_range(form.age_min.data, form.age_max.data)
        except FieldError as error:
            apply_field_error(form, error)
            valid = False
    if not valid or _validating():
        return _render_checked(page, fragment, form)
    match_setting.update_match_setting(
        setting, form.age_min.data, form.age_max.data, form.radius_km.data, form.preferred_gender.data
    )
    db.session.commit()
    return saved(_("Match settings saved."), "settings.matching")


@bp.route("/accounts", methods=["GET", "POST"], endpoint="accounts")
@login_required
def accounts_settings():
    """Linked logins, and the password: changed with the current one, or set for the first time."""
    if not current_user.has_password:
        return _set_first_password()
    form = PasswordForm()
    page, fragment = "settings/accounts.html", "settings/_password_form.html"
    if not form.validate_on_submit():
        return render_form(page, fragment, form, **accounts_context())
    attempt = password_attempt(account_key(current_user.id))  # guessing here counts as at login
    try:
        accounts.change_password(current_user, form.current_password.data, form.new_password.data)
    except FieldError as error:
        db.session.rollback()
        if error.field != "current_password":
            login_throttle.give_back(attempt)
        apply_field_error(form, error)
        return render_form(page, fragment, form, **accounts_context())
    login_throttle.give_back(attempt)
    ended = sessions.revoke_other_sessions(current_user, session.get(SESSION_TOKEN))
    db.session.commit()
    return saved(_("Password changed. %(n)d other sessions were signed out.", n=ended), "settings.accounts")


def _set_first_password():
    form = SetPasswordForm()
    page, fragment = "settings/accounts.html", "settings/_password_form.html"
    if not form.validate_on_submit():
        return render_form(page, fragment, form, **accounts_context())
    if not recently_authenticated():
        return redirect(url_for("auth.reauth", next=url_for("settings.accounts")), 303)
    try:
        accounts.set_password(current_user, form.new_password.data)
    except FieldError as error:
        db.session.rollback()
        apply_field_error(form, error)
        return render_form(page, fragment, form, **accounts_context())
    db.session.commit()
    return saved(_("Password set. You can now also log in with your username and password."), "settings.accounts")


def accounts_context() -> dict:
    linked = {account.provider for account in current_user.social_accounts}
    return {
        "social_accounts": current_user.social_accounts,
        "connectable": [p for p in oauth.enabled() if p.name not in linked],
        "labels": {name: provider.label for name, provider in oauth.PROVIDERS.items()},
        "email_form": None,  # the email fragment shows the stored address (settings/email.py posts it)
    }


@bp.post("/accounts/social/<int:account_id>/delete")
@login_required
def disconnect_social(account_id: int):
    try:
        account = social.unlink(current_user, account_id)
    except FieldError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("settings.accounts"), 303)
    db.session.commit()
    label = oauth.PROVIDERS[account.provider].label
    return saved(_("%(provider)s is no longer linked.", provider=label), "settings.accounts")


@bp.post("/language")
def language():
    """Switch the interface language (kept on the account when signed in, else in the session)."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["language"] = form.language.data
        if current_user.is_authenticated:
            accounts.set_language(current_user, form.language.data)
            db.session.commit()
        refresh()
    return redirect(safe_next(request.form.get("next"), url_for("main.home")), 303)


from blueberry.blueprints.settings import card as _card_routes  # noqa: E402,F401 (its routes)
from blueberry.blueprints.settings import email as _email_routes  # noqa: E402,F401 (its routes)
from blueberry.blueprints.settings import privacy as _privacy_routes  # noqa: E402,F401 (its routes)
from blueberry.blueprints.settings import taste as _taste_routes  # noqa: E402,F401 (its routes)
