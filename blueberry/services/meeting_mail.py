"""Meeting mail: reminders and changes by email for people who chose it and are not connected
anywhere (someone online gets the toast, not also a mail), each with a one-click unsubscribe
link for that kind (signed, no login needed; the mail also carries List-Unsubscribe)."""

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from blueberry.jobs import enqueue_on_commit
from blueberry.links import public_url_for
from blueberry.models import User
from blueberry.services.online import online_ids

KINDS = ("meeting_reminders", "meeting_changes")
SALT = "unsubscribe"
MAIL_JOB = "blueberry.jobs.mail.send_mail"


def to_mail(users: list[User], kind: str) -> list[User]:
    """Those of `users` who get `kind` by email now: chose it, have a verified address, and have
    no live connection anywhere."""
    chose = [user for user in users if getattr(user, kind) == "email" and user.email_verified]
    online = online_ids([user.id for user in chose])
    return [user for user in chose if user.id not in online]


def mail(user: User, kind: str, subject: str, lines: list[str]) -> None:
    """Send it after the commit, in the person's language, with the unsubscribe link."""
    unsubscribe = public_url_for("unsubscribe.confirm", token=unsubscribe_token(user.id, kind))
    with force_locale(user.language):
        footer = _("You get this because you chose email for it. Stop these emails: %(link)s", link=unsubscribe)
    body = "\n\n".join([*lines, "--", footer]) + "\n"
    enqueue_on_commit("default", MAIL_JOB, user.email, subject, body, unsubscribe)


def unsubscribe_token(user_id: int, kind: str) -> str:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT).dumps({"u": user_id, "k": kind})


def read_token(token: str) -> tuple[int, str] | None:
    """(user id, kind) of a genuine unsubscribe token, else None."""
    try:
        data = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") not in KINDS or not isinstance(data.get("u"), int):
        return None
    return data["u"], data["k"]
