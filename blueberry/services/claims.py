"""Claiming something for people once (models/claim.py): one INSERT … ON CONFLICT DO NOTHING
for a whole batch; what it returns is what this caller got, and acts for."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from blueberry.extensions import db
from blueberry.models import Claim

_INSERTS = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


@dataclass(frozen=True)
class Wanted:
    """One thing to claim for one person, and when it was due."""

    subject: str
    user_id: int
    due_at: datetime


def claim_all(kind: str, outcome: str, wanted: list[Wanted], now: datetime) -> set[tuple[str, int]]:
    """Claim each (kind, subject, person); the (subject, user id) pairs nobody had claimed."""
    if not wanted:
        return set()
    rows = [{"kind": kind, "subject": w.subject, "user_id": w.user_id, "outcome": outcome, "due_at": w.due_at,
             "done_at": now, "lateness_ms": max(0, int((now - w.due_at).total_seconds() * 1000))}
            for w in wanted]  # fmt: skip
    connection = db.session.connection()
    table = Claim.__table__
    statement = (
        _INSERTS[connection.dialect.name](table)
        .on_conflict_do_nothing(index_elements=["kind", "subject", "user_id"])
        .returning(table.c.subject, table.c.user_id)
    )
    return set(map(tuple, connection.execute(statement, rows).all()))


def claim(kind: str, subject: str, user_ids: list[int], outcome: str, *, due_at: datetime, now: datetime) -> set[int]:
    """Claim one subject for several people; the ids that were not claimed before."""
    got = claim_all(kind, outcome, [Wanted(subject, uid, due_at) for uid in user_ids], now)
    return {uid for _, uid in got}
