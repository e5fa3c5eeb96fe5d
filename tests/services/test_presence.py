"""Presence announcements go out in the order of the changes they describe: the last one a
room hears always shows who is there, however arrivals and departures interleave."""

import json
import threading

from blueberry.realtime.events import conversation_topic
from blueberry.services.presence import KEY, Presence, settle

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
    assert heard(pubsub) == [{"online": [1], "left": [2]}]
