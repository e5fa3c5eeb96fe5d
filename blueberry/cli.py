"""Operator commands: `flask create-admin`, `flask notify`, `flask books ingest|sample`,
`flask news ingest|sample`."""

import click
from flask import Flask, current_app

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.jobs import news as news_jobs
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


@click.group("books")
def books() -> None:
    """The book catalog."""


@books.command("ingest")
def books_ingest() -> None:
    """Fetch Aladin's bestsellers now (ALADIN_TTB_KEY) and store them, with progress."""
    pages = current_app.config["ALADIN_PAGES"]
    with click.progressbar(length=pages * 2, label="Aladin bestsellers", show_pos=True) as bar:
        try:
            counts = book_jobs.ingest_bestsellers(progress=lambda what, done: bar.update(1))
        except book_jobs.IngestFailed as error:
            raise click.ClickException(f"nothing was written: {error}") from None
    click.echo(_summary(counts))


@books.command("sample")
@click.option("--if-empty", is_flag=True, help="Only when the catalog has no books yet (what make run does).")
def books_sample(if_empty: bool) -> None:
    """Load the sample catalog shipped in blueberry/data/ (no key needed)."""
    counts = book_jobs.load_sample(if_empty=if_empty)
    click.echo("The catalog has books already: sample not loaded." if counts is None else _summary(counts))


@click.group("news")
def news() -> None:
    """The news feed."""


@news.command("ingest")
def news_ingest() -> None:
    """Fetch every configured feed now and store the new stories, source by source."""
    try:
        counts = news_jobs.ingest_news(progress=lambda name, outcome: click.echo(f"  {name}: {outcome}"))
    except news_jobs.IngestFailed as error:
        raise click.ClickException(f"nothing was fetched: {error}") from None
    click.echo(_news_summary(counts))


@news.command("sample")
@click.option("--if-empty", is_flag=True, help="Only when there are no articles yet (what make run does).")
def news_sample(if_empty: bool) -> None:
    """Store the sample feeds shipped in blueberry/data/news/ (nothing is fetched)."""
    counts = news_jobs.load_samples(if_empty=if_empty)
    click.echo("There are articles already: samples not loaded." if counts is None else _news_summary(counts))


def _news_summary(counts: dict) -> str:
    summary = (f"{counts['fetched']} feeds read, {counts['not_modified']} not modified, {counts['failed']} failed; "
               f"{counts['new']} new stories, {counts['duplicate']} duplicates, "
               f"{counts['skipped']} skipped")  # fmt: skip
    details = [f"{name}: {reason}" for name, reason in sorted(counts["failures"].items())]
    details += [f"skipped, {reason}: {n}" for reason, n in sorted(counts["skip_reasons"].items())]
    return "\n".join([summary, *(f"  {line}" for line in details)])


def _summary(counts: dict) -> str:
    reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(counts["skip_reasons"].items()))
    summary = (f"{counts['fetched']} fetched, {counts['added']} added, {counts['updated']} updated, "
               f"{counts['unchanged']} unchanged, {counts['skipped']} skipped")  # fmt: skip
    return summary + (f" ({reasons})" if reasons else "")


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(notify)
    app.cli.add_command(books)
    app.cli.add_command(news)
