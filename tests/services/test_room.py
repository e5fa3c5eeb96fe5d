"""Durable match records: one history row per pair, ever; rooms end but stay."""

import pytest
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.models import MatchedRoom, MatchHistory
from blueberry.services import room as rooms


def test_record_match_writes_ordered_history_and_opens_a_room(app, make_user):
    mina, jun = make_user("mina"), make_user("jun")
    room = rooms.record_match(jun.id, mina.id)
    db.session.commit()
    assert (room.user1_id, room.user2_id) == (min(mina.id, jun.id), max(mina.id, jun.id))
    assert room.is_open and room.has_member(mina.id) and room.has_member(jun.id)
    assert rooms.have_matched(mina.id, jun.id) and rooms.have_matched(jun.id, mina.id)


def test_the_same_pair_is_never_matched_twice_in_either_order(app, make_user):
    mina, jun = make_user("mina"), make_user("jun")
    rooms.record_match(mina.id, jun.id)
    db.session.commit()
    with pytest.raises(rooms.AlreadyMatched):
        rooms.record_match(jun.id, mina.id)
    db.session.commit()  # the first match is intact
    assert db.session.scalar(select(func.count()).select_from(MatchHistory)) == 1
    assert db.session.scalar(select(func.count()).select_from(MatchedRoom)) == 1


def test_no_self_match(app, make_user):
    mina = make_user("mina")
    with pytest.raises(ValueError):
        rooms.record_match(mina.id, mina.id)


def test_ending_a_room_keeps_it(app, make_user):
    mina, jun = make_user("mina"), make_user("jun")
    room = rooms.record_match(mina.id, jun.id)
    assert rooms.end_room(room, "left") is True
    assert rooms.end_room(room, "partner_left") is False
    db.session.commit()
    kept = db.session.get(MatchedRoom, room.id)
    assert not kept.is_open and kept.end_reason == "left" and kept.ended_at.tzinfo is not None
