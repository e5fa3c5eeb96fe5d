"""Message requests over HTTP: the sender gets one answer whoever the name belongs to; only a
real, willing, unblocked recipient sees the request; accept / decline / block / report; the
30-day rule and the daily limit; people who have met skip the request."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.models import Block, Conversation, MatchedRoom, MessageRequest, Notification, Report
from blueberry.services import chat, chat_unread, message_requests, safety
from tests.conftest import get_csrf, login

HTMX = {"HX-Request": "true"}


@pytest.fixture
def people(make_user):
    users = {name: make_user(name, display_name=name.title()) for name in ("mina", "jun", "ara", "eve")}
    users["ara"].requests_from = "nobody"
    safety.block(users["eve"].id, users["mina"].id)
    db.session.commit()
    return users


def write(client, username: str, content: str, **headers):
    token = get_csrf(client, "/conversations")
    return client.post("/conversations", data={"csrf_token": token, "username": username, "content": content},
                       headers=headers)  # fmt: skip


def requested(client, content: str, answerer: str = "jun"):
    """Mina asks jun; the request, and `answerer` signed in with the requests page's CSRF token."""
    login(client, "mina")
    write(client, "jun", content)
    other = client.application.test_client()
    login(other, answerer)
    return db.session.scalar(select(MessageRequest)), other, get_csrf(other, "/conversations/requests")


def sent_row(html: str, name: str) -> str:
    """The sender's row for `name`, with the name and the row id taken out."""
    rows = [row.split("</li>")[0] for row in html.split('<li id="sent-request-')[1:]]
    (row,) = [row for row in rows if f"@{name}<" in row]
    return re.sub(r"^\d+", "", row).replace(f"@{name}<", "@<")


def test_the_sender_gets_one_answer_whoever_the_name_is(client, people):
    login(client, "mina")
    names = ("jun", "ghost", "ara", "eve")  # willing, nobody, takes no requests, blocked mina
    answers = [write(client, name, "hello there") for name in names]
    assert {(a.status_code, a.location) for a in answers} == {(303, "/conversations")}
    page = client.get("/conversations").get_data(as_text=True)
    assert page.count("Request sent.") == 1  # the flash of the last one
    assert len({sent_row(page, name) for name in names}) == 1
    htmx = [write(client, name, "again", **HTMX).status_code for name in ("jun", "ghost", "ara", "eve")]
    assert set(htmx) == {422}  # asked within 30 days: the same refusal for all four
    states = dict(db.session.execute(select(MessageRequest.recipient_name, MessageRequest.state)).all())
    assert states == {"jun": "pending", "ghost": "withheld", "ara": "withheld", "eve": "withheld"}


def test_only_a_willing_recipient_sees_it_and_nothing_else_arrives(client, people):
    login(client, "mina")
    write(client, "jun", "<b>hi</b> jun")
    write(client, "ara", "hi ara")
    for name, expected in (("jun", 1), ("ara", 0), ("eve", 0)):
        assert len(message_requests.incoming(people[name].id)) == expected
        assert chat_unread.unread_total(people[name].id) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0
    jun = client.application.test_client()
    login(jun, "jun")
    page = jun.get("/conversations/requests").get_data(as_text=True)
    assert "&lt;b&gt;hi&lt;/b&gt; jun" in page and "@mina" in page
    assert re.search(
        r'id="requests-link".*?<span class="badge">1</span>', jun.get("/conversations").get_data(as_text=True), re.S
    )


def test_accepting_opens_the_conversation_with_the_message_first(client, people):
    request, jun, token = requested(client, "first words")
    response = jun.post(f"/conversations/requests/{request.id}/accept", data={"csrf_token": token})
    conversation = db.session.scalar(select(Conversation))
    assert response.status_code == 303 and response.location == f"/conversations/{conversation.id}"
    messages = chat.messages_before(conversation.id, None)
    assert [(m.sender_id, m.content) for m in messages] == [(people["mina"].id, "first words")]
    note = db.session.scalar(select(Notification).where(Notification.user_id == people["mina"].id))
    assert "@jun" in note.title and note.link == f"/conversations/{conversation.id}"
    again = jun.post(f"/conversations/requests/{request.id}/accept", data={"csrf_token": token})
    assert again.status_code == 404  # answered: like any other request that is not waiting
    assert len(chat.messages_before(conversation.id, None)) == 1
    assert "sent-request-" not in client.get("/conversations").get_data(as_text=True)
    assert write(client, "jun", "now we talk").status_code == 303  # met now: straight in
    assert len(chat.messages_before(conversation.id, None)) == 2


@pytest.mark.parametrize("action", ["decline", "block", "report"])
def test_decline_block_and_report_take_it_off_the_list(client, people, action):
    request, jun, token = requested(client, "buy my course")
    form = {"csrf_token": token, "reason": "spam", "text": "twice"}
    response = jun.post(f"/conversations/requests/{request.id}/{action}", data=form, headers=HTMX)
    assert response.status_code == 200 and message_requests.incoming(people["jun"].id) == []
    db.session.expire_all()
    assert db.session.get(MessageRequest, request.id).state == "declined"
    assert safety.is_blocking(people["jun"].id, people["mina"].id) is (action == "block")
    report = db.session.scalar(select(Report))
    if action == "report":
        assert report.context == "request" and "buy my course" in report.text and "twice" in report.text
    else:
        assert report is None
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0
    page = client.get("/conversations").get_data(as_text=True)
    assert "@jun" in page and "Request sent" in page  # the sender's side never changes


def test_someone_elses_request_is_not_found(client, people):
    request, eve, token = requested(client, "hi", answerer="ara")
    for action in ("accept", "decline", "block", "report"):
        assert eve.post(f"/conversations/requests/{request.id}/{action}", data={"csrf_token": token}).status_code == 404
    assert eve.post("/conversations/requests/99999/accept", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/conversations/requests/{request.id}/accept").status_code == 400  # no CSRF token


def test_asking_again_after_30_days_replaces_the_old_request(client, people):
    login(client, "mina")
    write(client, "jun", "first")
    db.session.scalar(select(MessageRequest)).created_at -= timedelta(days=31)
    db.session.commit()
    assert write(client, "jun", "second").status_code == 303
    assert [r.content for r, _ in message_requests.incoming(people["jun"].id)] == ["second"]


def test_a_day_allows_a_limited_number_of_requests_named_or_not(app, client, people, make_user):
    app.config["MESSAGE_REQUESTS_PER_DAY"] = 3
    login(client, "mina")
    assert [write(client, name, "hi").status_code for name in ("jun", "nobody1", "ara")] == [303] * 3
    response = write(client, "nobody2", "hi")
    assert response.status_code == 429 and "Try again tomorrow" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MessageRequest)) == 3


def test_people_who_kept_a_match_write_without_a_request(client, people):
    mina, jun = people["mina"], people["jun"]
    db.session.add(MatchedRoom(user1_id=min(mina.id, jun.id), user2_id=max(mina.id, jun.id),
                               user1_keeps=True, user2_keeps=True))  # fmt: skip
    db.session.commit()
    login(client, "mina")
    response = write(client, "jun", "good talk!")
    conversation = db.session.scalar(select(Conversation))
    assert response.location == f"/conversations/{conversation.id}"
    assert db.session.scalar(select(MessageRequest)) is None


def test_a_block_turns_people_who_met_back_into_a_request(client, people):
    mina, eve = people["mina"], people["eve"]  # eve blocked mina
    db.session.add(MatchedRoom(user1_id=min(mina.id, eve.id), user2_id=max(mina.id, eve.id),
                               user1_keeps=True, user2_keeps=True))  # fmt: skip
    db.session.commit()
    login(client, "mina")
    assert write(client, "eve", "hello?").location == "/conversations"
    assert db.session.scalar(select(MessageRequest.state)) == "withheld"
    assert db.session.scalar(select(Block.blocker_id)) == eve.id
