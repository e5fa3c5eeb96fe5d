"""Privacy and safety: who may send me message requests, and the people I blocked."""

from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueberry.blueprints.settings import bp, saved
from blueberry.blueprints.settings.forms import PrivacyForm
from blueberry.extensions import db
from blueberry.forms import render_form
from blueberry.services import safety


def _context() -> dict:
    return {"blocked": safety.blocked_people(current_user.id)}


@bp.route("/privacy", methods=["GET", "POST"])
@login_required
def privacy():
    form = PrivacyForm(obj=current_user)
    if not form.validate_on_submit():
        return render_form("settings/privacy.html", "settings/_privacy_form.html", form, **_context())
    current_user.requests_from = form.requests_from.data
    db.session.commit()
    return saved(_("Privacy settings saved."), "settings.privacy")


@bp.post("/privacy/blocked/<int:user_id>/unblock")
@login_required
def unblock(user_id: int):
    """Unblock someone: from now on you may meet again. What was hidden meanwhile stays hidden."""
    safety.unblock(current_user.id, user_id)
    db.session.commit()
    return saved(_("Unblocked."), "settings.privacy")
