"""Presence announcements go out in the order of the changes they describe: the last one a
room hears always shows who is there, however arrivals and departures interleave."""

import json
import threading

from blueberry.realtime.events import conversation_topic
from blueberry.services.presence import KEY, Presence, settle, snapshot

CONFIG = {"PRESENCE_TTL_S": 30, "PRESENCE_GRACE_S": 10, "PRESENCE_BEAT_S": 10}


def heard(pubsub) -> list[dict]:
    events = []
    while (message := pubsub.get_message(timeout=0.2)) is not None:
        events.append(json.loads(message["data"].split("\n", 1)[1])["data"])
    return events


def arrive(person: Presence, barrier: threading.Barrier) -> None:
    barrier.wait()
    person.arrive()


def test_arrivals_at_once_end_with_everyone_announced(rdb):
    for round_ in range(30):
        room = f"race-{round_}"
        pubsub = rdb.pubsub()
        pubsub.subscribe(conversation_topic(room))
        pubsub.get_message(timeout=1)
        people = [Presence(rdb, room, uid, CONFIG) for uid in (1, 2, 3)]
        barrier = threading.Barrier(3)

        threads = [threading.Thread(target=arrive, args=(person, barrier)) for person in people]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        events = heard(pubsub)
        assert len(events) == 3 and [len(e["online"]) for e in events] == [1, 2, 3], events
        assert events[0]["at"] < events[1]["at"] < events[2]["at"]  # stamped in the order they went out
        pubsub.close()


def test_a_departure_is_announced_once_with_who_stays(rdb):
    mina, jun = Presence(rdb, "room", 1, CONFIG), Presence(rdb, "room", 2, CONFIG)
    mina.arrive()
    jun.arrive()
    pubsub = rdb.pubsub()
    pubsub.subscribe(conversation_topic("room"))
    pubsub.get_message(timeout=1)
    jun._hold(-1)  # his entry lapsed
    results, key, topic = [], KEY.format("room"), conversation_topic("room")
    threads = [threading.Thread(target=lambda: results.append(settle(rdb, key, topic))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [[], [], [], [2]]
    (said,) = heard(pubsub)
    assert (said["online"], said["left"]) == ([1], [2])


def test_a_snapshot_is_stamped_after_the_announcements_before_it(rdb):
    pubsub = rdb.pubsub()
    pubsub.subscribe(conversation_topic("room"))
    pubsub.get_message(timeout=1)
    Presence(rdb, "room", 1, CONFIG).arrive()
    Presence(rdb, "room", 2, CONFIG).arrive()

    at, online = snapshot(rdb, "room")
    Presence(rdb, "room", 3, CONFIG).arrive()

    before, before_too, after = heard(pubsub)
    assert online == [1, 2] and before["at"] < before_too["at"] < at < after["at"]
