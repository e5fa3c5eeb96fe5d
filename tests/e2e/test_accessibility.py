"""axe-core (pinned from npm, kept in tests/e2e/vendor, injected by Playwright: no CDN) finds no
WCAG 2.x A/AA violations on the main pages, signed out and signed in, on a phone in Korean and
on a desktop in English."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.models import MatchedRoom, User
from blueberry.models.base import utcnow
from blueberry.services import book as catalog
from blueberry.services import chat, meeting_chat, message_requests, notifications
from blueberry.services import meeting as meetings
from blueberry.services.conversation import start_direct
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SIGNED_OUT = ["/", "/auth/login", "/auth/signup", "/auth/forgot"]
VIEWS = [("en-US", "en", 1280), ("ko-KR", "ko", 360)]


def violations(page, path: str) -> list[str]:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)["violations"]
    return [f"{path}: {v['id']} at {[n['target'] for n in v['nodes']][:3]}" for v in found]


@pytest.fixture
def signed_in_paths(make_user):
    mina = make_user("mina", display_name="Mina", bio="Books and jazz.", interests=["books", "jazz"], is_staff=True)
    book_jobs.load_sample(if_empty=True)  # the sample catalog, and a run on /ops/runs
    jun = make_user("jun", gender="male", display_name="Jun")
    ara, bo = make_user("ara"), make_user("bora", gender="male")
    room = MatchedRoom(user1_id=min(mina.id, jun.id), user2_id=max(mina.id, jun.id), user1_keeps=True, user2_keeps=True)
    now = utcnow()
    ended = MatchedRoom(user1_id=min(mina.id, bo.id), user2_id=max(mina.id, bo.id),
                        started_at=now - timedelta(minutes=3), ended_at=now, end_reason="left")  # fmt: skip
    db.session.add_all([room, ended])
    conversation = start_direct(mina.id, jun.id, origin="match")
    chat.post_message(conversation.id, jun.id, "a", "Hello!")
    chat.post_message(conversation.id, mina.id, "b", "Hi Jun")
    message_requests.send(ara, "mina", "Hi, can we talk?", per_day=20)
    notifications.notify(mina, "Welcome to Blueberry")
    starts = now + timedelta(days=2)
    club = meetings.create(jun, meetings.MeetingForm(
        book=catalog.bestsellers(1)[0], title="Reading together", description="Part one.", starts_at=starts,
        ends_at=starts + timedelta(hours=2), capacity=4, online=False, place="Café Blue"))  # fmt: skip
    meetings.join(club, mina)
    live = meetings.create(jun, meetings.MeetingForm(
        book=catalog.bestsellers(1)[0], title="On now", description="", starts_at=starts,
        ends_at=starts + timedelta(hours=1), capacity=4, online=True, place=""))  # fmt: skip
    meetings.join(live, mina)
    live.starts_at, live.ends_at = now - timedelta(minutes=5), now + timedelta(minutes=55)  # its room is live
    chat.post_message(live.conversation_id, jun.id, "l1", "Welcome, everyone")
    meeting_chat.pin(live, jun, chat.last_seq(live.conversation_id))
    db.session.commit()
    return [
        f"/conversations/{live.conversation_id}", "/settings/notices",
        "/meetings", "/meetings/new", f"/meetings/{club.id}",
        "/books", "/books?q=한강", "/books?category=에세이", f"/books/{catalog.bestsellers(1)[0].isbn13}", "/ops/runs",
        f"/rooms/{room.id}", f"/rooms/{ended.id}",
        "/", "/match", "/conversations", f"/conversations/{conversation.id}", "/conversations/requests",
        "/notifications", "/settings/profile", "/settings/matching", "/settings/privacy", "/settings/accounts",
        "/u/jun", "/u/mina",
    ]  # fmt: skip


@pytest.mark.parametrize("view", VIEWS, ids=["en-1280", "ko-360"])
def test_main_pages_have_no_accessibility_violations(browser, live_server, signed_in_paths, view):
    locale, language, width = view
    db.session.execute(update(User).where(User.username == "mina").values(language=language))
    db.session.commit()
    context = browser.new_context(  # the page's CSP forbids injected scripts: axe is let in for the test
        base_url=live_server.url, locale=locale, viewport={"width": width, "height": 800}, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    found = [v for path in SIGNED_OUT for v in violations(page, path)]
    sign_in(page, "mina")
    found += [v for path in signed_in_paths for v in violations(page, path)]
    context.close()
    assert found == []
