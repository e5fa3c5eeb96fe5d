"""A phone (360 px) and a desktop (1280 px), in Korean and English: the top bar stays one row
with logging out in settings on the phone, a conversation fills the screen with the composer
at its bottom and the attach button inside it, toasts stay clear of the bottom edge, and
Korean breaks between words."""

import pytest
from playwright.sync_api import expect

from blueberry.extensions import db
from blueberry.services import notifications
from blueberry.services.conversation import start_direct
from tests.e2e.conftest import open_conversation, sign_in

pytestmark = pytest.mark.e2e
PHONE, DESKTOP = {"width": 360, "height": 740}, {"width": 1280, "height": 800}


def page_of(browser, live_server, viewport):
    page = browser.new_context(base_url=live_server.url, viewport=viewport, locale="en-US").new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_phone_layout(browser, live_server, make_user, language):
    mina_user = make_user("mina", display_name="Mina", language=language)
    conversation = start_direct(mina_user.id, make_user("jun", gender="male").id, origin="match")
    db.session.commit()
    mina = page_of(browser, live_server, PHONE)
    sign_in(mina, "mina")

    # One row: the logo's name and "Log out" made room. Compared by the items' middles, not by
    # the bar's height in pixels, which moves by a few with the emoji font's metrics.
    middles = mina.locator(".topbar .brand, .topbar .nav > a").evaluate_all(
        "els => els.filter(e => e.offsetParent !== null)"  # the wide-only links are hidden on a phone
        ".map(e => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; })"
    )
    assert len(middles) >= 3, middles
    assert max(middles) - min(middles) < 8, middles
    expect(mina.locator(".topbar .brand")).to_have_accessible_name("Blueberry")
    expect(mina.locator(".topbar form[action='/auth/logout']")).to_be_hidden()
    mina.goto("/settings/privacy")
    expect(mina.locator(".settings-logout button")).to_be_visible()
    notifications.notify(mina_user, "A badge in the bar")
    db.session.commit()
    mina.goto("/settings/notices")  # the longest tab's page, the bell with its badge
    expect(mina.locator("#notification-badge")).to_have_text("1")
    assert mina.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    assert mina.evaluate("getComputedStyle(document.body).wordBreak") == ("keep-all" if language == "ko" else "normal")

    open_conversation(mina, conversation.id)
    composer = mina.locator(".composer-bar").bounding_box()
    assert abs(composer["y"] + composer["height"] - PHONE["height"]) <= 2  # at the bottom, with one message or none
    expect(mina.locator(".footer")).to_be_hidden()  # the language switch is in settings, not under the composer
    attach = mina.locator("#composer label.attach")
    expect(attach).to_be_visible()
    assert attach.bounding_box()["y"] >= composer["y"]  # in the composer's row, not a row of its own
    send_file = mina.locator("#upload-form button[type=submit]")
    expect(send_file).to_be_hidden()
    notes = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hi"}
    mina.locator("#upload-file").set_input_files(files=[notes])
    expect(mina.locator("#upload-name")).to_have_text("notes.txt")
    expect(send_file).to_be_visible()
    mina.locator("#upload-form button[type=reset]").click()
    expect(send_file).to_be_hidden()
    expect(mina.locator("#upload-name")).to_have_text("")
    assert mina.locator("#toasts").evaluate("el => el.getBoundingClientRect().top") < 80  # toasts at the top

    desktop = page_of(browser, live_server, DESKTOP)
    sign_in(desktop, "mina")
    expect(desktop.locator(".topbar form[action='/auth/logout'] button")).to_be_visible()
    desktop.goto(f"/conversations/{conversation.id}")
    expect(desktop.locator(".footer")).to_be_visible()
    assert desktop.locator("#toasts").evaluate("el => el.getBoundingClientRect().bottom") > DESKTOP["height"] - 40
