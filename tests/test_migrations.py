"""Migrations run from empty to head and back on SQLite and on a real PostgreSQL."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from blueberry import create_app
from blueberry.extensions import db
from blueberry.models import User
from tests.conftest import _config, get_csrf, login

TABLES = {
    "user", "user_session", "match_setting", "notification", "match_history", "matched_room", "block", "report",
    "conversation", "conversation_member", "message", "delivery_receipt", "attachment", "social_account",
}  # fmt: skip


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def _round_trip(app):
    with app.app_context():
        upgrade()
        assert _tables() >= TABLES
        downgrade(revision="base")
        assert _tables() == set()
        upgrade()
        assert _tables() >= TABLES


def test_sqlite_upgrade_from_empty_and_downgrade_to_empty(tmp_path, redis_server):
    app = create_app(_config(f"sqlite:///{tmp_path / 'm.db'}", redis_server.url))
    _round_trip(app)


@pytest.mark.postgres
def test_postgres_upgrade_from_empty_and_downgrade_to_empty(pg_app):
    _round_trip(pg_app)


@pytest.mark.postgres
def test_postgres_signup_and_phone_login(pg_app):
    with pg_app.app_context():
        upgrade()
        client = pg_app.test_client()
        data = {
            "username": "mina",
            "password": "long-enough",
            "age": "25",
            "gender": "female",
            "phone": "010-1234-5678",
            "csrf_token": get_csrf(client, "/auth/signup"),
        }
        assert client.post("/auth/signup", data=data).status_code == 303
        other = pg_app.test_client()
        again = {
            **data,
            "username": "other",
            "phone": "+82 10 1234 5678",
            "csrf_token": get_csrf(other, "/auth/signup"),
        }
        taken = other.post("/auth/signup", data=again)
        assert taken.status_code == 422 and "belongs to another account" in taken.get_data(as_text=True)
        assert login(pg_app.test_client(), "+82 10 1234 5678", "long-enough").status_code == 303
        user = db.session.scalar(select(User).where(User.username == "mina"))
        assert user.date_joined.tzinfo is not None and user.is_active and not user.is_staff
        db.session.remove()
