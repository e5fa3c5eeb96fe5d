"""Every time shown is in the reader's time zone and language: bubbles and day separators on the
page, older pages, the list, notifications, requests, and live fragments over a real websocket.
Expected strings are worked out here with zoneinfo, not with the app's formatting."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import Message
from blueberry.models.base import utcnow
from blueberry.services import chat, message_requests, notifications
from blueberry.services.conversation import start_direct
from tests.conftest import LIVE_SECRET, login
from tests.realtime.clients import connect_ws, open_session

SEOUL = ZoneInfo("Asia/Seoul")
EVENING_UTC = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # 19:00 on 2 December in Seoul
AFTER_MIDNIGHT_UTC = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)  # 00:30 on 3 December in Seoul


def at(conversation, sender, client_id: str, content: str, when: datetime) -> None:
    chat.post_message(conversation.id, sender.id, client_id, content)
    db.session.scalar(select(Message).where(Message.client_id == client_id)).created_at = when


@pytest.fixture
def seoul_chat(make_user):
    mina = make_user("mina", timezone="Asia/Seoul", language="en")
    jun = make_user("jun", gender="male", timezone="Europe/Berlin")
    conversation = start_direct(mina.id, jun.id)
    at(conversation, jun, "evening", "good evening", EVENING_UTC)
    at(conversation, mina, "night", "good night", AFTER_MIDNIGHT_UTC)
    db.session.commit()
    return mina, jun, conversation


def test_bubbles_and_day_separators_are_in_the_readers_zone_and_language(app, client, seoul_chat):
    mina, jun, conversation = seoul_chat
    login(client, "mina")
    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert ">7:00\u202fPM</time>" in page and ">12:30\u202fAM</time>" in page
    assert "Wednesday, December 2, 2026" in page and "Thursday, December 3, 2026" in page
    assert page.count('class="day-separator"') == 2 and 'data-day="2026-12-03"' in page
    mina.language = "ko"
    db.session.commit()
    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert ">오후 7:00</time>" in page and ">오전 12:30</time>" in page and "2026년 12월 3일 목요일" in page
    berlin = app.test_client()
    login(berlin, "jun")
    page = berlin.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert ">11:00\u202fAM</time>" in page and ">4:30\u202fPM</time>" in page  # the same two, in Berlin
    assert page.count('class="day-separator"') == 1  # one day there


def test_the_list_notifications_and_requests_show_local_times(client, make_user, seoul_chat):
    mina, jun, conversation = seoul_chat
    now = utcnow().replace(microsecond=0)
    at(conversation, jun, "now", "just now", now)
    ara = make_user("ara")
    for made in (notifications.notify(mina, "hello"), message_requests.send(ara, "mina", "hi", per_day=20)):
        made.created_at = now  # all three at one moment: no minute can turn between them
    db.session.commit()
    local = now.astimezone(SEOUL)
    expected = f"{local.hour % 12 or 12}:{local.minute:02d}\u202f{'AM' if local.hour < 12 else 'PM'}"
    login(client, "mina")
    assert f">{expected}</time>" in client.get("/conversations").get_data(as_text=True)
    assert expected in client.get("/notifications").get_data(as_text=True)
    assert expected in client.get("/conversations/requests").get_data(as_text=True)
    db.session.scalar(select(Message).where(Message.client_id == "now")).created_at = now - timedelta(days=1)
    db.session.commit()
    assert ">Yesterday</time>" in client.get("/conversations").get_data(as_text=True)


def test_live_fragments_use_the_readers_zone(app, live_server, seoul_chat):
    mina, jun, conversation = seoul_chat
    cookie = open_session(app, mina, LIVE_SECRET)
    ws = connect_ws(live_server.url, cookie, f"/ws/conversations/{conversation.id}?after=2", json_protocol=False)
    chat.post_message(conversation.id, jun.id, "live", "are you up?")
    db.session.commit()
    created = db.session.scalar(select(Message.created_at).where(Message.client_id == "live")).astimezone(SEOUL)
    fragment = ""
    while "are you up?" not in fragment:
        fragment = ws.receive(timeout=5)
    expected = f"{created.hour % 12 or 12}:{created.minute:02d}\u202f{'AM' if created.hour < 12 else 'PM'}"
    assert f">{expected}</time>" in fragment and f'data-day="{created.date().isoformat()}"' in fragment
    assert '<p id="typing" class="typing" aria-live="polite" hx-swap-oob="true"></p>' in fragment  # typing ends
