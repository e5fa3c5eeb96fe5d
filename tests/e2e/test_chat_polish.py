"""In Chromium, a conversation that reads like a messenger: a helpful empty state and a way back,
a day separator for live messages, typing that ends when the message arrives, my newest
message's status in words, delete for everyone only after a confirmation, and an image whose
space is kept before it loads."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import both_in_conversation
from tests.e2e.test_chat_flow import png

pytestmark = pytest.mark.e2e


def test_a_conversation_reads_like_a_messenger(browser, live_server, make_user):
    mina_user, jun_user = make_user("mina", display_name="Mina"), make_user("jun", gender="male", display_name="Jun")
    conversation, mina, jun = both_in_conversation(browser, live_server, mina_user, jun_user, origin="match")
    expect(mina.locator("#empty-chat")).to_have_text("You met in a voice call — say hi!")
    expect(mina.get_by_role("link", name=re.compile("Conversations"))).to_have_attribute("href", "/conversations")

    jun.locator("#composer-content").press_sequentially("hi", delay=50)
    expect(mina.locator("#typing")).to_have_text("Jun is typing…")
    jun.keyboard.press("Enter")
    expect(mina.locator(".bubble.theirs")).to_contain_text("hi")
    expect(mina.locator("#typing")).to_have_text("")  # their message arrived: no longer typing
    expect(mina.locator("#empty-chat")).to_have_count(0)
    expect(mina.locator(".day-separator")).to_have_count(1)

    mina.fill("#composer-content", "hello Jun")
    mina.keyboard.press("Enter")
    latest = mina.locator(".bubble.mine").last
    expect(latest.locator(".receipt-word")).to_have_text("Read")  # he has it open
    mina.fill("#composer-content", "second")
    mina.keyboard.press("Enter")
    expect(mina.locator(".bubble.mine .receipt-word:visible")).to_have_count(1)  # only under the newest

    mina.once("dialog", lambda dialog: dialog.dismiss())
    latest = mina.locator(".bubble.mine").last
    latest.get_by_role("button", name="Delete for everyone").click()
    mina.wait_for_timeout(500)
    expect(jun.locator(".bubble.theirs", has_text="second")).to_be_visible()  # not deleted
    mina.once("dialog", lambda dialog: dialog.accept())
    latest.get_by_role("button", name="Delete for everyone").click()
    expect(jun.locator(".bubble.tombstone")).to_have_count(1)

    jun.locator("#upload-file").set_input_files(files=[{"name": "wide.png", "mimeType": "image/png", "buffer": png()}])
    jun.get_by_role("button", name="Send file").click()
    image = mina.locator(".bubble.theirs img").last
    expect(image).to_have_attribute("width", "320")
    expect(image).to_have_attribute("height", "240")
