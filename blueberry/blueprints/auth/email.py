"""Email links: verifying an address, and resetting a forgotten password by email."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from blueberry.blueprints.auth import bp
from blueberry.extensions import db, limiter
from blueberry.forms import NewPasswordForm, apply_field_error, render_form
from blueberry.services import email as email_service
from blueberry.services.errors import FieldError


class ForgotPasswordForm(FlaskForm):
    email = StringField(_l("Email address"), validators=[DataRequired(), Length(max=email_service.MAX_EMAIL)])


def _reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_LIMIT"]


def _address_key() -> str:
    # Also per address: many IPs must not flood one mailbox.
    return "reset:" + email_service.normalize_email(request.form.get("email"))


@bp.get("/email/verify/<token>")
def verify_email(token: str):
    """Open a verification link, logged in or not."""
    viewer = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        outcome = email_service.verify_email(token, viewer)
    except FieldError as error:
        db.session.rollback()
        return render_template("auth/email_verified.html", ok=False, message=error.message), 400
    db.session.commit()
    if outcome == email_service.ALREADY_VERIFIED:
        message = _("Your email address was already verified. Nothing else to do.")
    else:
        message = _("Thank you: your email address is verified.")
    return render_template("auth/email_verified.html", ok=True, message=message)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
@limiter.limit(_reset_limit, key_func=_address_key, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        minutes = current_app.config["PASSWORD_RESET_MAX_AGE_S"] // 60
        return render_form("auth/forgot.html", "auth/forgot.html", form, minutes=minutes)
    email_service.request_password_reset(form.email.data)
    db.session.commit()
    # The same answer whether or not the address is known, so it tells nobody anything.
    flash(_("If that address belongs to a verified account, we sent a link to it."), "info")
    return redirect(url_for("auth.forgot_password"), 303)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        email_service.check_reset_token(token)
    except FieldError as error:
        return render_template("auth/reset.html", form=None, link_error=error.message), 400
    form = NewPasswordForm()
    if not form.validate_on_submit():
        return render_form("auth/reset.html", "auth/reset.html", form, token=token)
    try:
        user = email_service.reset_password(token, form.new_password.data)
    except FieldError as error:
        db.session.rollback()
        apply_field_error(form, error)
        return render_form("auth/reset.html", "auth/reset.html", form, token=token)
    db.session.commit()
    if current_user.is_authenticated and current_user.id == user.id:
        logout_user()  # its session ended with all the others
        session.clear()
    flash(_("Your password was changed and you were logged out everywhere. Log in with the new one."), "success")
    return redirect(url_for("auth.login"), 303)
