"""Profile and match settings: field errors, inline validation, saving, language."""

import pytest
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import MatchSetting, User
from tests.conftest import get_csrf, login


@pytest.fixture
def mina(client, make_user):
    user = make_user("mina", phone="010-1111-2222")
    login(client, "mina")
    return user


def post_matching(client, url="/settings/matching", htmx=False, **fields):
    data = {"age_min": "20", "age_max": "40", "radius_km": "5", "preferred_gender": "male", **fields}
    data["csrf_token"] = get_csrf(client, "/settings/matching")
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, data=data, headers=headers)


def profile_form(client, **changes) -> dict:
    """A complete profile form (with its CSRF token), with `changes` applied."""
    data = {"display_name": "Mina", "age": "30", "gender": "female", "timezone": "Asia/Seoul", "language": "en"}
    return {"phone": "", **data, **changes, "csrf_token": get_csrf(client, "/settings/profile")}


def setting_of(user) -> MatchSetting:
    return db.session.scalar(select(MatchSetting).where(MatchSetting.user_id == user.id))


def test_matching_form_shows_model_fields(client, mina):
    html = client.get("/settings/matching").get_data(as_text=True)
    for name in ("age_min", "age_max", "radius_km", "preferred_gender"):
        assert f'name="{name}"' in html
    assert 'value="18"' in html and 'value="99"' in html


def test_matching_saves_valid_range(client, mina):
    response = post_matching(client)
    assert response.status_code == 303
    setting = setting_of(mina)
    assert (setting.age_min, setting.age_max, setting.radius_km, setting.preferred_gender) == (20, 40, 5, "male")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"age_min": "40", "age_max": "30"}, "must not be below the youngest"),
        ({"age_min": "17"}, "Between 18 and 120"),
        ({"age_max": "500"}, "Between 18 and 120"),
        ({"radius_km": "0"}, "Between 1 and 20,000"),
        ({"preferred_gender": "robots"}, "Not a valid choice"),
        ({"age_min": ""}, "This field is required"),
    ],
)
def test_matching_refuses_bad_values(client, mina, fields, message):
    response = post_matching(client, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert setting_of(mina).age_min == 18


def test_matching_inline_validation_returns_fragment_and_saves_nothing(client, mina):
    bad = post_matching(client, "/settings/matching?validate=1", htmx=True, age_min="50", age_max="30")
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert html.lstrip().startswith("<form") and 'id="match-setting-form"' in html
    assert "must not be below the youngest" in html
    good = post_matching(client, "/settings/matching?validate=1", htmx=True)
    assert good.status_code == 200
    assert "must not be below" not in good.get_data(as_text=True)
    assert setting_of(mina).age_min == 18


def test_profile_update_normalizes_phone_and_rejects_others(client, mina, make_user):
    make_user("jun", phone="010-9999-8888")
    data = profile_form(client, display_name="Mina K", age="31")
    taken = client.post("/settings/profile", data={**data, "phone": "+82 10 9999 8888"})
    assert taken.status_code == 422
    assert "belongs to another account" in taken.get_data(as_text=True)
    ok = client.post("/settings/profile", data={**data, "phone": "+82 10 1111 2222", "timezone": "Europe/Berlin"})
    assert ok.status_code == 303
    user = db.session.get(User, mina.id)
    assert (user.display_name, user.age, user.phone, user.timezone) == ("Mina K", 31, "+821011112222", "Europe/Berlin")


def test_profile_refuses_unknown_timezone_and_underage(client, mina):
    data = profile_form(client, display_name="M", age="16", timezone="Mars/Base")
    html = client.post("/settings/profile", data=data).get_data(as_text=True)
    assert "18 to 120" in html and "Not a valid choice" in html


def test_language_switch_to_korean_for_a_user(client, mina):
    token = get_csrf(client, "/settings/profile")
    response = client.post(
        "/settings/language", data={"language": "ko", "next": "/settings/profile", "csrf_token": token}
    )
    assert response.headers["Location"] == "/settings/profile"
    html = client.get("/settings/profile").get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert db.session.get(User, mina.id).language == "ko"


def test_language_follows_accept_language_for_visitors(client):
    html = client.get("/", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ko">' in html
    html = client.get("/", headers={"Accept-Language": "de,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_profile_inline_validation_checks_the_phone(client, mina):
    data = profile_form(client, phone="12345")
    response = client.post("/settings/profile?validate=1", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "valid phone number" in response.get_data(as_text=True)
    assert db.session.get(User, mina.id).phone == "+821011112222"
