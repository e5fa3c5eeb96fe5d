"""SQL engine setup: SQLite gets WAL, a busy timeout and foreign keys on every connection."""

import contextlib

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from blueberry.extensions import db

BUSY_TIMEOUT_MS = 5000
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def init_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql://"):
        # psycopg 3 (it cooperates with gevent) rather than SQLAlchemy's psycopg2 default.
        app.config["SQLALCHEMY_DATABASE_URI"] = uri.replace("postgresql://", "postgresql+psycopg://", 1)
    db.init_app(app)
    if uri.startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextlib.contextmanager
def locked_fails_at_once():
    """SQLite: inside, a write that finds another process writing fails at once ("database is
    locked") instead of waiting in C, which would freeze every greenlet of this process. The
    caller rolls back, yields (gevent sleep) and tries again. Leave before the commit: the
    connection goes back to the pool with its usual busy timeout."""
    if not is_sqlite(db.engine):
        yield
        return
    raw = db.session.connection().connection.driver_connection
    raw.execute("PRAGMA busy_timeout=0")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def is_locked(error: OperationalError) -> bool:
    return "database is locked" in str(error.orig)
