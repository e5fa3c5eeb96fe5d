"""Kakao and Discord sign-in through local fake providers (real HTTP): the app's Authlib client
runs unchanged against them. Sign-up, known logins, linking conflicts, connecting and
disconnecting, state checks, denied consent and providers that fail."""

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from blueberry import create_app
from blueberry.extensions import db
from blueberry.login import AUTH_AT
from blueberry.models import SocialAccount, User
from blueberry.models.base import utcnow
from tests.conftest import csrf_from, get_csrf, login, provider_config
from tests.fakes.oauth import discord_user, kakao_user

MINA_KAKAO = kakao_user(4242, email="mina@example.com", nickname="Mina", age_range="20~29", gender="female")


@pytest.fixture
def app_config(app_config, fake_kakao, fake_discord):
    fake_kakao.auto_approve = fake_discord.auto_approve = True
    return app_config | provider_config(fake_kakao, fake_discord)


def consent(client, provider: str, fake, user: dict | None = None, action: str | None = None):
    """Start the login, let the fake approve it, and return the callback's URL (path and query)."""
    if user is not None:
        fake.next_user = user
    if action:
        start = client.post(f"/auth/oauth/{provider}", data={"action": action, "csrf_token": get_csrf(client, "/")})
    else:
        start = client.get(f"/auth/oauth/{provider}")
    assert start.status_code == 302 and start.location.startswith(fake.authorize_url), start.location
    approved = httpx.get(start.location, follow_redirects=False)
    back = urlsplit(approved.headers["location"])
    return f"{back.path}?{back.query}"


def sign_in_with(client, provider: str, fake, user: dict | None = None, action: str | None = None):
    return client.get(consent(client, provider, fake, user, action))


def signed_in_as(client) -> str | None:
    with client.session_transaction() as session:
        user_id = session.get("_user_id")
    return db.session.get(User, int(user_id)).username if user_id else None


def finish(client, **fields):
    page = client.get("/auth/oauth/finish")
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), **fields}
    return client.post("/auth/oauth/finish", data=data)


def test_kakao_sign_up_asks_for_what_kakao_did_not_give_then_signs_in(client, fake_kakao):
    answer = sign_in_with(client, "kakao", fake_kakao, MINA_KAKAO)
    assert answer.status_code == 303 and answer.location.endswith("/auth/oauth/finish")
    page = client.get("/auth/oauth/finish").get_data(as_text=True)
    assert 'value="mina"' in page and 'value="20"' in page  # suggested from the nickname and age range
    assert finish(client, username="mina", display_name="Mina", age="17", gender="female").status_code == 422
    done = finish(client, username="mina", display_name="Mina", age="24", gender="female")
    assert done.status_code == 303 and signed_in_as(client) == "mina"
    mina = db.session.scalar(select(User).where(User.username == "mina"))
    assert not mina.has_password and (mina.email, mina.email_verified) == ("mina@example.com", True)
    account = db.session.scalar(select(SocialAccount))
    assert (account.provider, account.uid, account.user_id) == ("kakao", "4242", mina.id)
    token_call = next(r for r in fake_kakao.requests if r.path == "/oauth/token")
    assert token_call.params["client_secret"] == fake_kakao.client_secret and "authorization" not in token_call.headers
    assert token_call.params["code_verifier"]  # PKCE
    client.post("/auth/logout", data={"csrf_token": get_csrf(client, "/")})
    again = sign_in_with(client, "kakao", fake_kakao, MINA_KAKAO)  # known now: straight in
    assert again.status_code == 303 and signed_in_as(client) == "mina"


def test_a_kakao_user_who_shared_nothing_gives_age_and_gender(client, fake_kakao):
    sign_in_with(client, "kakao", fake_kakao, kakao_user(7))
    page = client.get("/auth/oauth/finish").get_data(as_text=True)
    assert 'value="kakao' in page  # a username is still offered
    assert finish(client, username="quiet", age="", gender="").status_code == 422
    assert finish(client, username="quiet", age="40", gender="male").status_code == 303
    assert signed_in_as(client) == "quiet"


def test_a_verified_email_of_an_existing_user_is_linked_only_after_logging_in(client, fake_discord, make_user):
    mina = make_user("mina", email="nelly@example.com", email_verified_at=utcnow())
    answer = sign_in_with(client, "discord", fake_discord, discord_user(email="nelly@example.com", verified=True))
    assert answer.location.endswith("/auth/oauth/link") and signed_in_as(client) is None
    page = client.get("/auth/oauth/link").get_data(as_text=True)
    assert "mina" in page and "separate-account" in page
    wrong = client.post("/auth/oauth/link", data={"password": "nope", "csrf_token": csrf_from(page)})
    assert wrong.status_code == 401 and db.session.scalar(select(SocialAccount)) is None
    right = client.post("/auth/oauth/link", data={"password": "correct-horse", "csrf_token": csrf_from(page)})
    assert right.status_code == 303 and signed_in_as(client) == "mina"
    assert db.session.scalar(select(SocialAccount.user_id)) == mina.id


def test_an_unverified_email_never_links_or_logs_in(client, fake_discord, make_user):
    make_user("mina", email="nelly@example.com", email_verified_at=utcnow())
    answer = sign_in_with(client, "discord", fake_discord, discord_user(email="nelly@example.com", verified=False))
    assert answer.location.endswith("/auth/oauth/finish") and signed_in_as(client) is None
    assert finish(client, username="nelly", age="30", gender="female").status_code == 303
    nelly = db.session.scalar(select(User).where(User.username == "nelly"))
    assert nelly.email is None  # the address stays the other account's


def test_choosing_a_separate_account(client, fake_discord, make_user):
    make_user("mina", email="nelly@example.com", email_verified_at=utcnow())
    sign_in_with(client, "discord", fake_discord, discord_user(email="nelly@example.com", verified=True))
    assert finish(client, username="nelly2", age="30", gender="female").status_code == 303
    assert signed_in_as(client) == "nelly2"


def test_connecting_needs_a_recent_login(client, fake_discord, make_user):
    make_user("mina")
    login(client, "mina")
    with client.session_transaction() as session:
        session[AUTH_AT] = time.time() - 3600
    stale = client.post("/auth/oauth/discord", data={"action": "connect", "csrf_token": get_csrf(client, "/")})
    assert stale.status_code == 303 and "/auth/reauth" in stale.location
    page = client.get("/auth/reauth").get_data(as_text=True)
    client.post("/auth/reauth", data={"password": "correct-horse", "csrf_token": csrf_from(page)})
    connected = sign_in_with(client, "discord", fake_discord, discord_user(), action="connect")
    assert connected.location.endswith("/settings/accounts")
    accounts_page = client.get("/settings/accounts").get_data(as_text=True)
    assert "Discord" in accounts_page and "disconnect-discord" in accounts_page and "connect-kakao" in accounts_page


def test_a_login_linked_to_someone_else_is_not_connected(client, fake_discord, make_user):
    make_user("mina"), make_user("jun", gender="male")
    login(client, "mina")
    sign_in_with(client, "discord", fake_discord, discord_user(), action="connect")
    client.post("/auth/logout", data={"csrf_token": get_csrf(client, "/")})
    login(client, "jun")
    refused = sign_in_with(client, "discord", fake_discord, discord_user(), action="connect")
    assert refused.location.endswith("/settings/accounts")
    assert "already linked to another" in client.get("/settings/accounts").get_data(as_text=True)
    assert db.session.scalar(select(SocialAccount.user_id)) == db.session.scalar(
        select(User.id).where(User.username == "mina")
    )


def test_the_last_way_to_log_in_cannot_be_disconnected_until_a_password_is_set(client, fake_kakao):
    sign_in_with(client, "kakao", fake_kakao, MINA_KAKAO)
    finish(client, username="mina", age="24", gender="female")
    account_id = db.session.scalar(select(SocialAccount.id))
    page = client.get("/settings/accounts").get_data(as_text=True)
    refused = client.post(f"/settings/accounts/social/{account_id}/delete", data={"csrf_token": csrf_from(page)})
    assert refused.status_code == 303 and db.session.get(SocialAccount, account_id) is not None
    assert "only way to log in" in client.get("/settings/accounts").get_data(as_text=True)
    data = {"new_password": "a-new-password", "confirm_password": "a-new-password", "csrf_token": csrf_from(page)}
    assert client.post("/settings/accounts", data=data).status_code == 303
    gone = client.post(f"/settings/accounts/social/{account_id}/delete", data={"csrf_token": csrf_from(page)})
    assert gone.status_code == 303 and db.session.get(SocialAccount, account_id) is None
    client.post("/auth/logout", data={"csrf_token": get_csrf(client, "/")})
    assert login(client, "mina", "a-new-password").status_code == 303


@pytest.mark.parametrize("tamper", ["missing", "wrong", "replayed"])
def test_a_bad_state_is_refused_and_signs_nobody_in(client, fake_kakao, tamper):
    callback = consent(client, "kakao", fake_kakao, MINA_KAKAO)
    path, query = callback.split("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    if tamper == "missing":
        params.pop("state")
    elif tamper == "wrong":
        params["state"] = "forged"
    else:
        assert client.get(callback).status_code == 303  # the real one, once
        client.post("/auth/logout", data={"csrf_token": get_csrf(client, "/")})
    answer = client.get(path, query_string=params)
    assert answer.status_code == 400 and signed_in_as(client) is None


def test_denied_consent_goes_back_to_login_with_a_message(client, fake_kakao):
    start = client.get("/auth/oauth/kakao")
    state = parse_qs(urlsplit(start.location).query)["state"][0]
    answer = client.get("/auth/oauth/kakao/callback", query_string={"error": "access_denied", "state": state})
    assert answer.status_code == 303 and answer.location.endswith("/auth/login")
    assert "did not let Blueberry use your Kakao" in client.get("/auth/login").get_data(as_text=True)


@pytest.mark.parametrize(("where", "mode"), [("token", "500"), ("token", "garbage"), ("userinfo", "500"),
                                             ("userinfo", "garbage")])  # fmt: skip
def test_a_failing_provider_gets_a_clear_message_not_a_500(client, fake_kakao, where, mode):
    setattr(fake_kakao, f"fail_{where}", mode)
    answer = sign_in_with(client, "kakao", fake_kakao, MINA_KAKAO)
    assert answer.status_code == 303 and answer.location.endswith("/auth/login") and signed_in_as(client) is None
    assert "Kakao is not answering properly" in client.get("/auth/login").get_data(as_text=True)


def test_an_unconfigured_provider_has_no_button_and_no_route(app_config, fake_kakao):
    only_kakao = {k: v for k, v in app_config.items() if not k.startswith("DISCORD_CLIENT")}
    client = create_app(only_kakao).test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'id="login-kakao"' in page and 'id="login-discord"' not in page
    assert client.get("/auth/oauth/discord").status_code == 404


def test_linking_by_logging_in_with_another_linked_provider(client, fake_kakao, fake_discord, make_user):
    mina = make_user("mina", email="mina@example.com", email_verified_at=utcnow())
    login(client, "mina")
    sign_in_with(client, "discord", fake_discord, discord_user(), action="connect")
    client.post("/auth/logout", data={"csrf_token": get_csrf(client, "/")})
    answer = sign_in_with(client, "kakao", fake_kakao, MINA_KAKAO)  # her verified email, a new Kakao login
    assert answer.location.endswith("/auth/oauth/link")
    assert 'id="link-with-discord"' in client.get("/auth/oauth/link").get_data(as_text=True)
    assert sign_in_with(client, "discord", fake_discord, discord_user()).status_code == 303
    assert signed_in_as(client) == "mina"
    linked = db.session.scalars(select(SocialAccount.provider).where(SocialAccount.user_id == mina.id))
    assert sorted(linked) == ["discord", "kakao"]
