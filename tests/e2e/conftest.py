"""Playwright driving Debian's chromium (it cannot download its own browser here)."""

import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def playwright():
    """One Playwright for the session (a second sync instance cannot start inside the first)."""
    with sync_playwright() as instance:
        yield instance


def launch(playwright, extra_args=()):
    return playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )


@pytest.fixture(scope="session")
def browser(playwright):
    browser = launch(playwright)
    yield browser
    browser.close()


def sign_in(page, username: str, password: str = "correct-horse", base: str = "") -> None:
    """Log in through the form (at `base`, the context's base URL by default); done when the
    signed-in page is up, in whatever language."""
    page.goto(base + "/auth/login")
    page.fill("#login", username)
    page.fill("#password", password)
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator("#live")).to_be_attached()


def open_conversation(page, conversation_id) -> None:
    """Open a conversation and wait until its socket is connected."""
    with page.expect_websocket(lambda ws: "/ws/conversations/" in ws.url):
        page.goto(f"/conversations/{conversation_id}")


def both_in_conversation(browser, live_server, mina_user, jun_user, origin: str = "profile"):
    """Mina and Jun share a direct conversation and each has it open: (conversation, her page, his)."""
    from blueberry.extensions import db
    from blueberry.services.conversation import start_direct

    conversation = start_direct(mina_user.id, jun_user.id, origin=origin)
    db.session.commit()
    pages = window(browser, live_server), window(browser, live_server)
    for page, user in zip(pages, (mina_user, jun_user), strict=True):
        sign_in(page, user.username)
        open_conversation(page, conversation.id)
    return conversation, *pages


def window(browser, live_server):
    """A fresh English browser context on the live server, for tests with several people."""
    page = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context on the live server; fails the test on any console CSP violation."""
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations: list[str] = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
    yield page
    context.close()
    assert not violations, violations
