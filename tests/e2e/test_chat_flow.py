"""Two people chat in two Chromium windows: a live list and toast, typing, delivered and read
receipts, an image, delete for everyone; a message full of script and htmx attributes stays text."""

import re
from io import BytesIO

import pytest
from PIL import Image
from playwright.sync_api import expect

from blueberry.extensions import db
from blueberry.models import MatchedRoom
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e
PAYLOAD = '<img src=x onerror="window.__xss=1"> <button hx-get="/boom" hx-trigger="load">boom</button> {{7*7}}'


def png() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (400, 300), (250, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def window(browser, live_server, violations):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
    return page


def have_met(a, b) -> None:
    """The two kept a voice match: either may write to the other without a request."""
    low, high = sorted((a.id, b.id))
    db.session.add(MatchedRoom(user1_id=low, user2_id=high, user1_keeps=True, user2_keeps=True))
    db.session.commit()


def test_two_people_chat_live(browser, live_server, make_user):
    have_met(make_user("mina", display_name="Mina"), make_user("jun", gender="male", display_name="Jun"))
    violations: list[str] = []
    mina, jun = window(browser, live_server, violations), window(browser, live_server, violations)
    sign_in(mina, "mina")
    sign_in(jun, "jun")
    requests: list[str] = []
    jun.on("request", lambda request: requests.append(request.url))

    jun.get_by_role("link", name="Messages").click()
    mina.goto("/conversations")
    mina.fill("#username", "jun")
    mina.fill("#content", "Hello Jun!")
    mina.locator("#write-form button[type=submit]").click()
    expect(mina).to_have_url(re.compile(r"/conversations/[0-9a-f-]{36}$"))
    expect(mina.locator("#chat")).to_be_visible()
    expect(mina.locator(".bubble.mine")).to_contain_text("Hello Jun!")
    expect(jun.locator(".toast", has_text="Hello Jun!")).to_be_visible()  # he is on the list page
    expect(jun.locator("#messages-badge")).to_have_text("1")
    expect(jun.locator(".conversation-row").first).to_contain_text("Mina")
    expect(jun.locator(".conversation-row .badge").first).to_have_text("1")
    jun.locator(".conversation-row a").first.click()
    expect(jun.locator(".bubble.theirs")).to_contain_text("Hello Jun!")
    expect(mina.locator(".bubble.mine .receipt").first).to_have_attribute("data-status", "read")
    expect(jun.locator("#messages-badge")).to_be_hidden()  # read: the badge empties, live

    jun.locator("#composer-content").press_sequentially("typing", delay=50)
    expect(mina.locator("#typing")).to_have_text("Jun is typing…")
    jun.locator("#composer-content").fill(PAYLOAD)
    jun.get_by_role("button", name="Send", exact=True).click()
    bubble = mina.locator(".bubble.theirs").last
    expect(bubble.locator(".content")).to_have_text(PAYLOAD)
    assert mina.evaluate("window.__xss") is None and jun.evaluate("window.__xss") is None
    assert bubble.locator("img, button").count() == 0
    jun.wait_for_timeout(500)
    assert not [url for url in requests if url.endswith("/boom")]

    jun.locator("#upload-file").set_input_files(
        files=[{"name": "sunset.png", "mimeType": "image/png", "buffer": png()}]
    )
    jun.get_by_role("button", name="Send file").click()
    picture = mina.locator(".bubble.theirs img[alt='sunset.png']")
    expect(picture).to_be_visible()  # at once: its size is reserved before it loads
    # The thumbnail loads for her: decode() settles once it has (and fails for a broken image).
    assert picture.evaluate("img => img.decode().then(() => img.naturalWidth > 0)")

    jun.once("dialog", lambda dialog: dialog.accept())  # deleting for everyone asks first
    jun.locator(".bubble.mine").filter(has_text="boom").get_by_role("button", name="Delete for everyone").click()
    expect(mina.locator(".bubble.tombstone")).to_contain_text("Message deleted")
    expect(mina.locator(".bubble.theirs img[alt='sunset.png']")).to_be_visible()  # only that one went
    expect(jun.locator(".bubble.tombstone")).to_contain_text("Message deleted")
    assert not violations, violations
