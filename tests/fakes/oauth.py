"""Fake Kakao and Discord OAuth2 providers: real HTTP servers speaking the real endpoints and JSON shapes.

The app's Authlib client talks to them over the network unchanged; nothing is patched.
"""

import base64
import copy
import hashlib
import html
import json
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import pytest

from tests.fakes.http import serve, shut

JSON_TYPE = "application/json;charset=UTF-8"
CONSENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name} login</title></head>
<body><h1>{name}: let {client} use your account?</h1>
<a id="allow" href="{allow}">Allow</a> <a id="deny" href="{deny}">Deny</a></body></html>"""

Params = dict[str, str]
Response = tuple[int, Params, bytes]


class Recorded(NamedTuple):
    """One request a provider received; header names are lower-cased, params merge query and form."""

    method: str
    path: str
    headers: dict[str, str]
    params: Params


def kakao_user(
    id: int = 1234567890,
    *,
    email: str | None = None,
    email_verified: bool = True,
    nickname: str | None = None,
    age_range: str | None = None,
    gender: str | None = None,
    phone_number: str | None = None,
) -> dict:
    """A /v2/user/me body; an item not given is one the user did not agree to share."""
    account: dict[str, Any] = {"profile_nickname_needs_agreement": nickname is None}
    if nickname is not None:
        account["profile"] = {"nickname": nickname, "is_default_nickname": False}
    _kakao_item(account, "email", email, is_email_valid=True, is_email_verified=email_verified)
    _kakao_item(account, "age_range", age_range)
    _kakao_item(account, "gender", gender)
    _kakao_item(account, "phone_number", phone_number)
    user: dict[str, Any] = {"id": id, "connected_at": "2024-03-01T09:00:00Z"}
    if nickname is not None:
        user["properties"] = {"nickname": nickname}
    user["kakao_account"] = account
    return user


def _kakao_item(account: dict, item: str, value: Any, **shown: Any) -> None:
    account[f"has_{item}"] = True
    account[f"{item}_needs_agreement"] = value is None
    if value is not None:
        account.update(shown)
        account[item] = value


def discord_user(
    id: str = "80351110224678912",
    *,
    username: str = "nelly",
    global_name: str | None = "Nelly",
    email: str | None = None,
    verified: bool = True,
) -> dict:
    """A /users/@me body as Discord sends it (the id is a string snowflake)."""
    user = {"id": id, "username": username, "global_name": global_name, "discriminator": "0", "avatar": None}
    return user | {"verified": verified, "email": email, "flags": 0, "locale": "ko", "mfa_enabled": False}


def _json(status: int, body: Any) -> Response:
    return status, {"Content-Type": JSON_TYPE}, json.dumps(body, ensure_ascii=False).encode()


def _html(status: int, text: str) -> Response:
    return status, {"Content-Type": "text/html;charset=UTF-8"}, text.encode()


def _failure(mode: str) -> Response:
    """`garbage`: 200 with a truncated JSON body under a JSON type; anything else: a 500 error page."""
    if mode == "garbage":
        return 200, {"Content-Type": JSON_TYPE}, b'{"access_token": "tru'
    return _html(500, "<html><body><h1>500 Internal Server Error</h1></body></html>")


def _with_query(url: str, params: Params) -> str:
    return url + ("&" if urlsplit(url).query else "?") + urlencode(params)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    return unquote(client_id), unquote(secret)  # RFC 6749 §2.3.1 form-encodes both parts


class FakeProvider:
    """An OAuth2 provider on 127.0.0.1 and a free port; `kakao()` and `discord()` build the real ones."""

    name: str
    paths: Params  # authorize, token, userinfo
    default_scope: str
    deny_description = "User denied access"
    unknown_token_body: dict

    def __init__(self, client_id: str = "test-client-id", client_secret: str = "test-client-secret", next_user=None):
        self.client_id, self.client_secret = client_id, client_secret
        self.next_user: dict = next_user if next_user is not None else self.default_user()
        self.auto_approve = False
        self.fail_token: str | None = None
        self.fail_userinfo: str | None = None
        self.requests: list[Recorded] = []
        self.codes: dict[str, dict] = {}  # code -> the grant issued at authorization
        self.tokens: dict[str, dict] = {}  # access token -> user
        self._server: ThreadingHTTPServer | None = None

    @staticmethod
    def kakao(**kwargs) -> "KakaoProvider":
        return KakaoProvider(**kwargs)

    @staticmethod
    def discord(**kwargs) -> "DiscordProvider":
        return DiscordProvider(**kwargs)

    def start(self) -> "FakeProvider":
        self._server = serve(_Handler)
        self._server.provider = self
        base_url = f"http://127.0.0.1:{self._server.server_port}"
        self.authorize_url, self.token_url, self.userinfo_url = (
            base_url + self.paths[k] for k in ("authorize", "token", "userinfo")
        )
        return self

    def stop(self) -> None:
        shut(self._server)
        self._server = None

    def __enter__(self) -> "FakeProvider":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def handle(self, method: str, path: str, headers: Params, params: Params) -> Response:
        routes = {
            ("GET", self.paths["authorize"]): self._authorize,
            ("POST", self.paths["token"]): self._token,
            ("GET", self.paths["userinfo"]): self._userinfo,
            ("POST", self.paths["userinfo"]): self._userinfo,  # Kakao allows both
        }
        route = routes.get((method, path))
        return route(headers, params) if route else _json(404, {"message": "404: Not Found"})

    def check_authorize(self, params: Params) -> str | None:
        """Why this authorization request is refused, or None."""
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        if params.get("client_id") != self.client_id:
            return "invalid client_id"
        if not params.get("redirect_uri", "").startswith(("http://", "https://")):
            return "invalid redirect_uri"
        return None

    def _authorize(self, headers: Params, params: Params) -> Response:
        problem = self.check_authorize(params)
        if problem:
            return _html(400, f"<html><body><h1>{html.escape(problem)}</h1></body></html>")
        code, redirect_uri, scope = secrets.token_urlsafe(24), params["redirect_uri"], params.get("scope")
        grant = {"redirect_uri": redirect_uri, "client_id": params["client_id"], "scope": scope or self.default_scope}
        grant["code_challenge"] = params.get("code_challenge")
        self.codes[code] = grant | {"user": copy.deepcopy(self.next_user)}  # later changes must not leak into it
        state = {"state": params["state"]} if "state" in params else {}
        allow = _with_query(redirect_uri, {"code": code, **state})
        if self.auto_approve:
            return 302, {"Location": allow}, b""
        deny = _with_query(
            redirect_uri, {"error": "access_denied", "error_description": self.deny_description, **state}
        )
        page = CONSENT_PAGE.format(
            name=self.name, client=html.escape(self.client_id), allow=html.escape(allow), deny=html.escape(deny)
        )
        return _html(200, page)

    def token_error(self, status: int, error: str, description: str) -> Response:
        return _json(status, {"error": error, "error_description": description})

    def token_body(self, access_token: str, scope: str) -> dict:
        body = {"access_token": access_token, "token_type": "bearer", "expires_in": 21599}
        return body | {"refresh_token": secrets.token_urlsafe(32), "scope": scope}

    def _token(self, headers: Params, params: Params) -> Response:
        if self.fail_token:
            return _failure(self.fail_token)
        refusal = self.authenticate(headers, params)
        if refusal:
            return refusal
        if params.get("grant_type") != "authorization_code":
            return self.token_error(400, "unsupported_grant_type", "only authorization_code is supported")
        grant = self.codes.pop(params.get("code", ""), None)  # popped first: a code is spent even when refused
        if grant is None or grant["redirect_uri"] != params.get("redirect_uri"):
            return self.token_error(400, "invalid_grant", "authorization code not found or redirect_uri mismatch")
        if grant["code_challenge"] and _s256(params.get("code_verifier", "")) != grant["code_challenge"]:
            return self.token_error(400, "invalid_grant", "code_verifier does not match code_challenge")
        access_token = secrets.token_urlsafe(32)
        self.tokens[access_token] = grant["user"]
        return _json(200, self.token_body(access_token, grant["scope"]))

    def _userinfo(self, headers: Params, params: Params) -> Response:
        if self.fail_userinfo:
            return _failure(self.fail_userinfo)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        user = self.tokens.get(token) if scheme.lower() == "bearer" else None
        return _json(200, user) if user is not None else _json(401, self.unknown_token_body)


class KakaoProvider(FakeProvider):
    """Kakao Login: client_secret_post only, optional PKCE (S256)."""

    name = "Kakao"
    paths = {"authorize": "/oauth/authorize", "token": "/oauth/token", "userinfo": "/v2/user/me"}
    default_scope = "profile_nickname account_email"
    unknown_token_body = {"msg": "this access token does not exist", "code": -401}
    error_codes = {"invalid_client": "KOE010", "invalid_grant": "KOE320"}

    def default_user(self) -> dict:
        return kakao_user(email="kakao-user@example.com", nickname="블루베리", age_range="20~29", gender="female")

    def check_authorize(self, params: Params) -> str | None:
        bad_pkce = "code_challenge" in params and params.get("code_challenge_method") != "S256"
        return super().check_authorize(params) or ("code_challenge_method must be S256" if bad_pkce else None)

    def authenticate(self, headers: Params, params: Params) -> Response | None:
        # The real Kakao refuses HTTP Basic outright, whatever the credentials: the secret goes in the body.
        basic = headers.get("authorization", "").lower().startswith("basic")
        body = (params.get("client_id"), params.get("client_secret")) == (self.client_id, self.client_secret)
        return self.token_error(401, "invalid_client", "Bad client credentials") if basic or not body else None

    def token_error(self, status: int, error: str, description: str) -> Response:
        body = {"error": error, "error_description": description}
        if error in self.error_codes:
            body["error_code"] = self.error_codes[error]
        return _json(status, body)

    def token_body(self, access_token: str, scope: str) -> dict:
        return {**super().token_body(access_token, scope), "refresh_token_expires_in": 5183999}


class DiscordProvider(FakeProvider):
    """Discord OAuth2: client credentials by HTTP Basic or in the body; `identify` scope required."""

    name = "Discord"
    paths = {"authorize": "/oauth2/authorize", "token": "/api/oauth2/token", "userinfo": "/api/v10/users/@me"}
    default_scope = "identify email"
    deny_description = "The resource owner or authorization server denied the request"
    unknown_token_body = {"message": "401: Unauthorized", "code": 0}

    def default_user(self) -> dict:
        return discord_user(email="discord-user@example.com")

    def check_authorize(self, params: Params) -> str | None:
        no_identify = "identify" not in params.get("scope", "").split()
        return super().check_authorize(params) or ("scope must include identify" if no_identify else None)

    def authenticate(self, headers: Params, params: Params) -> Response | None:
        basic = _basic_credentials(headers.get("authorization", ""))
        given = basic or (params.get("client_id"), params.get("client_secret"))
        return _json(401, {"error": "invalid_client"}) if given != (self.client_id, self.client_secret) else None


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        provider: FakeProvider = self.server.provider
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query))
        if self.command == "POST":
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            params.update(parse_qsl(body.decode()))
        headers = {name.lower(): value for name, value in self.headers.items()}
        provider.requests.append(Recorded(self.command, url.path, headers, params))
        status, response_headers, body = provider.handle(self.command, url.path, headers, params)
        self.send_response(status)
        for name, value in {**response_headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean


@pytest.fixture
def fake_kakao():
    """A started fake Kakao, stopped after the test."""
    with FakeProvider.kakao() as provider:
        yield provider


@pytest.fixture
def fake_discord():
    """A started fake Discord, stopped after the test."""
    with FakeProvider.discord() as provider:
        yield provider
