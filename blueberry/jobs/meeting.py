"""Meetings' timed work: their moments (lobby, start, ending, end), offered places that lapse,
and the sweep that catches what a lost job missed."""

import logging

from blueberry.extensions import db
from blueberry.services import meeting_lifecycle, meeting_waitlist

log = logging.getLogger(__name__)


def reach_moment(meeting_id: int, moment: str) -> bool:
    """The timed job of one moment of one meeting (idempotent: a second run does nothing)."""
    handled = meeting_lifecycle.reach(meeting_id, moment)
    db.session.commit()
    return handled


def expire_offer(meeting_id: int, user_id: int) -> bool:
    """The timed job of an offered place: unanswered after its time, it passes to the next."""
    expired = meeting_waitlist.expire(meeting_id, user_id)
    db.session.commit()
    return expired


def sweep_meetings() -> int:
    """Moments and offers whose time passed while their job did not run (a worker or Redis was
    down)."""
    handled = meeting_lifecycle.sweep()
    db.session.commit()
    for meeting_id, user_id in meeting_waitlist.lapsed_offers():
        handled += meeting_waitlist.expire(meeting_id, user_id)
        db.session.commit()
    if handled:
        log.warning("the meeting sweep handled %d missed moments", handled)
    return handled
