"""Periodic housekeeping jobs."""

import logging

from flask import current_app

from blueberry.extensions import db, get_redis
from blueberry.services import maintenance, sessions

log = logging.getLogger(__name__)


def purge_stale_state() -> dict:
    """Delete ended and idle login sessions and ephemeral Redis keys left without a TTL."""
    purged = sessions.purge_stale_sessions(current_app.permanent_session_lifetime)
    db.session.commit()
    swept = maintenance.sweep_orphan_keys(get_redis())
    log.info("purged %d sessions, swept %d keys", purged, swept)
    return {"sessions": purged, "keys": swept}
