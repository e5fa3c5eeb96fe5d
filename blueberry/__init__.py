"""Blueberry: meet people in real time. `create_app()` builds the Flask app."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from blueberry.config import INSTANCE, ROOT, Config


def create_app(config: type | dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, hooks."""
    app = Flask(__name__, instance_path=str(INSTANCE))
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    _check_config(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    return app


def _check_config(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set: export SECRET_KEY, or run `make run` to generate one in instance/.")
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)


def _init_extensions(app: Flask) -> None:
    from blueberry import (
        jobs,  # noqa: F401  (registers the after-commit enqueueing)
        models,  # noqa: F401  (registers every table with the metadata)
    )
    from blueberry.database import init_database
    from blueberry.extensions import babel, csrf, db, limiter, migrate, sock
    from blueberry.i18n import select_locale, select_timezone
    from blueberry.login import init_login
    from blueberry.oauth import init_oauth
    from blueberry.ratelimit import configure_limiter
    from blueberry.realtime import events  # noqa: F401  (registers the after-commit publishing)
    from blueberry.realtime.ws import server_options

    init_database(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    init_login(app)
    init_oauth(app)
    csrf.init_app(app)
    configure_limiter(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.config.setdefault("SOCK_SERVER_OPTIONS", server_options())
    sock.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from blueberry.blueprints import (
        auth,
        book,
        chat,
        live,
        main,
        match,
        meeting,
        news,
        notifications,
        ops,
        profiles,
        recommendation,
        requests,
        rooms,
        settings,
        unsubscribe,
    )
    from blueberry.cli import register_cli
    from blueberry.errors import register_error_handlers
    from blueberry.inputs import SQLIntConverter

    app.url_map.converters["int"] = SQLIntConverter  # before any route is added: they bind it

    for module in (main, auth, settings, notifications, live, match, rooms, requests, chat, profiles, book, meeting,
                   recommendation, news, ops, unsubscribe):  # fmt: skip
        app.register_blueprint(module.bp)
    ops.init_dashboard(app)
    register_error_handlers(app)
    register_cli(app)


def _register_hooks(app: Flask) -> None:
    from blueberry.bodylimit import init_body_limits
    from blueberry.headers import add_security_headers
    from blueberry.htmx import add_vary_hx_request
    from blueberry.templating import init_templating

    init_body_limits(app)
    app.after_request(add_security_headers)
    app.after_request(add_vary_hx_request)
    init_templating(app)
