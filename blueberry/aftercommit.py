"""Work held on the SQL session until its transaction commits, and dropped on rollback.

Events are published and jobs enqueued only after the data they point at is committed, so
no client or worker ever looks for a row that is not there yet.
"""

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from blueberry.extensions import db

_handlers: dict[str, Callable[[list], None]] = {}


def _key(kind: str) -> str:
    return f"bb_after_commit_{kind}"


def defer(kind: str, item) -> None:
    """Hold `item` for the `kind` handler until the current transaction commits."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even before any SQL, drops the item
    session.info.setdefault(_key(kind), []).append(item)


def on_commit(kind: str, handler: Callable[[list], None]) -> None:
    """Register the handler that receives the items of `kind` after each commit."""
    _handlers[kind] = handler
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)


def _after_commit(session: Session) -> None:
    for kind, handler in _handlers.items():
        items = session.info.pop(_key(kind), None)
        if items:
            handler(items)


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.nested:  # a savepoint's rollback keeps the outer transaction's items
        return
    for kind in _handlers:
        session.info.pop(_key(kind), None)
