from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import User


def test_create_admin_creates_a_staff_user(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "--username", "boss", "--password", "long-enough"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.is_staff).where(User.username == "boss")) is True


def test_create_admin_promotes_an_existing_user(app, make_user):
    make_user("mina")
    result = app.test_cli_runner().invoke(args=["create-admin", "--username", "mina", "--password", "ignored1"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(User.is_staff).where(User.username == "mina")) is True


def test_create_admin_refuses_a_bad_username(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "--username", "010-1234-5678", "--password", "x" * 9])
    assert result.exit_code != 0
    assert "starting with a letter" in result.output
