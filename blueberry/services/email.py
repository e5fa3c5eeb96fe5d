"""Email addresses: setting one, proving it by a signed link, and password reset by email.

Links carry signed, time-limited tokens (itsdangerous, one salt per purpose), so nothing is
stored for them. A verification token names the user and the address it was sent to: once the
address changes, old links stop working. A reset token names the user and a fingerprint of
the current password hash: once the password changes, the link is spent.
"""

import hashlib
import hmac
import re

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blueberry.extensions import db
from blueberry.jobs import enqueue_on_commit
from blueberry.models import User
from blueberry.models.base import utcnow
from blueberry.services import accounts, sessions
from blueberry.services.errors import FieldError
from blueberry.services.passwords import hash_password

VERIFY_SALT = "blueberry.email.verify"
RESET_SALT = "blueberry.password.reset"
MAIL_JOB = "blueberry.jobs.mail.send_mail"
MAX_EMAIL = 254
# One @, something on both sides, a dot in the domain, no spaces: the link proves the rest.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$")

VERIFIED = "verified"
ALREADY_VERIFIED = "already_verified"


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def normalize_email(raw: str | None) -> str:
    """The stored spelling of an address: trimmed and lower-cased."""
    return (raw or "").strip().lower()


def check_email(raw: str, user_id: int | None = None) -> str:
    """The normalized address, or FieldError when it is malformed or another user's."""
    address = normalize_email(raw)
    if not address:
        raise FieldError("email", _l("Enter your email address."))
    if len(address) > MAX_EMAIL or not EMAIL_RE.match(address):
        raise FieldError("email", _l("Enter a valid email address, e.g. mina@example.com."))
    owner = db.session.scalar(select(User.id).where(User.email == address))
    if owner is not None and owner != user_id:
        raise FieldError("email", _l("That email address belongs to another account."))
    return address


def set_email(user: User, raw: str) -> bool:
    """Set `user`'s address and send a link to verify it; False when it is already verified."""
    address = check_email(raw, user.id)
    if address == user.email and user.email_verified:
        return False
    if address != user.email:
        user.email, user.email_verified_at = address, None
    try:
        db.session.flush()
    except IntegrityError as error:  # two accounts claimed it at the same moment
        raise FieldError("email", _l("That email address belongs to another account.")) from error
    send_verification(user)
    return True


def verification_token(user: User) -> str:
    """A signed link token for verifying `user`'s current address."""
    return _serializer(VERIFY_SALT).dumps({"u": user.id, "e": user.email})


def send_verification(user: User) -> None:
    """Mail `user` a link that verifies their address (sent after commit)."""
    if not user.email:
        raise FieldError("email", _l("Add an email address first."))
    if user.email_verified:
        raise FieldError("email", _l("Your email address is already verified."))
    link = url_for("auth.verify_email", token=verification_token(user), _external=True)
    hours = current_app.config["EMAIL_VERIFY_MAX_AGE_S"] // 3600
    subject = _("Confirm your email address for Blueberry")
    body = "\n\n".join(
        [
            _("Hello %(name)s,", name=user.display_name),
            _("please confirm that %(email)s is your address by opening this link:", email=user.email),
            link,
            _("The link works for %(hours)d hours. If you did not ask for this, ignore this mail.", hours=hours),
        ]
    )
    enqueue_on_commit("default", MAIL_JOB, user.email, subject, body + "\n")


def _load(salt: str, token: str, max_age: int) -> dict:
    """The payload of a valid token; FieldError("token") when expired or not ours."""
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise FieldError("token", _l("This link has expired. Ask for a new one.")) from error
    except BadSignature as error:
        raise FieldError("token", _l("This link is not valid. Check that you copied all of it.")) from error
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise FieldError("token", _l("This link is not valid. Check that you copied all of it."))
    return data


def verify_email(token: str, viewer: User | None) -> str:
    """Mark the address a link was sent to as verified; VERIFIED or ALREADY_VERIFIED, else FieldError."""
    data = _load(VERIFY_SALT, token, current_app.config["EMAIL_VERIFY_MAX_AGE_S"])
    if viewer is not None and viewer.id != data["u"]:
        raise FieldError("token", _l("This link is for another account. Log out and open it again."))
    user = db.session.get(User, data["u"])
    if user is None or user.email is None or user.email != data.get("e"):
        raise FieldError("token", _l("This link is for an address that is no longer on the account."))
    if user.email_verified:
        return ALREADY_VERIFIED
    user.email_verified_at = utcnow()
    db.session.flush()
    return VERIFIED


def _fingerprint(user: User) -> str:
    """Changes whenever the password does, which spends every reset link issued before."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def reset_token(user: User) -> str:
    """A signed link token for resetting `user`'s password, good until the password changes."""
    return _serializer(RESET_SALT).dumps({"u": user.id, "p": _fingerprint(user)})


def request_password_reset(raw_email: str) -> None:
    """Mail a reset link when the address is an active account's verified one; say nothing either way."""
    address = normalize_email(raw_email)
    if not address:
        return
    user = db.session.scalar(
        select(User).where(User.email == address, User.email_verified_at.is_not(None), User.is_active)
    )
    if user is None:
        return
    link = url_for("auth.reset_password", token=reset_token(user), _external=True)
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE_S"] // 60
    subject = _("Reset your Blueberry password")
    body = "\n\n".join(
        [
            _("Hello %(name)s,", name=user.display_name),
            _(
                "to choose a new password for your Blueberry account %(username)s, open this link:",
                username=user.username,
            ),
            link,
            _("The link works once, for %(minutes)d minutes.", minutes=minutes),
            _("If you did not ask for this, ignore this mail: your password stays as it is."),
        ]
    )
    enqueue_on_commit("default", MAIL_JOB, user.email, subject, body + "\n")


def check_reset_token(token: str) -> User:
    """The user a reset link is for; FieldError when it expired, was used or is not ours."""
    data = _load(RESET_SALT, token, current_app.config["PASSWORD_RESET_MAX_AGE_S"])
    user = db.session.get(User, data["u"])
    if user is None or not user.is_active:
        raise FieldError("token", _l("This link is not valid. Check that you copied all of it."))
    if not hmac.compare_digest(str(data.get("p", "")), _fingerprint(user)):
        raise FieldError("token", _l("This link was already used. Ask for a new one if you need it."))
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link and end all of the user's sessions; returns the user."""
    user = check_reset_token(token)
    try:
        accounts.check_password_rules(new_password)
    except FieldError as error:
        raise FieldError("new_password", error.message) from error
    user.password_hash = hash_password(new_password)
    sessions.revoke_other_sessions(user, None)
    db.session.flush()
    return user
