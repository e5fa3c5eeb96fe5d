"""Two people in two Chromium windows with fake microphones sign up, match, accept, and talk:
the WebRTC connection reaches `connected` on both sides."""

import math
import re
import struct
import wave

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import launch, window

pytestmark = pytest.mark.e2e
MEDIA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def write_voice(path, rate=48_000):
    """Two seconds that sound like talking to a level meter: loud 400 ms bursts, 100 ms pauses.
    (Chromium's own fake microphone beeps too softly to tell from a quiet room.)"""
    frames = bytearray()
    for i in range(2 * rate):
        talking = (i % (rate // 2)) < rate * 0.4
        sample = 0.5 * (math.sin(2 * math.pi * 220 * i / rate) + math.sin(2 * math.pi * 330 * i / rate)) / 2
        frames += struct.pack("<h", int(32767 * sample) if talking else 0)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))


@pytest.fixture
def voice_browser(playwright, tmp_path):
    """Chromium with a fake microphone that grants itself permission and plays a voice."""
    write_voice(tmp_path / "voice.wav")
    browser = launch(playwright, [*MEDIA_ARGS, f"--use-file-for-fake-audio-capture={tmp_path / 'voice.wav'}"])
    yield browser
    browser.close()


def person(browser, live_server, violations):
    context = browser.new_context(base_url=live_server.url, locale="en-US", permissions=["microphone"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on(
        "console", lambda msg: "Content Security Policy" in msg.text and violations.append(f"{msg.text} {msg.location}")
    )
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

    for page in (hana, minho):  # the fake microphone talks: each side sees both levels move
        expect(page.locator("#my-level")).to_have_attribute("data-speaking", "true", timeout=5_000)
        expect(page.locator("#partner-level")).to_have_attribute("data-speaking", "true", timeout=5_000)

    hana.get_by_role("button", name="Mute").click()
    expect(hana.get_by_role("button", name="Unmute")).to_have_attribute("aria-pressed", "true")
    asked: list[str] = []
    hana.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    hana.get_by_role("button", name="Leave").click()  # she changes her mind: the call goes on
    expect(hana.locator("#call-state")).to_have_text("Connected")
    assert asked == ["Leave the call? It ends for both of you."]
    hana.once("dialog", lambda dialog: dialog.accept())
    hana.get_by_role("button", name="Leave").click()
    for page in (hana, minho):  # an end screen for both: how long, keep in touch, meet someone else
        expect(page.locator("#call-state")).to_have_text("The call has ended.")
        expect(page.locator("#call-duration")).to_have_text(re.compile(r"^0:\d\d$"))
        expect(page.get_by_role("link", name="Open your conversation")).to_be_visible()
        expect(page.get_by_role("link", name="Meet someone else")).to_be_visible()
    expect(hana).to_have_url(re.compile(r"/rooms/\d+$"))
    assert not violations, violations


def meet(hana, minho):
    """Both on /match; she searches first, he joins: an offer for each."""
    for page in (hana, minho):
        page.get_by_role("link", name="Meet", exact=True).click()
        expect(page.locator("#match-panel[data-state=idle]")).to_be_visible()
    hana.get_by_role("button", name="Find someone").click()
    expect(hana.locator("#match-panel[data-state=searching]")).to_be_visible()
    minho.get_by_role("button", name="Find someone").click()
    expect(hana.locator(".partner-name")).to_contain_text("minho")


# The tab is in the background, and the browser's notifications are recorded as they are shown.
BACKGROUND_TAB = """
Object.defineProperty(document, "visibilityState", { get: () => window.__visible ? "visible" : "hidden" });
window.__notes = [];
const RealNotification = window.Notification;
window.Notification = class extends RealNotification {
  constructor(title, options) { super(title, options); window.__notes.push([title, options.body]); }
};
"""


def test_a_match_in_a_background_tab_changes_the_title_and_notifies(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.grant_permissions(["notifications"], origin=live_server.url)
    context.add_init_script(BACKGROUND_TAB)
    hana = context.new_page()
    minho = window(browser, live_server)
    sign_up(hana, "hana", 29, "female")
    sign_up(minho, "minho", 31, "male")
    hana.goto("/match")
    expect(hana.locator("#match-notify-status")).to_have_text("Browser notifications are on.")
    hana.check("#match-sound")  # remembered for the next visit
    meet(hana, minho)
    expect(hana).to_have_title("Someone is waiting for your answer · Blueberry")
    assert hana.evaluate("window.__notes") == [["Someone is waiting for your answer · Blueberry", "minho @minho"]]
    assert hana.evaluate("localStorage.getItem('bb:match-sound')") == "on"
    hana.evaluate("window.__visible = true; document.dispatchEvent(new Event('visibilitychange'))")
    expect(hana).to_have_title("Meet someone · Blueberry")

    minho.get_by_role("button", name="Decline").click()  # she is back in line, told why
    expect(hana.locator("#match-notice")).to_contain_text("They passed this time.")
    expect(hana.locator("#match-panel[data-state=searching]")).to_be_visible()
    expect(minho.locator("#match-panel[data-state=idle]")).to_be_visible()


NO_MICROPHONE = """
navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


def test_a_partner_whose_microphone_failed_is_explained(voice_browser, live_server):
    violations: list[str] = []
    hana, minho = (person(voice_browser, live_server, violations) for _ in range(2))
    minho.context.add_init_script(NO_MICROPHONE)
    sign_up(hana, "hana", 29, "female")
    sign_up(minho, "minho", 31, "male")
    meet(hana, minho)
    for page in (hana, minho):
        page.get_by_role("button", name="Accept").click()
    expect(minho.locator("#room")).to_have_attribute("data-connection", "no-microphone")
    expect(hana.locator("#call-state")).to_have_text(
        "minho could not start their microphone. You can wait while they fix it, or leave."
    )
    expect(hana.locator("#call-timer")).to_have_text("0:00")  # the call never started
    assert not violations, violations


def test_the_call_on_a_phone_in_korean(voice_browser, live_server, make_user):
    """The same loop at 360 px in Korean: offer, accept, talk, leave after a confirmation, and an
    end screen for both, with the words in Korean."""
    violations: list[str] = []
    for username, gender in (("hana", "female"), ("minho", "male")):
        make_user(username, gender=gender, language="ko")
    pages = []
    for username in ("hana", "minho"):
        context = voice_browser.new_context(
            base_url=live_server.url, locale="ko-KR", viewport={"width": 360, "height": 740}, permissions=["microphone"]
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
        page.goto("/auth/login")
        page.fill("#login", username)
        page.fill("#password", "correct-horse")
        page.locator("#login-form button[type=submit]").click()
        page.goto("/match")
        expect(page.locator("#match-panel[data-state=idle]")).to_be_visible()
        pages.append(page)
    hana, minho = pages
    hana.locator("#match-join button[type=submit]").click()
    expect(hana.locator("#match-panel[data-state=searching]")).to_be_visible()
    minho.locator("#match-join button[type=submit]").click()
    for page in pages:
        expect(page.locator("#match-panel[data-state=offer]")).to_contain_text("어울리는 사람을 찾았어요")
        page.get_by_role("button", name="수락").click()
    for page in pages:
        expect(page.locator("#room")).to_have_attribute("data-connection", "connected", timeout=20_000)
        expect(page.locator("#call-state")).to_have_text("연결됨")
    hana.once("dialog", lambda dialog: dialog.accept())
    hana.get_by_role("button", name="나가기").click()
    for page in pages:
        expect(page.locator("#call-state")).to_have_text("통화가 끝났어요.")
        expect(page.locator(".call-summary")).to_contain_text("통화 시간")
        expect(page.get_by_role("link", name="다른 사람 만나기")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    assert not violations, violations
