"""The fake OAuth providers behave like Kakao and Discord over plain HTTP."""

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fakes import oauth
from tests.fakes.oauth import discord_user, kakao_user

fake_kakao, fake_discord = oauth.fake_kakao, oauth.fake_discord  # the fixtures, as a conftest would expose them

CALLBACK = "http://127.0.0.1:5000/auth/callback"


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorize(provider, **params) -> dict[str, str]:
    """Authorize in auto mode and return the query the provider redirected back with."""
    provider.auto_approve = True
    query = {"response_type": "code", "client_id": provider.client_id, "redirect_uri": CALLBACK, "state": "s1"}
    response = httpx.get(provider.authorize_url, params={**query, **params})
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def kakao_token(provider, code: str, **extra) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    form |= {"client_id": provider.client_id, "client_secret": provider.client_secret}
    return httpx.post(provider.token_url, data={**form, **extra})


def kakao_pkce_code(provider, verifier: str) -> str:
    return authorize(provider, code_challenge=challenge(verifier), code_challenge_method="S256")["code"]


def test_kakao_flow_with_pkce_returns_the_user_chosen_at_authorization(fake_kakao):
    fake_kakao.next_user = kakao_user(id=42, email="a@example.com", nickname="mina")
    verifier = secrets.token_urlsafe(48)
    back = authorize(fake_kakao, code_challenge=challenge(verifier), code_challenge_method="S256")
    assert back["state"] == "s1"
    fake_kakao.next_user = kakao_user(id=99)  # too late for the code already issued

    token = kakao_token(fake_kakao, back["code"], code_verifier=verifier)

    assert token.status_code == 200
    assert token.headers["content-type"] == "application/json;charset=UTF-8"
    body = token.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 21599 and body["refresh_token_expires_in"]
    me = httpx.get(fake_kakao.userinfo_url, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == kakao_user(id=42, email="a@example.com", nickname="mina")
    assert me.json()["kakao_account"]["email"] == "a@example.com" and isinstance(me.json()["id"], int)


def test_kakao_user_without_consent_omits_the_email():
    account = kakao_user(nickname="mina")["kakao_account"]
    assert "email" not in account and account["email_needs_agreement"] is True
    assert account["profile"]["nickname"] == "mina" and "gender" not in account


def test_kakao_refuses_http_basic_client_auth(fake_kakao):
    code = authorize(fake_kakao)["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    response = httpx.post(fake_kakao.token_url, data=form, auth=(fake_kakao.client_id, fake_kakao.client_secret))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client" and response.json()["error_code"] == "KOE010"


def test_kakao_refuses_a_wrong_client_secret(fake_kakao):
    response = kakao_token(fake_kakao, authorize(fake_kakao)["code"], client_secret="wrong")
    assert response.status_code == 401 and response.json()["error_code"] == "KOE010"


def test_a_code_is_single_use(fake_kakao):
    code = authorize(fake_kakao)["code"]
    assert kakao_token(fake_kakao, code).status_code == 200
    again = kakao_token(fake_kakao, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_wrong_pkce_verifier_is_refused(fake_kakao):
    code = kakao_pkce_code(fake_kakao, secrets.token_urlsafe(48))
    response = kakao_token(fake_kakao, code, code_verifier=secrets.token_urlsafe(48))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_missing_pkce_verifier_is_refused(fake_kakao):
    response = kakao_token(fake_kakao, kakao_pkce_code(fake_kakao, secrets.token_urlsafe(48)))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_wrong_redirect_uri_is_refused(fake_kakao):
    response = kakao_token(fake_kakao, authorize(fake_kakao)["code"], redirect_uri="http://evil.example/cb")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "params",
    [
        {"response_type": "token"},
        {"client_id": "someone-else"},
        {"redirect_uri": ""},
        {"code_challenge": "abc", "code_challenge_method": "plain"},
    ],
)
def test_kakao_authorize_refuses_bad_requests(fake_kakao, params):
    query = {"response_type": "code", "client_id": fake_kakao.client_id, "redirect_uri": CALLBACK, **params}
    response = httpx.get(fake_kakao.authorize_url, params=query)
    assert response.status_code == 400 and not fake_kakao.codes


def test_consent_page_links_allow_and_deny_back_with_the_state(fake_kakao):
    query = {"response_type": "code", "client_id": fake_kakao.client_id, "redirect_uri": CALLBACK, "state": "xyz"}
    page = httpx.get(fake_kakao.authorize_url, params=query)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    links = {m[0]: unescape(m[1]) for m in re.findall(r'<a id="(\w+)" href="([^"]+)"', page.text)}
    allow, deny = parse_qs(urlsplit(links["allow"]).query), parse_qs(urlsplit(links["deny"]).query)
    assert links["allow"].startswith(CALLBACK) and allow["state"] == ["xyz"] and allow["code"][0] in fake_kakao.codes
    assert deny["error"] == ["access_denied"] and deny["state"] == ["xyz"] and deny["error_description"]


def discord_code(provider, scope="identify email") -> str:
    return authorize(provider, scope=scope)["code"]


def test_discord_accepts_http_basic_and_returns_the_user(fake_discord):
    fake_discord.next_user = discord_user(id="123456789012345678", username="mina", email=None, verified=False)
    form = {"grant_type": "authorization_code", "code": discord_code(fake_discord), "redirect_uri": CALLBACK}
    token = httpx.post(fake_discord.token_url, data=form, auth=(fake_discord.client_id, fake_discord.client_secret))
    assert token.status_code == 200 and token.json()["scope"] == "identify email"
    me = httpx.get(fake_discord.userinfo_url, headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json() == fake_discord.next_user
    assert me.json()["id"] == "123456789012345678" and me.json()["email"] is None


def test_discord_accepts_credentials_in_the_body(fake_discord):
    form = {"grant_type": "authorization_code", "code": discord_code(fake_discord), "redirect_uri": CALLBACK}
    form |= {"client_id": fake_discord.client_id, "client_secret": fake_discord.client_secret}
    assert httpx.post(fake_discord.token_url, data=form).status_code == 200


def test_discord_refuses_a_wrong_secret(fake_discord):
    form = {"grant_type": "authorization_code", "code": discord_code(fake_discord), "redirect_uri": CALLBACK}
    response = httpx.post(fake_discord.token_url, data=form, auth=(fake_discord.client_id, "wrong"))
    assert response.status_code == 401 and response.json() == {"error": "invalid_client"}


def test_discord_authorize_requires_the_identify_scope(fake_discord):
    query = {"response_type": "code", "client_id": fake_discord.client_id, "redirect_uri": CALLBACK, "scope": "email"}
    assert httpx.get(fake_discord.authorize_url, params=query).status_code == 400


def test_unknown_tokens_get_each_providers_401(fake_kakao, fake_discord):
    kakao = httpx.get(fake_kakao.userinfo_url, headers={"Authorization": "Bearer nope"})
    discord = httpx.get(fake_discord.userinfo_url, headers={"Authorization": "Bearer nope"})
    assert kakao.status_code == 401 and kakao.json() == {"msg": "this access token does not exist", "code": -401}
    assert discord.status_code == 401 and discord.json() == {"message": "401: Unauthorized", "code": 0}


def test_token_failure_modes(fake_kakao):
    fake_kakao.fail_token = "500"
    broken = kakao_token(fake_kakao, authorize(fake_kakao)["code"])
    assert broken.status_code == 500 and broken.headers["content-type"].startswith("text/html")
    fake_kakao.fail_token = "garbage"
    garbage = kakao_token(fake_kakao, authorize(fake_kakao)["code"])
    assert garbage.status_code == 200
    with pytest.raises(ValueError):
        garbage.json()


def test_userinfo_failure_modes(fake_kakao):
    bearer = {
        "Authorization": f"Bearer {kakao_token(fake_kakao, authorize(fake_kakao)['code']).json()['access_token']}"
    }
    fake_kakao.fail_userinfo = "500"
    assert httpx.get(fake_kakao.userinfo_url, headers=bearer).status_code == 500
    fake_kakao.fail_userinfo = "garbage"
    garbage = httpx.get(fake_kakao.userinfo_url, headers=bearer)
    assert garbage.status_code == 200
    with pytest.raises(ValueError):
        garbage.json()
    fake_kakao.fail_userinfo = None
    assert httpx.get(fake_kakao.userinfo_url, headers=bearer).status_code == 200


def test_requests_are_recorded(fake_kakao):
    code = authorize(fake_kakao)["code"]
    kakao_token(fake_kakao, code)
    method, path, headers, params = fake_kakao.requests[-1]
    assert (method, path) == ("POST", "/oauth/token")
    assert params["code"] == code and params["client_secret"] == fake_kakao.client_secret
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert fake_kakao.requests[0].params["state"] == "s1"
