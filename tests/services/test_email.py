"""Email service: setting an address, verification links, password reset links."""

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.jobs import get_queue
from blueberry.models import User, UserSession
from blueberry.models.base import utcnow
from blueberry.services import accounts, sessions
from blueberry.services import email as email_service
from blueberry.services.errors import FieldError
from tests.fakes import smtp

smtp_server, mail_outbox = smtp.smtp_server, smtp.mail_outbox  # the fixtures, as a conftest would expose them


@pytest.fixture(autouse=True)
def request_ctx(app):
    """Links are absolute URLs: building them needs a request (the views always have one)."""
    with app.test_request_context("/", base_url="http://blueberry.test"):
        yield


@pytest.fixture
def mina(make_user):
    return make_user("mina")


@pytest.fixture
def verified(make_user):
    return make_user("nara", email="nara@example.com", email_verified_at=utcnow())


def queued_mail() -> int:
    return get_queue("default").count


def token_in(mail) -> str:
    (link,) = mail.links
    return link.rsplit("/", 1)[1]


def past_token(app, salt: str, payload: dict, seconds_ago: int) -> str:
    """A correctly signed token, issued `seconds_ago`."""

    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds_ago

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt, signer=PastSigner).dumps(payload)


# --- setting an address -------------------------------------------------------------------


def test_set_email_normalizes_and_mails_a_verification_link(mina, mail_outbox):
    assert email_service.set_email(mina, "  Mina@Example.COM ") is True
    assert queued_mail() == 0  # held until the commit
    db.session.commit()
    assert mina.email == "mina@example.com" and not mina.email_verified
    mail = mail_outbox.last_to("mina@example.com")
    assert mail.message["Subject"] == "Confirm your email address for Blueberry"
    assert mail.links[0].startswith("http://blueberry.test/auth/email/verify/")
    assert email_service.verify_email(token_in(mail), None) == email_service.VERIFIED


@pytest.mark.parametrize("raw", ["", "   ", "mina", "mina@", "@example.com", "mina@example", "mi na@example.com"])
def test_set_email_refuses_malformed_addresses(mina, raw):
    with pytest.raises(FieldError) as caught:
        email_service.set_email(mina, raw)
    assert caught.value.field == "email"
    db.session.rollback()
    assert db.session.get(User, mina.id).email is None and queued_mail() == 0


def test_set_email_refuses_an_address_of_another_user(mina, verified):
    with pytest.raises(FieldError, match="belongs to another account"):
        email_service.set_email(mina, "NARA@example.com")


def test_changing_the_address_clears_verification(verified):
    email_service.set_email(verified, "nara@example.org")
    db.session.commit()
    assert verified.email == "nara@example.org" and verified.email_verified_at is None
    assert queued_mail() == 1


def test_setting_the_same_verified_address_sends_nothing(verified):
    assert email_service.set_email(verified, "Nara@Example.com") is False
    db.session.commit()
    assert verified.email_verified and queued_mail() == 0


def test_send_verification_needs_an_unverified_address(mina, verified):
    with pytest.raises(FieldError, match="Add an email address"):
        email_service.send_verification(mina)
    with pytest.raises(FieldError, match="already verified"):
        email_service.send_verification(verified)


# --- verification links -------------------------------------------------------------------


@pytest.fixture
def pending(make_user):
    """A user with an address that still waits for its link."""
    return make_user("dana", email="dana@example.com")


def test_verification_link_verifies_and_reuse_is_harmless(pending):
    token = email_service.verification_token(pending)
    assert email_service.verify_email(token, pending) == email_service.VERIFIED
    db.session.commit()
    first = pending.email_verified_at
    assert first is not None
    assert email_service.verify_email(token, None) == email_service.ALREADY_VERIFIED
    assert pending.email_verified_at == first


def test_expired_verification_link_is_refused(app, pending):
    token = past_token(app, email_service.VERIFY_SALT, {"u": pending.id, "e": pending.email}, 3 * 24 * 3600)
    with pytest.raises(FieldError, match="expired"):
        email_service.verify_email(token, None)
    app.config["EMAIL_VERIFY_MAX_AGE_S"] = -1  # every link is too old
    with pytest.raises(FieldError, match="expired"):
        email_service.verify_email(email_service.verification_token(pending), None)
    assert pending.email_verified_at is None


def test_verification_link_of_another_account_is_refused(pending, mina):
    token = email_service.verification_token(pending)
    with pytest.raises(FieldError, match="for another account"):
        email_service.verify_email(token, mina)
    assert pending.email_verified_at is None


def test_verification_link_for_a_replaced_address_is_refused(pending):
    token = email_service.verification_token(pending)
    email_service.set_email(pending, "dana@example.org")
    with pytest.raises(FieldError, match="no longer on the account"):
        email_service.verify_email(token, pending)
    assert pending.email_verified_at is None


def test_tampered_and_foreign_tokens_are_refused(pending):
    token = email_service.verification_token(pending)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "garbage", token.replace(".", "", 1)):
        with pytest.raises(FieldError, match="not valid"):
            email_service.verify_email(bad, None)
    # A link made for one purpose means nothing for the other.
    with pytest.raises(FieldError, match="not valid"):
        email_service.check_reset_token(token)


# --- password reset -----------------------------------------------------------------------


@pytest.mark.parametrize("address", ["nobody@example.com", "dana@example.com", ""])
def test_reset_request_for_unknown_or_unverified_address_sends_nothing(pending, address):
    assert email_service.request_password_reset(address) is None
    db.session.commit()
    assert queued_mail() == 0


def test_reset_request_mails_a_link_to_a_verified_address(verified, mail_outbox):
    assert email_service.request_password_reset(" NARA@example.com") is None
    db.session.commit()
    mail = mail_outbox.last_to("nara@example.com")
    assert mail.message["Subject"] == "Reset your Blueberry password"
    assert mail.links[0].startswith("http://blueberry.test/auth/password/reset/")
    assert email_service.check_reset_token(token_in(mail)).id == verified.id


def test_reset_request_skips_a_deactivated_account(verified):
    verified.is_active = False
    db.session.commit()
    email_service.request_password_reset("nara@example.com")
    db.session.commit()
    assert queued_mail() == 0


def live_sessions(user) -> int:
    query = select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    return len(db.session.scalars(query).all())


def test_reset_sets_the_password_ends_every_session_and_is_single_use(verified):
    for _ in range(3):
        sessions.start_session(verified)
    db.session.commit()
    token = email_service.reset_token(verified)
    assert email_service.reset_password(token, "brand-new-pass").id == verified.id
    db.session.commit()
    assert live_sessions(verified) == 0
    assert accounts.authenticate("nara", "brand-new-pass") == verified
    assert accounts.authenticate("nara", "correct-horse") is None
    with pytest.raises(FieldError, match="already used"):
        email_service.reset_password(token, "another-pass-1")
    assert accounts.authenticate("nara", "brand-new-pass") == verified


def test_a_password_change_spends_outstanding_reset_links(verified):
    token = email_service.reset_token(verified)
    accounts.change_password(verified, "correct-horse", "changed-elsewhere")
    with pytest.raises(FieldError, match="already used"):
        email_service.check_reset_token(token)


def test_expired_reset_link_is_refused(app, verified):
    token = past_token(app, email_service.RESET_SALT, {"u": verified.id, "p": "x"}, 2 * 3600)
    with pytest.raises(FieldError, match="expired"):
        email_service.reset_password(token, "brand-new-pass")
    app.config["PASSWORD_RESET_MAX_AGE_S"] = -1
    with pytest.raises(FieldError, match="expired"):
        email_service.reset_password(email_service.reset_token(verified), "brand-new-pass")
    assert accounts.authenticate("nara", "correct-horse") == verified


def test_tampered_reset_link_is_refused(app, verified, mina):
    forged = URLSafeTimedSerializer("not-our-secret", salt=email_service.RESET_SALT).dumps({"u": mina.id, "p": "x"})
    with pytest.raises(FieldError, match="not valid"):
        email_service.reset_password(forged, "brand-new-pass")


def test_reset_applies_the_password_rules(verified):
    token = email_service.reset_token(verified)
    with pytest.raises(FieldError) as caught:
        email_service.reset_password(token, "short")
    assert caught.value.field == "new_password"
    db.session.rollback()
    assert email_service.check_reset_token(token).id == verified.id  # still usable
