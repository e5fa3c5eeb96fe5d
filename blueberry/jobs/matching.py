"""Periodic matching cleanup: what crashed processes left in Redis, and rooms nobody is in."""

import logging
from datetime import timedelta

from flask import current_app

from blueberry.extensions import db, get_redis
from blueberry.models.base import utcnow
from blueberry.services import room as rooms
from blueberry.services import room_presence
from blueberry.services.matching import Engine, limits_from

log = logging.getLogger(__name__)


def sweep_matching() -> dict:
    """Drop queue ghosts and stale presence, expire overdue offers, end rooms left empty."""
    swept = Engine(get_redis(), limits_from(current_app.config)).sweep()
    swept["rooms"] = end_empty_rooms(current_app.config["ROOM_EMPTY_GRACE_S"])
    log.info("matching sweep: %s", swept)
    return swept


def end_empty_rooms(grace_s: int) -> int:
    """End open rooms older than the grace period that nobody has been in for a while."""
    client, ended = get_redis(), 0
    candidates = rooms.open_rooms_before(utcnow() - timedelta(seconds=grace_s))
    empty = [room for room in candidates if not room_presence.anyone_present(client, room.id)]
    for room in empty:
        ended += rooms.end_room(room, "abandoned")
    db.session.commit()
    return ended
