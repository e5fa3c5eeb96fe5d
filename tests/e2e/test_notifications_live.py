"""A notification sent with `flask notify` shows as a toast and in the badge without a reload,
also when it was sent while the browser was offline."""

import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.netproxy import NetworkProxy
from tests.servers import ROOT

pytestmark = pytest.mark.e2e


def flask_notify(live_server, username: str, text: str) -> None:
    env = {**os.environ, "DATABASE_URL": live_server.env["DATABASE_URL"], "REDIS_URL": live_server.env["REDIS_URL"],
           "SECRET_KEY": "cli"}  # fmt: skip
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "notify", username, text],
                   cwd=ROOT, env=env, check=True, capture_output=True)  # fmt: skip


@pytest.fixture
def network(live_server):
    proxy = NetworkProxy(live_server.port)
    yield proxy
    proxy.close()


def test_notify_shows_toast_and_badge_live_and_after_a_network_drop(page, make_user, live_server, network):
    make_user("hana")
    sign_in(page, "hana", base=network.url)  # the browser reaches the server through a network we can cut
    badge = page.locator("#notification-badge")
    expect(badge).to_be_hidden()  # nothing unread yet
    page.wait_for_timeout(500)  # the stream is connected

    flask_notify(live_server, "hana", "Your book club starts soon")
    expect(page.locator(".toast", has_text="Your book club starts soon")).to_be_visible()
    expect(badge).to_have_text("1")

    network.cut()
    expect(page.locator("#live-status")).to_have_text("Reconnecting…")
    flask_notify(live_server, "hana", "Sent while you were offline")
    page.wait_for_timeout(1000)
    network.restore()
    expect(page.locator(".toast", has_text="Sent while you were offline")).to_be_visible(timeout=15_000)
    expect(page.locator("#live-status")).to_be_hidden()
    expect(badge).to_have_text("2")

    page.goto(network.url + "/notifications")
    expect(page.locator(".notification.unread")).to_have_count(2)
    page.locator(".notification", has_text="Your book club").get_by_role("button", name="Mark read").click()
    expect(page.locator(".notification.unread")).to_have_count(1)
    expect(badge).to_have_text("1")
