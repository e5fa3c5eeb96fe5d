"""The matching engine against real Redis: compatibility, order, exclusions, offers, cleanup."""

import json

import pytest
import redis

from blueberry.services.matching import Engine, Limits, Seeker
from tests.match_queue import waiting

T0 = 1_800_000_000.0


@pytest.fixture
def engine(redis_server):
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushdb()
    return Engine(client, Limits(offer_s=300, grace_s=30, presence_s=60, scan=200))


def seeker(uid, *, age=30, gender="female", age_min=18, age_max=99, pref="any", radius=50, name=None):
    return Seeker(uid, name or f"user{uid}", age, gender, age_min, age_max, pref, radius)


def queued(engine, scores=False):
    return waiting(engine.client, scores)


def online(engine, *seekers, avoid=None, now=T0):
    for s in seekers:
        engine.connect(s, f"tok{s.user_id}", (avoid or {}).get(s.user_id, set()), now=now)


def pair_of(state):
    """The two people of the offer a join made: the joiner (from the match id) and the partner."""
    view = state.get("view")
    return view and {int(uid) for uid in view["match_id"].split(":")[:2]} | {view["partner"]["id"]}


def test_two_compatible_people_get_one_offer_with_both_views(engine):
    online(engine, seeker(1, name="Mina"), seeker(2, age=34, gender="male", name="Jun"))
    assert engine.join(1, now=T0)["status"] == "queued"
    state = engine.join(2, now=T0 + 1)
    assert state["status"] == "offered" and pair_of(state) == {1, 2}
    assert state["view"]["partner"] == {"id": 1, "display_name": "Mina", "age": 30, "gender": "female"}
    assert state["view"]["expires_at"] == pytest.approx(T0 + 1 + 300)
    assert queued(engine) == []
    assert engine.client.get("bb:match:user:1") == engine.client.get("bb:match:user:2") == state["view"]["match_id"]
    stored = json.loads(engine.client.get(f"bb:match:offer:{state['view']['match_id']}"))
    assert stored["status"] == "pending" and stored["user1_response"] is None
    assert 300 < engine.client.ttl(f"bb:match:offer:{state['view']['match_id']}") <= 330


# (a, b, compatible): ages, ranges and preferences checked both ways, boundaries inclusive.
MATRIX = [
    (seeker(1, age=30, age_min=25, age_max=35), seeker(2, age=25, age_min=30, age_max=30), True),
    (seeker(1, age=30, age_min=26, age_max=35), seeker(2, age=25, age_min=30, age_max=30), False),  # b too young for a
    (seeker(1, age=31, age_min=25, age_max=35), seeker(2, age=25, age_min=30, age_max=30), False),  # a too old for b
    (seeker(1, age=40, age_min=18, age_max=99), seeker(2, age=20, age_min=18, age_max=25), False),  # one-way only
    (seeker(1, gender="female", pref="male"), seeker(2, gender="male", pref="female"), True),
    (seeker(1, gender="female", pref="male"), seeker(2, gender="male", pref="male"), False),  # b wants a man
    (seeker(1, gender="female", pref="female"), seeker(2, gender="male", pref="any"), False),  # a wants a woman
    (seeker(1, gender="male", pref="any"), seeker(2, gender="male", pref="any"), True),
    (seeker(1, gender="female", pref="any"), seeker(2, gender="male", pref="female"), True),
]


@pytest.mark.parametrize(("a", "b", "compatible"), MATRIX)
def test_compatibility_is_checked_both_ways(engine, a, b, compatible):
    online(engine, a, b)
    engine.join(1, now=T0)
    assert (engine.join(2, now=T0 + 1)["status"] == "offered") is compatible
    if not compatible:  # both wait, side by side, because they do not fit
        assert queued(engine) == ["1", "2"]


SEOUL, GANGNAM, BUSAN = (37.5665, 126.9780), (37.4979, 127.0276), (35.1796, 129.0756)  # ~9 km, ~325 km


@pytest.mark.parametrize(
    ("here", "there", "radii", "compatible"),
    [
        (SEOUL, GANGNAM, (10, 10), True),
        (SEOUL, GANGNAM, (10, 5), False),  # within a's radius, not b's
        (SEOUL, BUSAN, (400, 400), True),
        (SEOUL, BUSAN, (400, 300), False),
        (SEOUL, None, (1, 1), True),  # without a shared location, distance does not count
        (None, None, (1, 1), True),
    ],
)
def test_radius_counts_when_both_share_a_location(engine, here, there, radii, compatible):
    online(engine, seeker(1, radius=radii[0]), seeker(2, radius=radii[1]))
    engine.join(1, location=here, now=T0)
    assert (engine.join(2, location=there, now=T0 + 1)["status"] == "offered") is compatible


def test_the_oldest_compatible_waiting_user_is_offered_first(engine):
    # 2 and 3 do not fit each other (too young for each other's range); both fit 9.
    picky = {"age_min": 28, "age_max": 40}
    online(engine, seeker(1, gender="male", pref="male"), seeker(2, age=25, **picky), seeker(3, age=26, **picky))
    online(engine, seeker(9, age=30, pref="female"))
    engine.join(1, now=T0)  # waits longest, but fits nobody here
    engine.join(3, now=T0 + 1)  # waits longest among the fits
    engine.join(2, now=T0 + 2)
    assert pair_of(engine.join(9, now=T0 + 3)) == {3, 9}
    assert queued(engine) == ["1", "2"]


def test_fifo_among_many_fits(engine):
    people = [seeker(uid, gender="female", pref="male") for uid in range(1, 6)]
    online(engine, *people, seeker(10, gender="male", pref="female"), seeker(11, gender="male", pref="female"))
    for offset, person in enumerate(people):
        engine.join(person.user_id, now=T0 + offset)
    assert pair_of(engine.join(10, now=T0 + 10)) == {1, 10}
    assert pair_of(engine.join(11, now=T0 + 11)) == {2, 11}
    assert queued(engine) == ["3", "4", "5"]


def test_nobody_is_matched_with_themself_and_joining_twice_keeps_one_entry(engine):
    online(engine, seeker(1))
    assert engine.join(1, now=T0)["status"] == "queued"
    again = engine.join(1, now=T0 + 5)
    assert again == {"status": "queued", "since": T0 * 1000}
    assert queued(engine, scores=True) == [("1", T0 * 1000)]


def test_past_matches_and_blocks_are_never_offered(engine):
    online(engine, seeker(1), seeker(2), seeker(3), avoid={1: {2}, 3: {1}})
    engine.join(1, now=T0)
    assert engine.join(2, now=T0 + 1)["status"] == "queued"  # 1 avoids 2
    assert pair_of(engine.join(3, now=T0 + 2)) == {2, 3}  # 3 avoids 1; 2 and 3 fit
    engine.avoid(4, 5)  # a block made while both are searching
    online(engine, seeker(4), seeker(5))
    engine.join(4, now=T0 + 3)
    assert engine.join(5, now=T0 + 4)["status"] == "queued"


def test_joining_needs_a_live_connection(engine):
    assert engine.join(7, now=T0)["status"] == "offline"
    assert queued(engine) == []


def offer_for(engine, a=1, b=2, now=T0):
    online(engine, seeker(a), seeker(b), now=now)
    engine.join(a, now=now)
    return engine.join(b, now=now + 1)["view"]["match_id"]


def test_both_accept_is_a_match_and_finish_releases_the_offer(engine):
    match_id = offer_for(engine)
    first = engine.respond(1, match_id, True, now=T0 + 2)
    assert first["status"] == "accepted" and first["view"]["you_accepted"] and not first["view"]["partner_accepted"]
    second = engine.respond(2, match_id, True, now=T0 + 3)
    assert second["status"] == "matched"
    assert second["offer"]["user1_response"] == second["offer"]["user2_response"] == "accept"
    engine.finish(match_id)
    assert not engine.client.exists(f"bb:match:offer:{match_id}", "bb:match:user:1", "bb:match:user:2")


def test_an_answer_to_someone_elses_or_an_expired_offer_changes_nothing(engine):
    match_id = offer_for(engine)
    online(engine, seeker(3))
    assert engine.respond(3, match_id, True, now=T0 + 2) == {"status": "error", "code": "not_found"}
    assert engine.respond(1, "1:2:999", True, now=T0 + 2)["code"] == "not_found"
    assert json.loads(engine.client.get(f"bb:match:offer:{match_id}"))["user1_response"] is None
    assert engine.respond(1, match_id, True, now=T0 + 302)["code"] == "expired"
    assert not engine.client.exists(f"bb:match:offer:{match_id}")


def test_decline_requeues_an_accepter_at_their_old_place_and_not_the_decliner(engine):
    online(engine, seeker(3))
    engine.join(3, now=T0 - 50)  # waiting longer than both, but not a fit for either
    engine.avoid(3, 1)
    engine.avoid(3, 2)
    match_id = offer_for(engine)
    engine.respond(1, match_id, True, now=T0 + 2)
    assert engine.respond(2, match_id, False, now=T0 + 3)["status"] == "declined"
    assert queued(engine, scores=True) == [("3", (T0 - 50) * 1000), ("1", T0 * 1000)]
    assert engine.client.sismember("bb:match:avoid:1", "2")  # not offered to each other again
    engine.leave(1)
    assert engine.join(2, now=T0 + 4)["status"] == "queued"


def test_decline_requeues_the_other_side_even_before_they_answered(engine):
    match_id = offer_for(engine)
    assert engine.respond(1, match_id, False, now=T0 + 3)["status"] == "declined"
    assert queued(engine, scores=True) == [("2", (T0 + 1) * 1000)]  # 2 keeps their place; 1 is idle


def test_timeout_requeues_the_accepter_and_drops_the_non_responder(engine):
    match_id = offer_for(engine)
    engine.respond(2, match_id, True, now=T0 + 5)
    assert engine.expire(match_id, now=T0 + 100)["status"] == "noop"  # not yet due
    assert engine.expire(match_id, now=T0 + 301)["status"] == "expired"
    assert engine.expire(match_id, now=T0 + 302)["status"] == "noop"  # once only
    assert queued(engine, scores=True) == [("2", (T0 + 1) * 1000)]
    assert not engine.client.exists("bb:match:user:1", "bb:match:user:2")


def test_presence_expires_with_its_ttl_and_the_sweep_drops_the_ghost(engine):
    short = Engine(engine.client, Limits(presence_s=0.2))
    short.connect(seeker(1), "tok1", set())
    short.join(1)
    assert engine.client.pttl("bb:match:online:1") <= 200
    engine.client.execute_command("DEBUG", "SLEEP", "0.3")
    assert not engine.client.exists("bb:match:online:1")
    assert short.sweep()["ghosts"] == 1
    assert queued(engine) == []


def test_disconnect_cleans_up_and_requeues_the_partner_at_the_front(engine):
    match_id = offer_for(engine)
    online(engine, seeker(5))
    engine.avoid(5, 2)
    engine.join(5, now=T0 + 5)
    assert engine.disconnect(1, "tok1", now=T0 + 6)["status"] == "gone"
    assert not engine.client.exists("bb:match:online:1", f"bb:match:offer:{match_id}", "bb:match:user:2")
    queue = queued(engine, scores=True)
    assert queue == [("2", (T0 + 1) * 1000), ("5", (T0 + 5) * 1000)]  # 2 keeps its place, ahead of 5


def test_a_newer_connection_replaces_the_older_which_then_cleans_up_nothing(engine):
    engine.connect(seeker(1), "tab-a", set(), now=T0)
    engine.join(1, now=T0)
    state = engine.connect(seeker(1), "tab-b", set(), now=T0 + 1)
    assert state == {"status": "queued", "since": T0 * 1000}
    assert engine.heartbeat(1, "tab-a")["status"] == "replaced"
    assert engine.disconnect(1, "tab-a")["status"] == "replaced"
    assert queued(engine) == ["1"]


def test_events_are_published_to_both_users(engine):
    pubsub = engine.client.pubsub()
    pubsub.subscribe("bb:seeker:1", "bb:seeker:2")
    for _ in range(2):
        pubsub.get_message(timeout=1)
    match_id = offer_for(engine)
    engine.respond(2, match_id, True, now=T0 + 2)
    engine.respond(1, match_id, False, now=T0 + 3)
    seen = []
    while message := pubsub.get_message(timeout=0.5):
        body = json.loads(message["data"].partition("\n")[2])
        seen.append((message["channel"], body["type"], body["data"].get("reason"), body["data"].get("requeued")))
    assert seen == [
        ("bb:seeker:1", "match.offer", None, None),
        ("bb:seeker:2", "match.offer", None, None),
        ("bb:seeker:1", "match.partner_accepted", None, None),
        ("bb:seeker:1", "match.ended", "declined", False),
        ("bb:seeker:2", "match.ended", "declined", True),
    ]


def test_census_counts_who_fits_and_why_others_do_not(engine):
    me = seeker(1, age=30, gender="female", age_min=25, age_max=35, pref="male")
    others = [
        seeker(2, age=30, gender="male"),  # fits
        seeker(3, age=40, gender="male"),  # too old for me
        seeker(4, age=30, gender="female"),  # not the gender I want
        seeker(5, age=30, gender="male", age_min=18, age_max=25),  # I am too old for them
        seeker(6, age=31, gender="male"),  # met before
    ]
    online(engine, me, *others, avoid={1: {6}})
    assert engine.census(1, now=T0 + 1) == {
        "online": 5,
        "compatible": 1,
        "not_for_me": 2,
        "not_for_them": 1,
        "too_far": 0,
        "met": 1,
    }


def test_reconnecting_with_new_settings_keeps_the_place_and_uses_the_new_settings(engine):
    online(engine, seeker(1, age_min=40, age_max=50))  # wants someone 40–50
    engine.join(1, now=T0)
    online(engine, seeker(2, age=30), now=T0 + 1)
    assert engine.join(2, now=T0 + 1)["status"] == "queued"  # 30 is too young for 1
    engine.leave(2, now=T0 + 2)
    engine.connect(seeker(1, age_min=25, age_max=35), "tok1", set(), now=T0 + 3)  # widened
    assert queued(engine, scores=True) == [("1", T0 * 1000)]
    assert pair_of(engine.join(2, now=T0 + 4)) == {1, 2}


def test_a_sweep_looks_at_a_bounded_part_of_a_huge_queue_and_resumes_where_it_stopped(engine):
    people = 3000
    for uid in range(1, people + 1):  # women who want men: none of them fits another
        engine.connect(seeker(uid, pref="male"), f"tok{uid}", set(), now=T0)
        engine.join(uid, now=T0)
    assert len(queued(engine)) == people
    later = T0 + 3600  # every presence has lapsed: all are ghosts
    for uid in range(1, people + 1):
        engine.client.delete(f"bb:match:online:{uid}")
    first = engine.sweep(batch=100, now=later)["ghosts"]
    assert 0 < first < people // 4  # a bounded step, not the whole queue in one script run
    runs = 1
    while queued(engine) and runs < 100:
        engine.sweep(batch=100, now=later)
        runs += 1
    assert queued(engine) == [] and not engine.client.hlen("bb:match:seekers")
