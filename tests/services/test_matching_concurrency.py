"""200 seekers with random preferences joining and answering from 8 threads against real Redis.

Afterwards: nobody is in two offers, every offer is mutually compatible, and no two people
who fit each other are left waiting side by side.
"""

import itertools
import json
import random
import threading

import redis

from blueberry.services.matching import Engine, Limits, Seeker
from tests.match_queue import waiting

USERS, THREADS = 200, 8


def random_seeker(uid: int, rng: random.Random) -> Seeker:
    age = rng.randint(18, 60)
    low = rng.randint(18, 50)
    return Seeker(
        uid,
        f"u{uid}",
        age,
        rng.choice(["male", "female"]),
        low,
        rng.randint(low, 70),
        rng.choice(["male", "female", "any"]),
        50,
    )


def fits(a: Seeker, b: Seeker) -> bool:
    def accepts(x, y):
        return x.age_min <= y.age <= x.age_max and x.preferred_gender in ("any", y.gender)

    return accepts(a, b) and accepts(b, a)


def run_threads(work, chunks):
    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_concurrent_joins_and_answers_keep_every_invariant(redis_server):
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushdb()
    rng = random.Random(20261122)
    seekers = {uid: random_seeker(uid, rng) for uid in range(1, USERS + 1)}
    chunks = [list(seekers.values())[i::THREADS] for i in range(THREADS)]
    engine = Engine(client, Limits(scan=USERS))
    errors = []

    def join_all(chunk):
        try:
            for person in chunk:
                engine.connect(person, f"tok{person.user_id}", set())
                engine.join(person.user_id)
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)

    run_threads(join_all, chunks)

    def answer_all(chunk):  # both sides of an offer may answer at the same moment from two threads
        try:
            for _ in range(3):
                for person in chunk:
                    match_id = client.get(f"bb:match:user:{person.user_id}")
                    if match_id:
                        engine.respond(person.user_id, match_id, rng.random() < 0.7)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    run_threads(answer_all, chunks)
    assert errors == []
    check_invariants(client, seekers)


def check_invariants(client: redis.Redis, seekers: dict[int, Seeker]) -> None:
    offers = [json.loads(client.get(key)) for key in client.scan_iter("bb:match:offer:*")]
    in_offers = [int(uid) for offer in offers for uid in (offer["user1"], offer["user2"])]
    assert len(in_offers) == len(set(in_offers)), "someone is in two offers"
    for offer in offers:
        a, b = seekers[int(offer["user1"])], seekers[int(offer["user2"])]
        assert a.user_id != b.user_id and fits(a, b)
        for uid in (offer["user1"], offer["user2"]):
            assert client.get(f"bb:match:user:{uid}") == offer["match_id"]
    queued = [int(uid) for uid in waiting(client)]
    assert not set(queued) & set(in_offers), "someone waits while in an offer"
    for a, b in itertools.combinations(queued, 2):
        avoided = client.sismember(f"bb:match:avoid:{a}", b) or client.sismember(f"bb:match:avoid:{b}", a)
        assert avoided or not fits(seekers[a], seekers[b]), f"{a} and {b} fit but both wait"
    assert len(offers) > 20 and queued  # the run exercised both outcomes
