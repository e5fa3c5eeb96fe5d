"""Operator commands: `flask create-admin`, `flask notify`."""

import click
from flask import Flask, current_app

from blueberry.extensions import db
from blueberry.services import accounts, notifications
from blueberry.services.errors import FieldError


@click.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--age", default=30, show_default=True, type=click.IntRange(18, 120))
@click.option("--gender", default="female", type=click.Choice(["male", "female"]))
def create_admin(username: str, password: str, age: int, gender: str) -> None:
    """Create a staff user (or make an existing one staff) for the RQ dashboard."""
    user = accounts.find_login_user(username)
    if user is None:
        data = accounts.SignupData(username=username, password=password, age=age, gender=gender)
        try:
            user = accounts.create_user(data, current_app.config["PHONE_DEFAULT_REGION"])
        except FieldError as error:
            raise click.BadParameter(str(error.message), param_hint=error.field) from error
    user.is_staff = True
    db.session.commit()
    click.echo(f"{user.username} is staff.")


@click.command("notify")
@click.argument("username")
@click.argument("text")
@click.option("--body", default="", help="A second line under the title.")
@click.option("--link", default="", help="A path on this site the notification opens.")
def notify(username: str, text: str, body: str, link: str) -> None:
    """Send USERNAME a notification: stored in their inbox, shown live if they are online."""
    user = accounts.find_login_user(username, current_app.config["PHONE_DEFAULT_REGION"])
    if user is None:
        raise click.BadParameter(f"no user {username!r}", param_hint="username")
    note = notifications.notify(user, text, body=body, link=link, kind="operator")
    db.session.commit()
    click.echo(f"notification {note.id} sent to {user.username}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(notify)
