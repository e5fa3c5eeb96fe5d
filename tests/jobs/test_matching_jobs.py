"""The matching sweep: ghosts and overdue offers in Redis, and voice rooms left empty."""

from datetime import timedelta

from blueberry.extensions import db, get_redis
from blueberry.jobs.matching import sweep_matching
from blueberry.models.base import utcnow
from blueberry.services import room as rooms
from blueberry.services import room_presence
from blueberry.services.matching import Engine, Limits, Seeker
from tests.match_queue import waiting


def test_sweep_drops_a_crashed_seeker_and_ends_rooms_nobody_came_back_to(app, make_user):
    engine = Engine(get_redis(), Limits())
    engine.connect(Seeker(1, "a", 30, "male", 18, 99, "any", 5), "tok", set())
    engine.join(1)
    get_redis().delete("bb:match:online:1")  # the process died: its presence has lapsed
    mina, jun, ara, bo = (make_user(name) for name in ("mina", "jun", "ara", "bora"))
    empty = rooms.record_match(mina.id, jun.id)
    busy = rooms.record_match(ara.id, bo.id)
    fresh_and_empty = rooms.record_match(mina.id, bo.id)
    empty.matched_at = busy.matched_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    room_presence.enter(get_redis(), busy.id, ara.id, "tok")

    swept = sweep_matching()

    assert swept["ghosts"] == 1 and waiting(get_redis()) == []
    assert swept["rooms"] == 1
    db.session.expire_all()
    assert empty.end_reason == "abandoned" and not empty.is_open
    assert busy.is_open and fresh_and_empty.is_open  # someone is in it / still within the grace
