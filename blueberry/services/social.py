"""Social logins (Kakao, Discord): what a provider says about a person, and the account rules.

A known (provider, uid) signs its user in. An unknown one is never merged into an existing
account silently: when the provider's *verified* email or phone belongs to a user, that user
must log in to link it (or choose a separate account); an unverified email links nothing.
"""

import re
from dataclasses import asdict, dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.inputs import has_nul
from blueberry.models import MatchSetting, SocialAccount, User
from blueberry.models.base import utcnow
from blueberry.models.user import MAX_AGE, MIN_AGE
from blueberry.services import accounts
from blueberry.services.errors import FieldError
from blueberry.services.phone import normalize_phone

PROVIDERS = ("kakao", "discord")


@dataclass
class ProviderProfile:
    """One person as a provider described them; anything they did not consent to is None."""

    provider: str
    uid: str
    email: str | None = None
    email_verified: bool = False
    nickname: str | None = None
    age_range: str | None = None  # Kakao's `20~29`
    gender: str | None = None
    phone: str | None = None  # E.164; providers verify the numbers they give

    def as_dict(self) -> dict:
        return asdict(self)


class ProviderAnswerError(ValueError):
    """The provider answered something that is not a user."""


def kakao_profile(data: dict, region: str = "KR") -> ProviderProfile:
    """From `GET /v2/user/me`: `id` is a number, everything else may be missing."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        raise ProviderAnswerError("no Kakao user id")
    _refuse_nul(data)
    account = data.get("kakao_account") or {}
    verified = bool(account.get("is_email_valid") and account.get("is_email_verified"))
    gender = account.get("gender") if account.get("gender") in ("male", "female") else None
    phone = account.get("phone_number")
    return ProviderProfile(
        provider="kakao", uid=str(data["id"]), email=_email(account.get("email")), email_verified=verified,
        nickname=(account.get("profile") or {}).get("nickname") or (data.get("properties") or {}).get("nickname"),
        age_range=account.get("age_range"), gender=gender,
        phone=normalize_phone(phone, region) if isinstance(phone, str) else None,
    )  # fmt: skip


def discord_profile(data: dict) -> ProviderProfile:
    """From `GET /users/@me`: `id` is a string; the email counts only when `verified`."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"].isdigit():
        raise ProviderAnswerError("no Discord user id")
    _refuse_nul(data)
    return ProviderProfile(
        provider="discord", uid=data["id"], email=_email(data.get("email")),
        email_verified=data.get("verified") is True, nickname=data.get("global_name") or data.get("username"),
    )  # fmt: skip


def _refuse_nul(data: dict) -> None:
    """A provider's answer is input like any other: no NUL in what we may store."""
    if has_nul(data):
        raise ProviderAnswerError("a NUL character in the provider's answer")


def _email(value) -> str | None:
    return value.strip().lower() if isinstance(value, str) and "@" in value else None


def find_account(provider: str, uid: str) -> SocialAccount | None:
    query = select(SocialAccount).where(SocialAccount.provider == provider, SocialAccount.uid == uid)
    return db.session.scalar(query)


def record_login(account: SocialAccount, profile: ProviderProfile) -> None:
    account.last_login = utcnow()
    account.extra_data = profile.as_dict()
    account.email = profile.email
    db.session.flush()


def matching_user(profile: ProviderProfile) -> User | None:
    """The existing user whose verified email, or whose phone, the provider vouches for."""
    if profile.email and profile.email_verified:
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == profile.email, User.email_verified_at.is_not(None))
        )
        if user is not None:
            return user
    if profile.phone:
        return db.session.scalar(select(User).where(User.phone == profile.phone))
    return None


def link(user: User, profile: ProviderProfile) -> SocialAccount:
    """Attach this provider login to `user`; FieldError if it belongs to someone else."""
    existing = find_account(profile.provider, profile.uid)
    if existing is not None and existing.user_id != user.id:
        raise FieldError("provider", _l("That account is already linked to another Blueberry account."))
    if existing is not None:
        return existing
    account = SocialAccount(
        user=user, provider=profile.provider, uid=profile.uid, email=profile.email, extra_data=profile.as_dict(),
        last_login=utcnow(),
    )  # fmt: skip
    db.session.add(account)
    db.session.flush()
    return account


def unlink(user: User, account_id: int) -> SocialAccount:
    """Remove one linked login; refused for the last way to log in (set a password first)."""
    account = db.session.get(SocialAccount, account_id)
    if account is None or account.user_id != user.id:
        raise FieldError("account", _l("That login is not linked to your account."))
    if not user.has_password and len(user.social_accounts) <= 1:
        raise FieldError("account", _l("This is your only way to log in. Set a password first."))
    db.session.delete(account)
    db.session.flush()
    return account


def suggested_age(profile: ProviderProfile) -> int | None:
    """The lower end of Kakao's age range (`20~29` → 20), if it is an adult one."""
    match = re.match(r"^(\d+)", profile.age_range or "")
    return int(match.group(1)) if match and MIN_AGE <= int(match.group(1)) <= MAX_AGE else None


def suggested_username(profile: ProviderProfile) -> str:
    """A free username from the nickname (or the provider's name), for the sign-up form to offer."""
    base = accounts.canonical_username(profile.nickname or "")
    base = re.sub(r"[^\w.]", "", base)
    if not base or not base[0].isalpha():
        base = f"{profile.provider}{base}"
    base = base[:24]
    candidate, n = base, 1
    while len(candidate) < 3 or db.session.scalar(select(User.id).where(User.username == candidate)):
        n += 1
        candidate = f"{base}{n}"
    return candidate


@dataclass
class SocialSignup:
    username: str
    display_name: str
    age: int
    gender: str
    language: str = "en"


def create_user(profile: ProviderProfile, data: SocialSignup) -> User:
    """A new account that logs in through this provider (no password yet); flushes."""
    username = accounts.check_username(data.username)
    user = User(
        username=username, password_hash="", display_name=(data.display_name or "").strip() or username,
        age=data.age, gender=data.gender, language=data.language, phone=_free_phone(profile.phone),
    )  # fmt: skip
    if profile.email and profile.email_verified and _email_free(profile.email):
        user.email, user.email_verified_at = profile.email, utcnow()
    user.match_setting = MatchSetting()
    db.session.add(user)
    db.session.flush()
    link(user, profile)
    return user


def _free_phone(phone: str | None) -> str | None:
    if phone and db.session.scalar(select(User.id).where(User.phone == phone)) is None:
        return phone
    return None


def _email_free(email: str) -> bool:
    return db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is None
