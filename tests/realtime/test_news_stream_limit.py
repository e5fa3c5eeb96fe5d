"""The public news stream needs no session, so one address may open it only so often."""

import httpx
import pytest


@pytest.fixture
def live_env():
    return {"NEWS_STREAM_LIMIT": "2 per minute"}


def test_one_address_may_open_the_stream_only_so_often(live_server):
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        statuses = []
        for _ in range(3):
            with client.stream("GET", "/news/stream?after_id=0") as reply:
                statuses.append(reply.status_code)
        assert statuses == [200, 200, 429]
        assert client.get("/news").status_code == 200  # the pages themselves are not limited by it
