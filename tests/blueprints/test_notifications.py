"""The notification inbox: only your own, mark read, mark all read, older pages; `flask notify`."""

import pytest
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import Notification
from blueberry.services import notifications
from tests.conftest import get_csrf, login


@pytest.fixture
def mina(client, make_user):
    user = make_user("mina")
    login(client, "mina")
    return user


def test_inbox_lists_only_my_notifications_escaped(client, mina, make_user):
    other = make_user("jun")
    notifications.notify(mina, "<script>x</script>", body="for mina")
    notifications.notify(other, "for jun")
    db.session.commit()
    html = client.get("/notifications").get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html
    assert "for jun" not in html
    assert 'id="notification-badge"' in html and ">1</span>" in html


def test_mark_read_is_404_for_someone_elses_notification(client, mina, make_user):
    theirs = notifications.notify(make_user("jun"), "private")
    db.session.commit()
    token = get_csrf(client, "/notifications")
    assert client.post(f"/notifications/{theirs.id}/read", data={"csrf_token": token}).status_code == 404
    assert client.post("/notifications/999999/read", data={"csrf_token": token}).status_code == 404
    assert db.session.get(Notification, theirs.id).read_at is None


def test_mark_read_and_read_all(client, mina):
    first, second, third = (notifications.notify(mina, f"n{i}") for i in range(3))
    db.session.commit()
    token = get_csrf(client, "/notifications")
    fragment = client.post(
        f"/notifications/{first.id}/read", data={"csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and f'id="notification-{first.id}"' in fragment.get_data(as_text=True)
    assert notifications.unread_count(mina.id) == 2
    assert client.post("/notifications/read-all", data={"csrf_token": token}).status_code == 303
    assert notifications.unread_count(mina.id) == 0


def test_older_pages_load_by_cursor(client, mina):
    for i in range(notifications.PAGE_SIZE + 5):
        notifications.notify(mina, f"note {i}")
    db.session.commit()
    first = client.get("/notifications").get_data(as_text=True)
    assert "note 54" in first and "note 4<" not in first and "Load older" in first
    oldest_shown = min(n.id for n in notifications.list_notifications(mina.id))
    older = client.get(f"/notifications?before={oldest_shown}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in older and "note 4<" in older and "Load older" not in older


def test_mark_read_needs_csrf_and_login(client, make_user):
    note = notifications.notify(make_user("jun"), "x")
    db.session.commit()
    assert client.post(f"/notifications/{note.id}/read").status_code == 400
    assert client.get("/notifications").status_code == 302


def test_flask_notify_command(app, make_user):
    user = make_user("mina")
    result = app.test_cli_runner().invoke(args=["notify", "mina", "Hello from the operators", "--link", "/books"])
    assert result.exit_code == 0, result.output
    note = db.session.scalar(select(Notification).where(Notification.user_id == user.id))
    assert (note.title, note.link, note.kind) == ("Hello from the operators", "/books", "operator")
    unknown = app.test_cli_runner().invoke(args=["notify", "nobody", "x"])
    assert unknown.exit_code != 0 and "no user" in unknown.output


def test_missed_events_come_from_sql_in_order(app, make_user):
    user = make_user("mina")
    notes = [notifications.notify(user, f"n{i}") for i in range(3)]
    db.session.commit()
    events = notifications.missed_events(user.id, notes[0].id)
    assert [e["data"]["title"] for e in events] == ["n1", "n2"]
    assert all(e["type"] == "notification.new" for e in events)


def test_notify_many_stores_one_each_and_publishes_after_commit(app, make_user, rdb):
    users = [make_user(f"user_{i}") for i in range(3)]
    notifications.notify(users[0], "earlier")
    db.session.commit()
    pubsub = rdb.pubsub()
    pubsub.subscribe(*(f"bb:user:{u.id}" for u in users))
    assert notifications.notify_many([u.id for u in users], "Meeting moved") == 3
    db.session.commit()
    messages = []
    while (message := pubsub.get_message(timeout=1)) is not None:
        if message["type"] == "message":
            messages.append(message["data"])
    assert len(messages) == 3 and all("Meeting moved" in m for m in messages)
    assert notifications.unread_count(users[0].id) == 2
    assert [e["data"]["title"] for e in notifications.missed_events(users[1].id, 0)] == ["Meeting moved"]
