"""Privacy and safety: who may send me message requests, and the people I blocked; and how
meeting reminders and changes reach me."""

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueberry.blueprints.settings import bp, saved
from blueberry.blueprints.settings.forms import MeetingNoticesForm, PrivacyForm
from blueberry.extensions import db
from blueberry.forms import render_form
from blueberry.services import calendar, safety


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


@bp.route("/notices", methods=["GET", "POST"])
@login_required
def notices():
    form = MeetingNoticesForm(obj=current_user)
    if not form.validate_on_submit():
        return render_form("settings/notices.html", "settings/_notices_form.html", form, feed=_feed_url())
    current_user.meeting_reminders, current_user.meeting_changes = (
        form.meeting_reminders.data,
        form.meeting_changes.data,
    )
    db.session.commit()
    return saved(_("Notification settings saved."), "settings.notices")


def _feed_url() -> str | None:
    token = current_user.calendar_token
    return url_for("meeting.feed", token=token, _external=True) if token else None


@bp.post("/calendar")
@login_required
def calendar_feed():
    """Make a (new) secret calendar link, or turn it off; either way the old link stops working."""
    if request.form.get("action") == "off":
        current_user.calendar_token = None
        message = _("Your calendar link is turned off.")
    else:
        calendar.new_feed_token(current_user)
        message = _("Your calendar link is ready. Any older link no longer works.")
    db.session.commit()
    return saved(message, "settings.notices")
