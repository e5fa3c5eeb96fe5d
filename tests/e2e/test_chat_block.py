"""In Chromium: the person blocked while their conversation is open sees it close at once, in
their language, and their client does not reconnect (the 4403 close code)."""

import re

import pytest
from playwright.sync_api import expect

from blueberry.extensions import db
from blueberry.services import safety
from blueberry.services.conversation import start_direct
from tests.e2e.conftest import open_conversation, sign_in

pytestmark = pytest.mark.e2e


def test_a_block_closes_the_open_conversation_and_it_stays_closed(browser, live_server, make_user):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    conversation = start_direct(mina.id, jun.id)
    db.session.commit()
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    sign_in(page, "jun")
    open_conversation(page, conversation.id)
    expect(page.locator("#composer")).to_be_visible()

    safety.block(mina.id, jun.id)
    db.session.commit()
    expect(page.locator("#chat-closed")).to_be_visible()
    expect(page.locator("#chat-closed")).to_have_text(re.compile("no longer send messages"))
    expect(page.locator("#composer")).to_be_hidden()
    page.wait_for_timeout(3000)  # the extension reconnects within a second or two when it means to
    assert len([url for url in sockets if "/ws/conversations/" in url]) == 1
    context.close()
