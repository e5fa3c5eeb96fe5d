"""Conversation pages: the list, a conversation and its older pages, starting one, receipts
setting; members only (404 for anyone else), everything escaped."""

from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import Conversation
from blueberry.services import chat
from blueberry.services.conversation import start_direct
from tests.conftest import get_csrf, login

HTMX = {"HX-Request": "true"}


def chatting(make_user):
    mina, jun = make_user("mina"), make_user("jun", gender="male", display_name="<script>alert(1)</script>")
    conversation = start_direct(mina.id, jun.id)
    db.session.commit()
    return mina, jun, conversation


def test_writing_to_someone_met_posts_into_our_conversation(client, make_user):
    mina, jun, conversation = chatting(make_user)
    login(client, "mina")
    token = get_csrf(client, "/conversations")
    response = client.post("/conversations", data={"csrf_token": token, "username": "JUN", "content": "hi again"})
    assert response.status_code == 303 and response.location.endswith(f"/conversations/{conversation.id}")
    assert [m.content for m in chat.messages_before(conversation.id, None)] == ["hi again"]
    form = {"csrf_token": token, "username": "jun", "content": "again"}
    response = client.post("/conversations", data=form, headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith(str(conversation.id))
    assert client.post("/conversations", data={"username": "jun", "content": "x"}).status_code == 400  # no CSRF
    client.application.config["CHAT_SENDS_PER_10S"] = 3  # the two above, and one more
    assert client.post("/conversations", data=form).status_code == 303
    assert client.post("/conversations", data=form).status_code == 429
    assert len(chat.messages_before(conversation.id, None)) == 3


def test_writing_needs_a_name_and_a_message(client, make_user):
    make_user("mina")
    login(client, "mina")
    token = get_csrf(client, "/conversations")
    page = client.post("/conversations", data={"csrf_token": token, "username": "", "content": ""})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "Write a username." in text and "Write something first." in text
    page = client.post("/conversations", data={"csrf_token": token, "username": "mina", "content": "me?"})
    assert page.status_code == 422 and "That is you." in page.get_data(as_text=True)
    assert db.session.scalar(select(Conversation)) is None


def test_members_only_everywhere(client, make_user):
    mina, jun, conversation = chatting(make_user)
    make_user("eve")
    assert client.get(f"/conversations/{conversation.id}").status_code == 302  # anonymous: log in first
    login(client, "eve")
    assert client.get(f"/conversations/{conversation.id}").status_code == 404
    assert client.get("/conversations/not-a-uuid").status_code == 404
    token = get_csrf(client, "/conversations")
    form = {"csrf_token": token, "hide": "1"}
    assert client.post(f"/conversations/{conversation.id}/read-receipts", data=form).status_code == 404
    assert "jun" not in client.get("/conversations").get_data(as_text=True)


def test_the_page_shows_latest_messages_escaped_and_pages_older_ones(client, make_user):
    mina, jun, conversation = chatting(make_user)
    for n in range(1, 56):
        sender = jun.id if n % 2 else mina.id
        chat.post_message(conversation.id, sender, f"c{n}", f"message {n} <img src=x onerror=alert(1)>")
    db.session.commit()
    login(client, "mina")
    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert page.count('class="bubble') == 50 and 'data-seq="6"' in page and 'data-seq="5"' not in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert "?after=55" in page and "before=6" in page
    older = client.get(f"/conversations/{conversation.id}?before=6", headers=HTMX).get_data(as_text=True)
    assert older.count('class="bubble') == 5 and "Load older" not in older
    listing = client.get("/conversations").get_data(as_text=True)
    assert "&lt;script&gt;" in listing and 'class="badge">28<' in listing  # 28 unread from jun


def test_hiding_read_receipts(client, make_user):
    mina, jun, conversation = chatting(make_user)
    login(client, "mina")
    token = get_csrf(client, f"/conversations/{conversation.id}")
    response = client.post(f"/conversations/{conversation.id}/read-receipts", data={"csrf_token": token, "hide": "1"})
    assert response.status_code == 303
    db.session.expire_all()
    assert chat.member(conversation.id, mina.id).hide_read_receipts
    assert "Show read receipts" in client.get(f"/conversations/{conversation.id}").get_data(as_text=True)


def test_the_nav_counts_unread_messages(client, make_user):
    mina, jun, conversation = chatting(make_user)
    for n in range(3):
        chat.post_message(conversation.id, jun.id, f"c{n}", "hi")
    db.session.commit()
    login(client, "mina")
    page = client.get("/").get_data(as_text=True)
    assert 'id="messages-badge" class="badge" role="img" aria-label="3 unread messages"' in page


def test_past_99_unread_the_list_and_the_nav_say_99_plus(client, make_user):
    mina, jun, conversation = chatting(make_user)
    chat.post_messages([chat.Send(conversation.id, jun.id, f"c{n}", "hi") for n in range(120)])
    db.session.commit()
    login(client, "mina")
    listing = client.get("/conversations").get_data(as_text=True)
    assert 'class="badge">99+<' in listing and ">120<" not in listing
    assert 'aria-label="120 unread messages"' in listing and ">99+</span>" in listing


def test_my_messages_show_the_status_the_positions_give(client, make_user):
    mina, jun, conversation = chatting(make_user)
    sent = [chat.post_message(conversation.id, mina.id, f"c{n}", "hi")[0] for n in range(3)]
    db.session.commit()
    juns = chat.member(conversation.id, jun.id)
    juns.delivered_seq, juns.last_read_seq = 2, 1
    db.session.commit()
    login(client, "mina")
    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    shown = [page.split(f'id="receipt-{m["id"]}"')[1].split('data-status="')[1].split('"')[0] for m in sent]
    assert shown == ["read", "delivered", "sent"]
