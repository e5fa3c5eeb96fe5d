"""In Chromium, a message sent while the server is away shows at once as pending, then as sent
once the socket is back, exactly once; a message the server already stored but the page still
thinks pending is sent again with its client id and still shows once."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.models import Message
from blueberry.services.conversation import start_direct
from tests.e2e.conftest import open_conversation, sign_in

pytestmark = pytest.mark.e2e


def stored(content: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Message).where(Message.content == content))


@pytest.fixture
def open_chat(browser, live_server, make_user):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    conversation = start_direct(mina.id, jun.id, origin="match")
    db.session.commit()
    page = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    page.set_default_timeout(10_000)
    sign_in(page, "mina")
    open_conversation(page, conversation.id)
    return page


def test_a_message_sent_while_the_server_restarts_shows_pending_then_sent_once(open_chat, live_server):
    page = open_chat
    live_server.stop()
    page.wait_for_timeout(300)
    page.fill("#composer-content", "written while you were away")
    page.keyboard.press("Enter")
    pending = page.locator(".bubble.pending")
    expect(pending).to_contain_text("written while you were away")
    expect(pending).to_contain_text("Sending…")
    expect(page.locator("#composer-content")).to_have_value("")
    live_server.start()
    sent = page.locator(".bubble.mine[data-seq]", has_text="written while you were away")
    expect(sent).to_have_count(1, timeout=30_000)
    expect(page.locator(".bubble.pending")).to_have_count(0)
    expect(sent.locator(".receipt-word")).to_have_text(re.compile("Sent|Delivered"))
    assert stored("written while you were away") == 1


def test_a_resent_message_the_server_already_has_shows_once(open_chat, live_server):
    page = open_chat
    page.fill("#composer-content", "only once")
    page.keyboard.press("Enter")
    sent = page.locator(".bubble.mine[data-seq]", has_text="only once")
    expect(sent).to_have_count(1)
    client_id = sent.get_attribute("data-client-id")
    # As if the confirmation had been lost: the page still holds it as pending when it reconnects.
    key = f"bb:pending:{page.locator('#chat').get_attribute('data-conversation-id')}"
    page.evaluate("([key, id]) => localStorage.setItem(key, JSON.stringify([{client_id: id, content: 'only once'}]))",
                  [key, client_id])  # fmt: skip
    live_server.stop()
    live_server.start()
    # Reconnected, resent, and the server's copy came back: the page no longer holds it pending.
    page.wait_for_function("(key) => localStorage.getItem(key) === '[]'", arg=key, timeout=30_000)
    expect(sent).to_have_count(1)
    expect(page.locator(".bubble.pending")).to_have_count(0)
    assert stored("only once") == 1
