"""Server-side login sessions: a cookie is only good while its row says so.

The signed cookie carries a random token; the database keeps its SHA-256, so logging out,
a password change or an operator can end a session even if someone copied the cookie.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from blueberry.extensions import db
from blueberry.models import User, UserSession
from blueberry.models.base import utcnow
from blueberry.realtime.events import SESSION_ENDED, publish_on_commit, session_topic

# Writing last_seen_at on every request would make every page a write.
TOUCH_EVERY = timedelta(minutes=5)


def token_hash(token: str) -> str:
    """What the database (and the session's live topic) knows a cookie token by."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, user_agent: str = "", ip: str = "") -> str:
    """Record a new session for `user` and return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=token_hash(token), user=user, user_agent=user_agent[:200], ip=ip[:45]))
    db.session.flush()
    return token


def find_session(token: str | None, lifetime: timedelta) -> UserSession | None:
    """The live session for a cookie token (not revoked, not idle past `lifetime`), with its user."""
    if not token:
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None or row.last_seen_at < utcnow() - lifetime:
        return None
    return row


def touch_session(row: UserSession) -> bool:
    """Move last_seen_at forward when it is stale; True when the caller should commit."""
    now = utcnow()
    if now - row.last_seen_at < TOUCH_EVERY:
        return False
    row.last_seen_at = now
    return True


def revoke_session(token: str | None) -> None:
    """End the session of this token (logout); its open streams and sockets close after commit."""
    if token:
        _revoke([token_hash(token)])


def revoke_other_sessions(user: User, keep_token: str | None) -> int:
    """End every session of `user` except the one with `keep_token`; returns how many."""
    query = select(UserSession.token_hash).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep_token:
        query = query.where(UserSession.token_hash != token_hash(keep_token))
    hashes = list(db.session.scalars(query))
    _revoke(hashes)
    return len(hashes)


def _revoke(hashes: list[str]) -> None:
    if not hashes:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash.in_(hashes), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    for digest in hashes:
        publish_on_commit(session_topic(digest), SESSION_ENDED, {})


def purge_stale_sessions(lifetime: timedelta, now: datetime | None = None) -> int:
    """Delete sessions revoked over a day ago or idle past `lifetime`; returns how many."""
    now = now or utcnow()
    result = db.session.execute(
        delete(UserSession).where(
            or_(UserSession.revoked_at < now - timedelta(days=1), UserSession.last_seen_at < now - lifetime)
        )
    )
    return result.rowcount
