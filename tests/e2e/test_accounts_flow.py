"""A person signs up, logs out, logs in by phone, edits match settings and switches to Korean."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def sign_up(page):
    page.goto("/auth/signup")
    page.fill("#username", "hana")
    page.fill("#password", "blueberry-pie-42")
    page.fill("#age", "29")
    page.select_option("#gender", "female")
    page.fill("#phone", "010-5555-6666")
    page.click("#signup-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/settings/matching$"))


def test_signup_logout_phone_login_settings_and_korean(page):
    sign_up(page)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))

    page.fill("#login", "+82 10 5555 6666")
    page.fill("#password", "blueberry-pie-42")
    page.get_by_role("button", name="Log in").last.click()
    expect(page.locator("h1")).to_have_text("Hello, hana")

    page.goto("/settings/matching")
    page.fill("#age_min", "40")
    page.fill("#age_max", "30")
    page.locator("#match-setting-form button[type=submit]").click()
    expect(page.locator("#age_max-errors")).to_contain_text("must not be below the youngest")
    page.fill("#age_min", "25")
    page.fill("#age_max", "35")
    page.locator("#age_max").blur()
    expect(page.locator("#age_max-errors")).to_be_empty()  # inline validation cleared it
    page.select_option("#preferred_gender", "male")
    page.locator("#match-setting-form button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("Match settings saved.")
    expect(page.locator("#age_min")).to_have_value("25")
    expect(page.locator("#age_max")).to_have_value("35")

    page.select_option("#footer-language", "ko")
    page.locator(".language-switch button").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("link", name="설정")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible()


def test_phone_layout_has_no_horizontal_scroll(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    for path in ("/", "/auth/signup", "/auth/login"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    context.close()
