"""One-click unsubscribe from a kind of meeting email: the link in the mail is the key (signed,
no login). Opening it asks to confirm (mail scanners open links); mail programs post to it
directly (RFC 8058 List-Unsubscribe-Post), so the POST needs no CSRF token: the signature is it."""

from flask import Blueprint, abort, render_template
from flask_babel import gettext as _

from blueberry.extensions import csrf, db
from blueberry.models import User
from blueberry.services import meeting_mail

bp = Blueprint("unsubscribe", __name__)


def _names() -> dict[str, str]:
    return {"meeting_reminders": _("meeting reminders"), "meeting_changes": _("changes to your meetings")}


def _subscriber_or_404(token: str) -> tuple[User, str]:
    found = meeting_mail.read_token(token)
    user = db.session.get(User, found[0]) if found else None
    if user is None:
        abort(404)
    return user, found[1]


@bp.get("/unsubscribe/<token>")
def confirm(token: str):
    user, kind = _subscriber_or_404(token)
    return render_template("unsubscribe.html", token=token, what=_names()[kind], done=getattr(user, kind) != "email")


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str):
    user, kind = _subscriber_or_404(token)
    if getattr(user, kind) == "email":
        setattr(user, kind, "app")  # still in the app, as before they chose email
        db.session.commit()
    return render_template("unsubscribe.html", token=token, what=_names()[kind], done=True)
