"""Kakao and Discord through Authlib's Flask client: one registry per app, providers from config.

A provider is registered only when its client id and secret are set; its endpoints come from
config too (`KAKAO_AUTHORIZE_URL` …), so tests and staging can point them at local servers.
Kakao wants the client secret in the form body (`client_secret_post`) and gets PKCE (S256).
The registry is per app rather than the module-level one: Authlib caches clients by name, and
each app (each test) may have other endpoints.
"""

from dataclasses import dataclass

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    client_kwargs: dict


PROVIDERS = {
    "kakao": Provider(
        "kakao", "Kakao", {"token_endpoint_auth_method": "client_secret_post", "code_challenge_method": "S256"}
    ),
    "discord": Provider(
        "discord", "Discord", {"scope": "identify email", "token_endpoint_auth_method": "client_secret_post"}
    ),
}


def init_oauth(app: Flask) -> None:
    registry, configured = OAuth(app), []
    app.extensions["bb_oauth"], app.extensions["bb_oauth_providers"] = registry, configured
    for provider in PROVIDERS.values():
        prefix = provider.name.upper()
        if not (app.config.get(f"{prefix}_CLIENT_ID") and app.config.get(f"{prefix}_CLIENT_SECRET")):
            continue
        configured.append(provider)
        registry.register(
            provider.name,
            client_id=app.config[f"{prefix}_CLIENT_ID"],
            client_secret=app.config[f"{prefix}_CLIENT_SECRET"],
            authorize_url=app.config[f"{prefix}_AUTHORIZE_URL"],
            access_token_url=app.config[f"{prefix}_TOKEN_URL"],
            client_kwargs={**provider.client_kwargs, "timeout": app.config["OAUTH_TIMEOUT_S"]},
        )


def enabled() -> list[Provider]:
    """The providers whose buttons show (configured ones), in a stable order."""
    return list(current_app.extensions["bb_oauth_providers"])


def client(name: str):
    """The Authlib client for a configured provider, or None."""
    if name not in {provider.name for provider in enabled()}:
        return None
    return current_app.extensions["bb_oauth"].create_client(name)


def userinfo_url(name: str) -> str:
    return current_app.config[f"{name.upper()}_USERINFO_URL"]
