"""Request body limits: MAX_CONTENT_LENGTH for every route, a larger one where a view asks.

The larger limit must be in force before anything reads the body, and CSRF protection reads
the form in a `before_request` hook of its own; so the view declares its limit with
`@body_limit(...)` and the app's first hook applies it. A body announced larger than the limit
gets 413 from its Content-Length alone, before a byte of it is read.
"""

from collections.abc import Callable

from flask import Flask, current_app, request


def body_limit(config_key: str, envelope: int = 0) -> Callable:
    """Let this view take bodies of `config[config_key]` bytes plus `envelope` (multipart headers,
    other fields). Put it right under the route decorator."""

    def declare(view: Callable) -> Callable:
        view.body_limit = (config_key, envelope)
        return view

    return declare


def apply_body_limit() -> None:
    declared = getattr(current_app.view_functions.get(request.endpoint or ""), "body_limit", None)
    if declared is not None:
        config_key, envelope = declared
        request.max_content_length = current_app.config[config_key] + envelope


def init_body_limits(app: Flask) -> None:
    """Run before every other `before_request` hook (CSRF's included)."""
    app.before_request_funcs.setdefault(None, []).insert(0, apply_body_limit)
