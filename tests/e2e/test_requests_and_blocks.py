"""In Chromium: a message request from a stranger is accepted and becomes a conversation (the
sender is told live); a block pressed in an open conversation closes it for the other person."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import both_in_conversation, sign_in, window

pytestmark = pytest.mark.e2e


def test_a_request_is_accepted_and_becomes_a_conversation(browser, live_server, make_user):
    make_user("mina", display_name="Mina")
    make_user("jun", gender="male", display_name="Jun")
    mina, jun = window(browser, live_server), window(browser, live_server)
    sign_in(mina, "mina")
    sign_in(jun, "jun")
    mina.goto("/conversations")
    mina.fill("#username", "jun")
    mina.fill("#content", "Hi Jun, I liked your book club idea.")
    mina.locator("#write-form button[type=submit]").click()
    expect(mina.locator("#sent-requests")).to_contain_text("@jun")
    expect(mina.locator("#sent-requests")).to_contain_text("Request sent")

    jun.goto("/conversations")
    expect(jun.locator("#requests-link .badge")).to_have_text("1")
    expect(jun.locator("#messages-badge")).to_be_hidden()  # a request is not an unread message
    jun.locator("#requests-link").click()
    request = jun.locator(".request").first
    expect(request).to_contain_text("@mina")
    expect(request).to_contain_text("I liked your book club idea.")
    request.get_by_role("button", name="Accept").click()
    expect(jun).to_have_url(re.compile(r"/conversations/[0-9a-f-]{36}$"))
    expect(jun.locator(".bubble.theirs")).to_contain_text("I liked your book club idea.")
    expect(mina.locator(".toast", has_text="accepted your message request")).to_be_visible()
    jun.fill("#composer-content", "Welcome!")
    jun.keyboard.press("Enter")
    mina.locator(".toast", has_text="accepted").get_by_role("link", name="Open").click()
    expect(mina.locator(".bubble.mine")).to_contain_text("I liked your book club idea.")
    expect(mina.locator(".bubble.theirs")).to_contain_text("Welcome!")


def test_a_block_from_the_conversation_closes_it_for_both(browser, live_server, make_user):
    mina_user, jun_user = make_user("mina"), make_user("jun", gender="male")
    conversation, mina, jun = both_in_conversation(browser, live_server, mina_user, jun_user)
    mina.locator(".safety summary").click()
    mina.once("dialog", lambda dialog: dialog.accept())
    mina.get_by_role("button", name="Block", exact=True).click()
    expect(mina).to_have_url(re.compile(r"/conversations$"))
    expect(mina.locator(".flash, .toast").first).to_contain_text("Blocked")
    expect(mina.locator(f"#conversation-{conversation.id}")).to_have_count(0)
    expect(jun.locator("#chat-closed")).to_be_visible()
    expect(jun.locator("#composer")).to_be_hidden()
