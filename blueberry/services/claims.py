"""Claiming something for people once (models/claim.py): one INSERT … ON CONFLICT DO NOTHING
for a whole batch; the ids it returns are the people this caller got, and acts for."""

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from blueberry.extensions import db
from blueberry.models import Claim

_INSERTS = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


def claim(kind: str, subject: str, user_ids: list[int], outcome: str, *, due_at: datetime, now: datetime) -> set[int]:
    """Claim (kind, subject) for each user; the ids that were not claimed before."""
    if not user_ids:
        return set()
    lateness = max(0, int((now - due_at).total_seconds() * 1000))
    rows = [{"kind": kind, "subject": subject, "user_id": uid, "outcome": outcome, "due_at": due_at, "done_at": now,
             "lateness_ms": lateness} for uid in user_ids]  # fmt: skip
    connection = db.session.connection()
    table = Claim.__table__
    statement = (
        _INSERTS[connection.dialect.name](table)
        .on_conflict_do_nothing(index_elements=["kind", "subject", "user_id"])
        .returning(table.c.user_id)
    )
    return set(connection.execute(statement, rows).scalars())
