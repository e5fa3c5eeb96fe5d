"""Two people in two Chromium windows with fake microphones sign up, match, accept, and talk:
the WebRTC connection reaches `connected` on both sides."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import launch

pytestmark = pytest.mark.e2e
MEDIA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture
def voice_browser(playwright):
    """Chromium with a fake microphone that grants itself permission."""
    browser = launch(playwright, MEDIA_ARGS)
    yield browser
    browser.close()


def person(browser, live_server, violations):
    context = browser.new_context(base_url=live_server.url, locale="en-US", permissions=["microphone"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
    return page


def sign_up(page, username, age, gender):
    page.goto("/auth/signup")
    page.fill("#username", username)
    page.fill("#password", "blueberry-pie-42")
    page.fill("#age", str(age))
    page.select_option("#gender", gender)
    page.click("#signup-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/settings/matching$"))


def test_two_people_match_accept_and_connect_by_voice(voice_browser, live_server):
    violations: list[str] = []
    hana, minho = (person(voice_browser, live_server, violations) for _ in range(2))
    sign_up(hana, "hana", 29, "female")
    sign_up(minho, "minho", 31, "male")

    hana.goto("/settings/profile")  # her card, which the offer shows him
    hana.fill("#bio", "Long novels and late jazz.")
    hana.fill("#interests", "jazz, 소설")
    hana.locator("#card-form button[type=submit]").click()
    expect(hana.locator(".flash")).to_contain_text("Profile saved.")

    for page in (hana, minho):
        page.get_by_role("link", name="Meet", exact=True).click()
        expect(page.locator("#match-panel[data-state=idle]")).to_be_visible()
    hana.get_by_role("button", name="Find someone").click()
    expect(hana.locator("#match-panel[data-state=searching]")).to_contain_text("1 fits both ways")
    minho.get_by_role("button", name="Find someone").click()

    expect(hana.locator(".partner-name")).to_have_text(re.compile(r"^minho\s+@minho$"))
    expect(minho.locator(".partner-name")).to_have_text(re.compile(r"^hana\s+@hana$"))
    expect(minho.locator("#match-panel .bio")).to_have_text("Long novels and late jazz.")
    expect(minho.locator("#match-panel .tags li")).to_have_text(["jazz", "소설"])
    expect(minho.locator("#match-panel .avatar.initials")).to_have_text("H")
    hana.get_by_role("button", name="Accept").click()
    expect(minho.locator("#offer-partner-status")).to_have_text("They accepted ✓")
    minho.get_by_role("button", name="Accept").click()

    for page in (hana, minho):
        expect(page).to_have_url(re.compile(r"/rooms/\d+$"))
    for page in (hana, minho):
        expect(page.locator("#room")).to_have_attribute("data-connection", "connected", timeout=20_000)
        expect(page.locator("#call-state")).to_have_text("Connected")
    expect(hana.locator("#call-timer")).not_to_have_text("0:00", timeout=5_000)

    hana.get_by_role("button", name="Keep in touch").click()
    expect(minho.locator("#keep-partner")).to_have_text("hana would like to keep in touch.")
    minho.get_by_role("button", name="Keep in touch").click()
    for page in (hana, minho):  # both pressed it: the conversation opens for both, live
        expect(page.get_by_role("link", name="Open your conversation")).to_have_attribute(
            "href", re.compile(r"^/conversations/[0-9a-f-]{36}$")
        )

    hana.get_by_role("button", name="Mute").click()
    expect(hana.get_by_role("button", name="Unmute")).to_have_attribute("aria-pressed", "true")
    hana.get_by_role("button", name="Leave").click()
    expect(hana).to_have_url(re.compile(r"/match$"))
    expect(minho.locator("#room")).to_have_attribute("data-connection", "ended")
    expect(minho.locator("#call-state")).to_have_text("The call has ended.")
    assert not violations, violations
