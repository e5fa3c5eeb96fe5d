from datetime import timedelta

from blueberry.extensions import db
from blueberry.services import sessions


def test_session_token_is_stored_hashed_and_found(app, make_user):
    user = make_user("mina")
    token = sessions.start_session(user, "agent", "127.0.0.1")
    db.session.commit()
    row = sessions.find_session(token, timedelta(days=1))
    assert row.user_id == user.id and row.token_hash != token
    assert sessions.find_session("forged", timedelta(days=1)) is None


def test_revoked_and_idle_sessions_are_not_found(app, make_user):
    user = make_user("mina")
    revoked, idle = sessions.start_session(user), sessions.start_session(user)
    sessions.revoke_session(revoked)
    db.session.commit()
    assert sessions.find_session(revoked, timedelta(days=1)) is None
    assert sessions.find_session(idle, timedelta(seconds=-1)) is None
    assert sessions.find_session(idle, timedelta(days=1)) is not None


def test_revoke_other_sessions_keeps_the_current_one(app, make_user):
    user, other = make_user("mina"), make_user("jun")
    keep, drop1, drop2 = (sessions.start_session(user) for _ in range(3))
    theirs = sessions.start_session(other)
    assert sessions.revoke_other_sessions(user, keep) == 2
    db.session.commit()
    lifetime = timedelta(days=1)
    assert sessions.find_session(keep, lifetime) and sessions.find_session(theirs, lifetime)
    assert not sessions.find_session(drop1, lifetime) and not sessions.find_session(drop2, lifetime)
