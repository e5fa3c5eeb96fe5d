"""In Chromium, against local fake providers: sign up with Kakao, link Discord, log out, log in
with Discord."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import provider_config
from tests.fakes.oauth import discord_user, kakao_user

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_env(fake_kakao, fake_discord):
    fake_kakao.next_user = kakao_user(555, nickname="Hana", age_range="20~29", gender="female")
    fake_discord.next_user = discord_user("80351110224678912", username="hana_d", email="hana@example.com")
    return provider_config(fake_kakao, fake_discord)


def approve(page, provider: str):
    expect(page.locator("h1")).to_contain_text(f"{provider}: let")  # the provider's own consent page
    page.click("#allow")


def test_sign_up_with_kakao_link_discord_then_log_in_with_discord(page):
    page.goto("/auth/login")
    page.click("#login-kakao")
    approve(page, "Kakao")
    expect(page).to_have_url(re.compile(r"/auth/oauth/finish$"))
    expect(page.locator("#username")).to_have_value("hana")
    expect(page.locator("#age")).to_have_value("20")
    page.fill("#age", "27")
    page.click("#oauth-finish-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/settings/matching$"))

    page.goto("/settings/accounts")
    page.click("#connect-discord")
    approve(page, "Discord")
    expect(page).to_have_url(re.compile(r"/settings/accounts$"))
    expect(page.locator(".flash-success")).to_contain_text("Discord is now linked")
    expect(page.locator("#social-accounts")).to_contain_text("Kakao")
    expect(page.locator("#social-accounts")).to_contain_text("Discord")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    page.click("#login-discord")
    approve(page, "Discord")
    expect(page.locator("h1")).to_have_text("Hello, Hana")
