"""Notifications: send one (stored, then published after commit), read them, catch up."""

from dataclasses import dataclass

from sqlalchemy import func, insert, select, update

from blueberry.extensions import db
from blueberry.models import Notification, User
from blueberry.models.base import utcnow
from blueberry.realtime.events import NOTIFICATION_NEW, NOTIFICATION_READ, make_event, publish_on_commit, user_topic

PAGE_SIZE = 50
CATCH_UP_LIMIT = 200


def unread_count(user_id: int) -> int:
    query = select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    return db.session.scalar(query) or 0


def latest_id(user_id: int) -> int:
    """The newest notification id of the user (0 if none): where a freshly rendered page stands."""
    return db.session.scalar(select(func.max(Notification.id)).where(Notification.user_id == user_id)) or 0


def event_data(note: Notification, unread: int) -> dict:
    return {
        "notification_id": note.id,
        "kind": note.kind,
        "title": note.title,
        "body": note.body,
        "link": note.link,
        "created_at": note.created_at.isoformat(),
        "unread": unread,
    }


def notify(user: User, title: str, body: str = "", link: str = "", kind: str = "message") -> Notification:
    """Store a notification and publish it to the user once the transaction commits."""
    note = Notification(user_id=user.id, kind=kind, title=title[:200], body=body, link=link[:500])
    db.session.add(note)
    db.session.flush()
    publish_on_commit(user_topic(user.id), NOTIFICATION_NEW, event_data(note, unread_count(user.id)))
    return note


@dataclass(frozen=True)
class Note:
    """One notification to store: for whom, what it says, where it leads."""

    user_id: int
    title: str
    link: str = ""
    body: str = ""


def notify_many(user_ids: list[int], title: str, body: str = "", link: str = "", kind: str = "operator") -> int:
    """The same notification to many users at once."""
    return notify_each([Note(user_id, title, link, body) for user_id in user_ids], kind)


def notify_each(notes: list[Note], kind: str) -> int:
    """Notifications of one kind to many users at once, each its own words: one insert, one
    count query, published after the commit."""
    if not notes:
        return 0
    created_at = utcnow()
    rows = [{"user_id": n.user_id, "kind": kind, "title": n.title[:200], "body": n.body, "link": n.link[:500],
             "created_at": created_at} for n in notes]  # fmt: skip
    table = Notification.__table__  # Core, not the ORM's bulk path: a thousand rows in one statement
    ids = db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
    user_ids = list({n.user_id for n in notes})
    unread = dict(
        db.session.execute(
            select(Notification.user_id, func.count())
            .where(Notification.user_id.in_(user_ids), Notification.read_at.is_(None))
            .group_by(Notification.user_id)
        ).all()
    )
    for note_id, row in zip(ids, rows, strict=True):
        shown = {key: row[key] for key in ("kind", "title", "body", "link")}
        data = {"notification_id": note_id, **shown, "created_at": created_at.isoformat(),
                "unread": unread.get(row["user_id"], 1)}  # fmt: skip
        publish_on_commit(user_topic(row["user_id"]), NOTIFICATION_NEW, data)
    return len(ids)


def list_notifications(user_id: int, before_id: int | None = None) -> list[Notification]:
    """The newest PAGE_SIZE notifications, older than `before_id` when paging."""
    query = select(Notification).where(Notification.user_id == user_id)
    if before_id:
        query = query.where(Notification.id < before_id)
    return list(db.session.scalars(query.order_by(Notification.id.desc()).limit(PAGE_SIZE)))


def mark_read(user_id: int, notification_id: int) -> Notification | None:
    """Mark one of the user's notifications read; None if it is not theirs (or does not exist)."""
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user_id:
        return None
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.flush()
        _publish_read(user_id, [notification_id])
    return note


def mark_all_read(user_id: int) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    _publish_read(user_id, [])


def _publish_read(user_id: int, ids: list[int]) -> None:
    """Other tabs and devices update their badge (an empty id list means all)."""
    publish_on_commit(user_topic(user_id), NOTIFICATION_READ, {"ids": ids, "unread": unread_count(user_id)})


def missed_events(user_id: int, after_id: int) -> list[dict]:
    """Notification events after `after_id`, oldest first, from SQL (what Redis may have lost)."""
    query = (
        select(Notification)
        .where(Notification.user_id == user_id, Notification.id > after_id)
        .order_by(Notification.id)
        .limit(CATCH_UP_LIMIT)
    )
    notes = list(db.session.scalars(query))
    unread = unread_count(user_id) if notes else 0
    return [make_event(NOTIFICATION_NEW, event_data(note, unread)) for note in notes]
