"""Email pages: the address in settings, verification links, forgot and reset password.

Mail goes out for real: jobs run on an RQ worker (burst mode) against the test Redis and are
delivered to a local SMTP server; the tests read the links from the received mail.
"""

from urllib.parse import urlsplit

import pytest
from flask import render_template
from flask_login import login_user

from blueberry.extensions import db
from blueberry.jobs import get_queue
from blueberry.models import User
from blueberry.models.base import utcnow
from tests.conftest import csrf_from, get_csrf, login
from tests.fakes import smtp

smtp_server, mail_outbox = smtp.smtp_server, smtp.mail_outbox  # the fixtures, as a conftest would expose them

HTMX = {"HX-Request": "true"}
SAME_ANSWER = "If that address belongs to a verified account, we sent a link to it."


def path_of(link: str) -> str:
    return urlsplit(link).path


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


@pytest.fixture
def mina(client, make_user):
    account = make_user("mina")
    login(client, "mina")
    return account


def post_email(client, address: str, htmx: bool = False, url: str = "/settings/email"):
    data = {"email": address, "csrf_token": get_csrf(client, "/settings/accounts")}
    return client.post(url, data=data, headers=HTMX if htmx else {})


# --- the address in settings --------------------------------------------------------------


def test_add_an_email_and_verify_it_by_the_mailed_link(client, mina, mail_outbox):
    response = post_email(client, " Mina@Example.com ")
    assert response.status_code == 303 and response.headers["Location"] == "/settings/accounts"
    assert user(mina.id).email == "mina@example.com" and not user(mina.id).email_verified
    mail = mail_outbox.last_to("mina@example.com")
    assert path_of(mail.links[0]).startswith("/auth/email/verify/")

    page = client.get(path_of(mail.links[0]))
    assert page.status_code == 200
    assert "your email address is verified" in page.get_data(as_text=True)
    assert user(mina.id).email_verified

    again = client.get(path_of(mail.links[0]))  # reusing the link is harmless
    assert again.status_code == 200 and "already verified" in again.get_data(as_text=True)


def test_the_link_works_when_logged_out(client, app, mina, mail_outbox):
    post_email(client, "mina@example.com")
    link = path_of(mail_outbox.last_to("mina@example.com").links[0])
    anonymous = app.test_client()
    assert anonymous.get(link).status_code == 200
    assert user(mina.id).email_verified


def test_a_link_for_another_logged_in_account_is_refused(client, app, mina, make_user, mail_outbox):
    post_email(client, "mina@example.com")
    link = path_of(mail_outbox.last_to("mina@example.com").links[0])
    make_user("joon")
    other = app.test_client()
    login(other, "joon")
    page = other.get(link)
    assert page.status_code == 400 and "for another account" in page.get_data(as_text=True)
    assert not user(mina.id).email_verified


def test_expired_link_is_refused(client, app, mina, mail_outbox):
    post_email(client, "mina@example.com")
    link = path_of(mail_outbox.last_to("mina@example.com").links[0])
    app.config["EMAIL_VERIFY_MAX_AGE_S"] = -1
    page = client.get(link)
    assert page.status_code == 400 and "expired" in page.get_data(as_text=True)
    assert not user(mina.id).email_verified


def test_htmx_save_redirects_by_header(client, mina):
    response = post_email(client, "mina@example.com", htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/settings/accounts"


def test_an_address_of_another_account_is_refused_in_the_fragment(client, mina, make_user):
    make_user("nara", email="nara@example.com")
    response = post_email(client, "NARA@example.com", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-settings"' in html and "<html" not in html
    assert "belongs to another account" in html
    assert user(mina.id).email is None and get_queue("default").count == 0


def test_a_malformed_address_re_renders_the_whole_page_without_htmx(client, mina):
    response = post_email(client, "not-an-address")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in html
    assert "Enter a valid email address" in html and 'value="not-an-address"' in html


def test_fragment_shows_the_state_of_the_address(client, app, mina):
    with app.test_request_context():
        login_user(user(mina.id))
        assert "Add an email address" in render_template("settings/_email_form.html", email_form=None)
        user(mina.id).email = "mina@example.com"
        html = render_template("settings/_email_form.html", email_form=None)
        assert "not verified yet" in html and "email-resend-form" in html
        user(mina.id).email_verified_at = utcnow()
        html = render_template("settings/_email_form.html", email_form=None)
        assert 'id="email-verified"' in html and "email-resend-form" not in html
        db.session.rollback()


def test_resend_sends_a_new_link(client, mina, mail_outbox):
    post_email(client, "mina@example.com")
    assert len(mail_outbox.deliver()) == 1
    response = post_email(client, "", url="/settings/email/resend")
    assert response.status_code == 303
    mails = mail_outbox.deliver()
    assert len(mails) == 2 and mails[1].rcpt_tos == ["mina@example.com"]
    assert client.get(path_of(mails[1].links[0])).status_code == 200


def test_resend_when_already_verified_says_so(client, mina):
    mina.email, mina.email_verified_at = "mina@example.com", utcnow()
    db.session.commit()
    response = post_email(client, "", htmx=True, url="/settings/email/resend")
    assert response.status_code == 422 and "already verified" in response.get_data(as_text=True)
    assert get_queue("default").count == 0


def test_mail_sends_from_settings_are_throttled_per_user(client, app, mina):
    app.config["EMAIL_SEND_LIMIT"] = "2 per hour"
    assert post_email(client, "mina@example.com").status_code == 303
    assert post_email(client, "", url="/settings/email/resend").status_code == 303
    assert post_email(client, "mina@example.org").status_code == 429  # one budget for both routes
    assert user(mina.id).email == "mina@example.com"


def test_settings_email_needs_login(client):
    token = get_csrf(client)
    response = client.post("/settings/email", data={"email": "x@example.com", "csrf_token": token})
    assert response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]


def test_settings_email_needs_csrf(client, mina):
    assert client.post("/settings/email", data={"email": "mina@example.com"}).status_code == 400


# --- forgot and reset password ------------------------------------------------------------


@pytest.fixture
def nara(make_user):
    return make_user("nara", email="nara@example.com", email_verified_at=utcnow())


def ask_reset(client, address: str):
    token = get_csrf(client, "/auth/password/forgot")
    return client.post("/auth/password/forgot", data={"email": address, "csrf_token": token}, follow_redirects=True)


def answer_of(response) -> str:
    html = response.get_data(as_text=True)
    return csrf_from(html) and html.replace(csrf_from(html), "")


def test_forgot_gives_the_same_answer_and_mails_only_verified_addresses(client, nara, make_user, mail_outbox):
    make_user("dana", email="dana@example.com")  # not verified
    answers = [ask_reset(client, address) for address in ("nobody@example.com", "dana@example.com", "NARA@example.com")]
    assert {response.status_code for response in answers} == {200}
    assert SAME_ANSWER in answers[0].get_data(as_text=True)
    assert answer_of(answers[0]) == answer_of(answers[1]) == answer_of(answers[2])
    mails = mail_outbox.deliver()
    assert [mail.rcpt_tos for mail in mails] == [["nara@example.com"]]
    assert path_of(mails[0].links[0]).startswith("/auth/password/reset/")


def test_forgot_is_throttled(client, app):
    app.config["PASSWORD_RESET_LIMIT"] = "2 per hour"
    assert ask_reset(client, "a@example.com").status_code == 200
    assert ask_reset(client, "b@example.com").status_code == 200
    assert ask_reset(client, "c@example.com").status_code == 429


def reset_link(client, mail_outbox, address="nara@example.com") -> str:
    ask_reset(client, address)
    return path_of(mail_outbox.last_to(address).links[0])


def post_reset(client, link: str, new: str, confirm: str | None = None):
    token = csrf_from(client.get(link).get_data(as_text=True))
    data = {"new_password": new, "confirm_password": new if confirm is None else confirm, "csrf_token": token}
    return client.post(link, data=data)


def test_reset_changes_the_password_ends_all_sessions_and_is_single_use(client, app, nara, mail_outbox):
    elsewhere = app.test_client()
    login(elsewhere, "nara")
    assert elsewhere.get("/settings/profile").status_code == 200
    link = reset_link(client, mail_outbox)

    response = post_reset(client, link, "brand-new-pass")
    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    assert "Log in with the new one" in client.get("/auth/login").get_data(as_text=True)
    assert elsewhere.get("/settings/profile").status_code in (302, 303)  # signed out there too
    assert login(client, "nara", "correct-horse").status_code == 401
    assert login(client, "nara", "brand-new-pass").status_code == 303

    again = app.test_client().get(link)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)


def test_reset_form_checks_the_two_passwords_and_the_rules(client, nara, mail_outbox):
    link = reset_link(client, mail_outbox)
    differ = post_reset(client, link, "brand-new-pass", "brand-new-pasz")
    assert differ.status_code == 422 and "The two passwords differ." in differ.get_data(as_text=True)
    short = post_reset(client, link, "short")
    assert short.status_code == 422 and "Use 8 to 128 characters." in short.get_data(as_text=True)
    assert post_reset(client, link, "brand-new-pass").status_code == 303  # the link survived the errors


def test_expired_reset_link_is_refused(client, app, nara, mail_outbox):
    link = reset_link(client, mail_outbox)
    app.config["PASSWORD_RESET_MAX_AGE_S"] = -1
    page = client.get(link)
    assert page.status_code == 400 and "expired" in page.get_data(as_text=True)
    token = get_csrf(client, "/auth/password/forgot")
    posted = client.post(link, data={"new_password": "brand-new-pass", "confirm_password": "brand-new-pass",
                                     "csrf_token": token})  # fmt: skip
    assert posted.status_code == 400
    assert login(client, "nara", "correct-horse").status_code == 303


def test_tampered_reset_link_is_refused(client, nara, mail_outbox):
    link = reset_link(client, mail_outbox)
    tampered = link[:-3] + ("xyz" if not link.endswith("xyz") else "abc")
    page = client.get(tampered)
    assert page.status_code == 400 and "not valid" in page.get_data(as_text=True)
    assert 'href="/auth/password/forgot"' in page.get_data(as_text=True)


def test_reset_while_logged_in_logs_this_browser_out(client, nara, mail_outbox):
    link = reset_link(client, mail_outbox)
    login(client, "nara")
    assert post_reset(client, link, "brand-new-pass").status_code == 303
    assert client.get("/settings/profile").status_code in (302, 303)
