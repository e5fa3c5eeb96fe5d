"""Accounts: sign-up, password login by username or phone, profile and password changes."""

import re
import unicodedata
import zoneinfo
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blueberry.extensions import db
from blueberry.models import MatchSetting, User
from blueberry.services.errors import FieldError
from blueberry.services.passwords import hash_password, verify_password
from blueberry.services.phone import looks_like_phone, normalize_phone

# A username starts with a letter (any script), so it can never be mistaken for a phone number.
USERNAME_RE = re.compile(r"^[^\W\d_][\w.]{2,29}$")
MIN_PASSWORD = 8


@dataclass
class SignupData:
    username: str
    password: str
    age: int
    gender: str
    phone: str = ""
    display_name: str = ""
    language: str = "en"


def canonical_username(raw: str) -> str:
    """One spelling per name: NFKC (fullwidth `ｍｉｎａ` is `mina`, Hangul composed), case-folded."""
    return unicodedata.normalize("NFKC", raw or "").strip().casefold()


def check_username(raw: str) -> str:
    """The canonical username, or FieldError when it is malformed, phone-like or taken."""
    username = canonical_username(raw)
    if looks_like_phone(username) or not USERNAME_RE.match(username):
        raise FieldError("username", _l("3–30 letters, digits, dots or underscores, starting with a letter."))
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise FieldError("username", _l("That username is taken."))
    return username


def check_phone(raw: str, region: str, user_id: int | None = None) -> str | None:
    """The E.164 form of an optional phone number; FieldError when invalid or someone else's."""
    if not (raw or "").strip():
        return None
    phone = normalize_phone(raw, region)
    if phone is None:
        raise FieldError("phone", _l("Enter a valid phone number, e.g. 010-1234-5678."))
    owner = db.session.scalar(select(User.id).where(User.phone == phone))
    if owner is not None and owner != user_id:
        raise FieldError("phone", _l("That phone number belongs to another account."))
    return phone


def check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise FieldError("password", _l("Use at least %(n)d characters.", n=MIN_PASSWORD))


def create_user(data: SignupData, region: str = "KR") -> User:
    """Create a user with default match settings; flushes, the caller commits."""
    username = check_username(data.username)
    phone = check_phone(data.phone, region)
    check_password_rules(data.password)
    user = User(
        username=username,
        password_hash=hash_password(data.password),
        display_name=(data.display_name or "").strip() or username,
        age=data.age,
        gender=data.gender,
        phone=phone,
        language=data.language,
    )
    user.match_setting = MatchSetting()
    db.session.add(user)
    _flush_unique()
    return user


def _flush_unique() -> None:
    """Flush; a unique clash that slipped past the checks (two requests at once) is a FieldError."""
    try:
        db.session.flush()
    except IntegrityError as error:
        if "phone" in str(error.orig):
            raise FieldError("phone", _l("That phone number belongs to another account.")) from error
        raise FieldError("username", _l("That username is taken.")) from error


def find_login_user(login: str, region: str = "KR") -> User | None:
    """The user a login field names: a phone number in any spelling, else a username."""
    login = (login or "").strip()
    if looks_like_phone(login):
        phone = normalize_phone(login, region)
        return db.session.scalar(select(User).where(User.phone == phone)) if phone else None
    return db.session.scalar(select(User).where(User.username == canonical_username(login)))


def login_throttle_key(login: str, region: str = "KR") -> str:
    """The throttle key of the account a login names, whichever way it is spelled."""
    user = find_login_user(login, region)
    if user is not None:
        return f"user:{user.id}"
    phone = looks_like_phone(login) and normalize_phone(login, region)
    return f"name:{phone or canonical_username(login)}"


def authenticate(login: str, password: str, region: str = "KR") -> User | None:
    """The active user whose credentials these are, else None (same cost either way)."""
    user = find_login_user(login, region)
    ok = verify_password(user.password_hash if user else None, password)
    return user if ok and user.is_active else None


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one; FieldError otherwise."""
    if not verify_password(user.password_hash, current):
        raise FieldError("current_password", _l("That is not your current password."))
    check_password_rules(new)
    user.password_hash = hash_password(new)
    db.session.flush()


def set_password(user: User, new: str) -> None:
    """A first password for an account that had none (it signed up through a provider)."""
    check_password_rules(new)
    user.password_hash = hash_password(new)
    db.session.flush()


def valid_timezone(name: str) -> bool:
    return name in zoneinfo.available_timezones()


@dataclass
class ProfileData:
    display_name: str
    age: int
    gender: str
    phone: str
    timezone: str
    language: str


def update_profile(user: User, data: ProfileData, region: str = "KR") -> None:
    """Apply profile changes; FieldError for a phone or time zone that cannot be used."""
    phone = check_phone(data.phone, region, user_id=user.id)
    if not valid_timezone(data.timezone):
        raise FieldError("timezone", _l("Choose a time zone from the list."))
    user.display_name = data.display_name.strip()
    user.age, user.gender, user.phone = data.age, data.gender, phone
    user.timezone, user.language = data.timezone, data.language
    _flush_unique()


def set_language(user: User, language: str) -> None:
    """Remember the interface language on the account."""
    user.language = language
    db.session.flush()
