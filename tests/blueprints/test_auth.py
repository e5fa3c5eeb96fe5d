"""Sign-up, login by username or phone, throttling, logout, sessions, redirects, CSRF."""

import re

import pytest
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import MatchSetting, User, UserSession
from tests.conftest import get_csrf, login

VALID = {"username": "mina", "password": "long-enough-pw", "age": "27", "gender": "female", "phone": ""}


def signup(client, **fields):
    data = {**VALID, **fields, "csrf_token": get_csrf(client, "/auth/signup")}
    return client.post("/auth/signup", data=data)


def field_errors(html: str, field: str) -> str:
    """The text of the error list under one field."""
    match = re.search(rf'<ul class="errors" id="{field}-errors"[^>]*>(.*?)</ul>', html, re.S)
    assert match, f"no error list for {field}"
    return match.group(1)


def test_signup_creates_user_with_match_setting_and_logs_in(client):
    response = signup(client, phone="010-1234-5678")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/settings/matching")
    user = db.session.scalar(select(User).where(User.username == "mina"))
    assert user.phone == "+821012345678"
    assert user.password_hash != VALID["password"]
    setting = db.session.scalar(select(MatchSetting).where(MatchSetting.user_id == user.id))
    assert (setting.age_min, setting.age_max, setting.radius_km, setting.preferred_gender) == (18, 99, 1, "any")
    assert client.get("/settings/profile").status_code == 200


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"username": ""}, "username", "This field is required"),
        ({"username": "ab"}, "username", "between 3 and 30"),
        ({"username": "010-1234-5678"}, "username", "starting with a letter"),
        ({"username": "01012345678"}, "username", "starting with a letter"),
        ({"username": "bad name!"}, "username", "starting with a letter"),
        ({"password": "short"}, "password", "8 to 128 characters"),
        ({"age": "17"}, "age", "18 to 120"),
        ({"age": "121"}, "age", "18 to 120"),
        ({"age": "old"}, "age", "Not a valid integer"),
        ({"gender": "other"}, "gender", "Not a valid choice"),
        ({"phone": "12345"}, "phone", "valid phone number"),
    ],
)
def test_signup_rejects_bad_input_with_field_errors(client, fields, field, message):
    response = signup(client, **fields)
    assert response.status_code == 422
    assert message in field_errors(response.get_data(as_text=True), field)
    assert db.session.scalar(select(User.id)) is None


def test_signup_refuses_taken_username_and_phone_in_any_spelling(client, make_user):
    make_user("mina", phone="+82 10 1234 5678")
    assert "That username is taken" in signup(client, username="MINA").get_data(as_text=True)
    response = signup(client, username="other", phone="010-1234-5678")
    assert response.status_code == 422
    assert "belongs to another account" in response.get_data(as_text=True)


def test_signup_inline_validation_saves_nothing(client):
    token = get_csrf(client, "/auth/signup")
    response = client.post(
        "/auth/signup?validate=1",
        data={"username": "0101234", "csrf_token": token, "password": "", "age": "", "gender": "female"},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith("<form")  # the fragment, not the page
    assert "starting with a letter" in html
    assert "This field is required" not in html  # untouched fields stay quiet
    assert db.session.scalar(select(User.id)) is None


@pytest.mark.parametrize("login_id", ["mina", "MINA", "010-1234-5678", "+82 10 1234 5678", "01012345678"])
def test_login_by_username_or_phone(client, make_user, login_id):
    make_user("mina", phone="010-1234-5678")
    response = login(client, login_id)
    assert response.status_code == 303
    assert client.get("/settings/profile").status_code == 200


def test_login_failure_is_the_same_for_unknown_user_and_wrong_password(client, make_user):
    make_user("mina")
    wrong = login(client, "mina", "wrong-password")
    unknown = login(client, "nobody", "wrong-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username, phone number or password." in wrong.get_data(as_text=True)
    strip = lambda r: r.get_data(as_text=True).split('name="login"')[0].split("csrf_token")[-1][100:]  # noqa: E731
    assert strip(wrong) == strip(unknown)


def test_login_is_throttled_per_username(client, make_user):
    make_user("mina")
    for _ in range(5):
        assert login(client, "mina", "wrong-password").status_code == 401
    blocked = login(client, "mina", "correct-horse")
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many attempts" in blocked.get_data(as_text=True)
    # Another account from the same address is still allowed.
    make_user("jun")
    assert login(client, "jun").status_code == 303


def test_throttle_counts_unknown_usernames_too(client):
    for _ in range(5):
        assert login(client, "ghost", "x").status_code == 401
    assert login(client, "ghost", "x").status_code == 429


def test_login_is_throttled_per_ip(app, client, make_user):
    app.config["LOGIN_LIMIT_PER_IP"] = "3 per minute"
    for name in ("a1", "a2", "a3"):
        assert login(client, f"user{name}", "x").status_code == 401
    assert login(client, "usera4", "x").status_code == 429


def test_logout_invalidates_a_copied_cookie(app, client, make_user):
    make_user("mina")
    login(client, "mina")
    cookie = client.get_cookie("bb_session").value
    token = get_csrf(client, "/settings/profile")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 303
    thief = app.test_client()
    thief.set_cookie("bb_session", cookie)
    response = thief.get("/settings/profile")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def change_password(client, current, new):
    data = {"current_password": current, "new_password": new, "confirm_password": new}
    return client.post("/settings/accounts", data={**data, "csrf_token": get_csrf(client, "/settings/accounts")})


def test_password_change_ends_other_sessions_only(app, make_user):
    make_user("mina")
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "mina")
    login(laptop, "mina")
    response = change_password(laptop, "correct-horse", "new-password-1")
    assert response.status_code == 303
    assert laptop.get("/settings/accounts").status_code == 200
    assert phone.get("/settings/accounts").status_code == 302
    assert login(app.test_client(), "mina", "new-password-1").status_code == 303
    live = db.session.scalars(select(UserSession).where(UserSession.revoked_at.is_(None))).all()
    assert len(live) == 2  # the laptop and the new login


def test_password_change_needs_the_current_password(client, make_user):
    make_user("mina")
    login(client, "mina")
    response = change_password(client, "nope-nope", "new-password-1")
    assert response.status_code == 422
    assert "not your current password" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "http:/evil", "\t//evil"],
)
def test_next_redirect_stays_on_site(client, make_user, target):
    make_user("mina")
    response = login(client, "mina", next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_next_redirect_to_local_path(client, make_user):
    make_user("mina")
    response = login(client, "mina", next="/settings/matching?x=1")
    assert response.headers["Location"] == "/settings/matching?x=1"


def test_csrf_refused_without_token(client, make_user):
    make_user("mina")
    response = client.post("/auth/login", data={"login": "mina", "password": "correct-horse"})
    assert response.status_code == 400
    assert client.get("/settings/profile").status_code == 302


def test_csrf_refused_for_htmx_request_without_header(client, make_user):
    make_user("mina")
    login(client, "mina")
    response = client.post(
        "/settings/matching",
        data={"age_min": "20", "age_max": "30", "radius_km": "5", "preferred_gender": "any"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#toasts"
    assert db.session.scalar(select(MatchSetting.age_min)) == 18


def test_htmx_request_with_csrf_header_is_accepted(client, make_user):
    make_user("mina")
    login(client, "mina")
    token = get_csrf(client, "/settings/matching")
    response = client.post(
        "/settings/matching",
        data={"age_min": "20", "age_max": "30", "radius_km": "5", "preferred_gender": "any"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/settings/matching"
    assert db.session.scalar(select(MatchSetting.age_min)) == 20


def test_login_required_pages_redirect_or_401_for_htmx(client):
    assert client.get("/settings/profile").status_code == 302
    response = client.get("/settings/profile", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/auth/login")


def test_absurdly_long_numbers_are_field_errors_not_crashes(client):
    response = signup(client, age="9" * 400)
    assert response.status_code == 422
    assert "smaller number" in field_errors(response.get_data(as_text=True), "age")


def test_nul_bytes_are_refused(client):
    token = get_csrf(client)
    response = client.post("/auth/login", data={"login": "mi\x00na", "password": "x", "csrf_token": token})
    assert response.status_code == 400


def test_whitespace_display_name_falls_back_to_username(client):
    assert signup(client, display_name="   ").status_code == 303
    assert db.session.scalar(select(User.display_name).where(User.username == "mina")) == "mina"


def test_usernames_are_unicode_normalized(client, make_user):
    make_user("mina")
    response = signup(client, username="ｍｉｎａ")
    assert "That username is taken" in field_errors(response.get_data(as_text=True), "username")
    assert login(client, "ＭＩＮＡ").status_code == 303


def test_username_and_phone_share_one_throttle(client, make_user):
    make_user("mina", phone="010-1234-5678")
    for login_id in ("mina", "010-1234-5678", "MINA", "+82 10 1234 5678", "mina"):
        assert login(client, login_id, "wrong-password").status_code == 401
    assert login(client, "01012345678", "correct-horse").status_code == 429


def test_inline_checks_do_not_use_up_the_signup_allowance(app, client):
    app.config["SIGNUP_LIMIT_PER_IP"] = "2 per hour"
    token = get_csrf(client, "/auth/signup")
    for name in ("aaa", "bbb", "ccc", "ddd"):
        checked = client.post("/auth/signup?validate=1", data={"username": name, "csrf_token": token})
        assert checked.status_code in (200, 422)
    assert signup(client).status_code == 303


def test_password_change_attempts_are_throttled(client, make_user):
    make_user("mina")
    login(client, "mina")  # a right password: it uses none of the five guesses a minute
    statuses = [change_password(client, "wrong-password", "new-password-1").status_code for _ in range(6)]
    assert statuses[:5] == [422] * 5 and statuses[5] == 429
