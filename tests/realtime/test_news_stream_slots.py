"""One address holds at most NEWS_STREAMS_PER_ADDRESS public news streams open at once: a slot is
freed when its stream closes, or lapses when its worker crashed; two opened at once cannot both
take the last one."""

import threading
import time

import httpx
import pytest
import redis

from blueberry.services.news_streams import KEY, NewsStreamSlot
from tests.servers import wait_for


@pytest.fixture
def live_env():
    return {"NEWS_STREAMS_PER_ADDRESS": "2", "NEWS_STREAM_LIMIT": "1000 per minute", "SSE_KEEPALIVE_S": "0.2"}


def _open(client: httpx.Client) -> httpx.Response:
    reply = client.send(client.build_request("GET", "/news/stream?after_id=0"), stream=True)
    if reply.status_code != 200:
        reply.close()
    return reply


def test_an_address_holds_only_so_many_streams_open(live_server):
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        held = [_open(client), _open(client)]
        assert [reply.status_code for reply in held] == [200, 200]
        assert _open(client).status_code == 429

        def reopened() -> bool:
            reply = _open(client)
            if reply.status_code == 200:
                held.append(reply)
            return reply.status_code == 200

        held.pop(0).close()  # noticed at the next keepalive, which then fails to send
        assert wait_for(reopened, 5)
        assert _open(client).status_code == 429  # the freed slot was taken again
        for reply in held:
            reply.close()


def test_a_crashed_workers_slot_lapses_and_a_closed_one_frees(app):
    key = KEY.format("203.0.113.9")
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    client.zadd(key, {"crashed": time.time() - 1, "open": time.time() + 60})
    with app.app_context():
        slot = NewsStreamSlot("203.0.113.9")
        assert slot.take(2)  # the crashed worker's entry no longer counts
        assert not NewsStreamSlot("203.0.113.9").take(2)
        slot.depart()
        assert NewsStreamSlot("203.0.113.9").take(2)
        assert not NewsStreamSlot("203.0.113.10").take(0)  # addresses are counted apart
        assert client.zcard(key) == 2


def test_two_streams_opened_at_once_cannot_both_take_the_last_slot(app):
    taken, start = [], threading.Barrier(20)

    def open_one():
        with app.app_context():
            slot = NewsStreamSlot("198.51.100.7")
            start.wait()
            taken.append(slot.take(5))

    threads = [threading.Thread(target=open_one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert taken.count(True) == 5
    assert redis.Redis.from_url(app.config["REDIS_URL"]).zcard(KEY.format("198.51.100.7")) == 5
