"""Paths to the app's pages from anywhere: a request, or a job in a worker, which has no request
and no SERVER_NAME for `url_for` to build with (notifications carry site-relative links)."""

from flask import current_app


def path_for(endpoint: str, **values) -> str:
    return current_app.url_map.bind("").build(endpoint, values)


def public_url_for(endpoint: str, **values) -> str:
    """An absolute link for mail, on PUBLIC_URL."""
    return current_app.config["PUBLIC_URL"] + path_for(endpoint, **values)
