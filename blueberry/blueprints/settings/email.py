"""The signed-in user's email address: set or change it, and send the verification link again."""

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueberry.blueprints.settings import accounts_context, bp, saved
from blueberry.blueprints.settings.forms import EmailForm, PasswordForm, SetPasswordForm
from blueberry.extensions import db, limiter
from blueberry.forms import apply_field_error
from blueberry.htmx import is_htmx
from blueberry.services import email as email_service
from blueberry.services.errors import FieldError

FRAGMENT = "settings/_email_form.html"
SEND_SCOPE = "email-send"


def _send_limit() -> str:
    return current_app.config["EMAIL_SEND_LIMIT"]


def _user_key() -> str:
    return f"email:user:{current_user.id}"


def _render(form: EmailForm):
    """The email fragment for htmx, else the whole accounts page; 422 when there are errors."""
    status = 422 if form.errors or form.form_errors else 200
    if is_htmx():
        return render_template(FRAGMENT, email_form=form), status
    password_form = (PasswordForm if current_user.has_password else SetPasswordForm)(formdata=None)
    context = {**accounts_context(), "form": password_form, "email_form": form}
    return render_template("settings/accounts.html", **context), status


@bp.post("/email", endpoint="email")
@login_required
@limiter.shared_limit(_send_limit, SEND_SCOPE, key_func=_user_key)
def email_settings():
    """Set or change the address; a link to verify it goes out after the commit."""
    form = EmailForm()
    if not form.validate_on_submit():
        return _render(form)
    try:
        sent = email_service.set_email(current_user, form.email.data)
    except FieldError as error:
        db.session.rollback()
        apply_field_error(form, error)
        return _render(form)
    db.session.commit()
    if not sent:
        return saved(_("That is already your verified address."), "settings.accounts")
    return saved(
        _("We sent a link to %(email)s. Open it to confirm the address.", email=current_user.email), "settings.accounts"
    )


@bp.post("/email/resend")
@login_required
@limiter.shared_limit(_send_limit, SEND_SCOPE, key_func=_user_key)
def resend_verification():
    """Send the verification link again (CSRF is checked app-wide)."""
    try:
        email_service.send_verification(current_user)
    except FieldError as error:
        form = EmailForm(formdata=None, email=current_user.email)
        apply_field_error(form, error)
        return _render(form)
    db.session.commit()
    return saved(_("We sent a new link to %(email)s.", email=current_user.email), "settings.accounts")
