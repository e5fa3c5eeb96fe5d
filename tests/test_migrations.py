"""Migrations run from empty to head and back on SQLite and on a real PostgreSQL."""

import uuid
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from blueberry import create_app
from blueberry.extensions import db
from blueberry.models import User
from tests.conftest import _config, get_csrf, login

TABLES = {
    "user", "user_session", "match_setting", "notification", "match_history", "matched_room", "block", "report",
    "conversation", "conversation_member", "message", "attachment", "social_account", "message_request",
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


def _drift(app) -> list:
    """What autogenerate would change: the migrations must build exactly what the models say."""
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, db.metadata)


def test_sqlite_migrations_build_what_the_models_say(tmp_path, redis_server):
    assert _drift(create_app(_config(f"sqlite:///{tmp_path / 'm.db'}", redis_server.url))) == []


@pytest.mark.postgres
def test_postgres_migrations_build_what_the_models_say(pg_app):
    assert _drift(pg_app) == []


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


def _receipts_through_0007(app):
    """Receipt rows become positions and back: each status reads the same on both sides."""
    with app.app_context():
        upgrade(revision="0006")
        mina, jun = _user_ids(2)
        run = db.session.execute
        run(text("INSERT INTO conversation (id, kind, origin, last_seq, created_at, updated_at) "
                 "VALUES (:id, 'direct', 'match', 3, :now, :now)"), {"id": CID, "now": NOW})  # fmt: skip
        for uid in (mina, jun):
            run(text("INSERT INTO conversation_member (conversation_id, user_id, joined_at, last_read_seq, "
                     "hide_read_receipts) VALUES (:cid, :uid, :now, :read, false)"),
                {"cid": CID, "uid": uid, "now": NOW, "read": 1 if uid == jun else 0})  # fmt: skip
        for seq, status in ((1, "read"), (2, "delivered"), (3, "sent")):
            mid = uuid.UUID(int=seq).hex  # how SQLite stores a UUID; PostgreSQL reads it too
            run(text("INSERT INTO message (id, conversation_id, sender_id, seq, client_id, content, type, "
                     "created_at, updated_at, is_deleted) VALUES (:id, :cid, :uid, :seq, :seq, 'hi', 'text', "
                     ":now, :now, false)"), {"id": mid, "cid": CID, "uid": mina, "seq": seq, "now": NOW})  # fmt: skip
            receipt = {"mid": mid, "uid": jun, "status": status, "now": NOW}
            run(text("INSERT INTO delivery_receipt (message_id, user_id, status, updated_at) "
                     "VALUES (:mid, :uid, :status, :now)"), receipt)  # fmt: skip
        db.session.commit()
        upgrade(revision="0007")
        positions = run(text("SELECT user_id, delivered_seq, last_read_seq FROM conversation_member"))
        assert sorted(positions.all()) == sorted([(mina, 0, 0), (jun, 2, 1)])
        db.session.commit()
        downgrade(revision="0006")
        rows = run(text("SELECT message_id, user_id, status FROM delivery_receipt")).all()
        assert sorted((uuid.UUID(str(mid)).int, uid, status) for mid, uid, status in rows) == [
            (1, jun, "read"), (2, jun, "delivered"), (3, jun, "sent"),
        ]  # fmt: skip
        db.session.commit()


CID, NOW = uuid.UUID(int=99).hex, datetime(2026, 12, 1, tzinfo=UTC)


def _user_ids(n: int) -> list[int]:
    for name in ("mina", "jun")[:n]:
        db.session.execute(
            text('INSERT INTO "user" (username, password_hash, display_name, age, gender, date_joined) '
                 "VALUES (:name, 'x', :name, 30, 'female', :now)"), {"name": name, "now": NOW},
        )  # fmt: skip
    return list(db.session.scalars(text('SELECT id FROM "user" ORDER BY id')))


def test_sqlite_receipt_rows_become_positions_and_back(tmp_path, redis_server):
    _receipts_through_0007(create_app(_config(f"sqlite:///{tmp_path / 'm.db'}", redis_server.url)))


@pytest.mark.postgres
def test_postgres_receipt_rows_become_positions_and_back(pg_app):
    _receipts_through_0007(pg_app)
