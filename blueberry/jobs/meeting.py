"""Meetings' timed moments (lobby, start, ending, end) and the sweep that catches missed ones."""

import logging

from blueberry.extensions import db
from blueberry.services import meeting_lifecycle

log = logging.getLogger(__name__)


def reach_moment(meeting_id: int, moment: str) -> bool:
    """The timed job of one moment of one meeting (idempotent: a second run does nothing)."""
    handled = meeting_lifecycle.reach(meeting_id, moment)
    db.session.commit()
    return handled


def sweep_meetings() -> int:
    """Moments whose time passed while their job did not run (a worker or Redis was down)."""
    handled = meeting_lifecycle.sweep()
    db.session.commit()
    if handled:
        log.warning("the meeting sweep handled %d missed moments", handled)
    return handled
