"""A block closes a direct conversation, over real websockets: the blocked person's open
window closes with 4403 (a reconnect closes the same way), sends either way answer `blocked`
and are not stored (the blocked person's are refused by the send batch's check), uploads are
refused, and the page shows the history without a composer.

Written around `world` (who blocks whom in which conversation) so group conversations can add
their own rows: there, a block refuses nothing and hides the blocked person from the blocker."""

import io
import json

import pytest
from sqlalchemy import func, select

from blueberry.blueprints.chat.socket import store_sends
from blueberry.extensions import db
from blueberry.models import Conversation, ConversationMember, Message
from blueberry.services import chat, chat_blocks, chat_unread, notifications, safety
from blueberry.services.conversation import conversations_of, start_direct
from tests.conftest import LIVE_SECRET, get_csrf, login
from tests.realtime.clients import closed_code, connect_ws, open_session, ws_events, ws_next


@pytest.fixture
def world(app, make_user, live_server):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    conversation = start_direct(mina.id, jun.id)
    chat.post_message(conversation.id, jun.id, "before", "sent before the block")
    db.session.commit()
    cookies = {user.username: open_session(app, user, LIVE_SECRET) for user in (mina, jun)}
    return {"mina": mina, "jun": jun, "conversation": conversation, "cookies": cookies}


def open_chat(live_server, world, who: str):
    return connect_ws(live_server.url, world["cookies"][who], f"/ws/conversations/{world['conversation'].id}?after=1")


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Message))


def test_the_blocked_persons_window_closes_and_stays_closed(live_server, world):
    juns = open_chat(live_server, world, "jun")
    minas = open_chat(live_server, world, "mina")
    safety.block(world["mina"].id, world["jun"].id)
    db.session.commit()
    assert ws_next(juns, "error")["code"] == "blocked"
    assert closed_code(juns) == 4403  # documented: do not reconnect
    again = open_chat(live_server, world, "jun")
    assert ws_next(again, "error")["code"] == "blocked" and closed_code(again) == 4403
    minas.send(json.dumps({"type": "ping"}))  # the blocker's window stays open, with its history
    assert ws_next(minas, "pong") == {}


def test_the_blockers_sends_are_refused_and_not_stored(live_server, world):
    ws = open_chat(live_server, world, "mina")
    safety.block(world["mina"].id, world["jun"].id)
    db.session.commit()
    ws.send(json.dumps({"type": "message.send", "client_id": "after", "content": "still there?"}))
    assert ws_next(ws, "error")["code"] == "blocked"
    assert stored() == 1
    ws.send(json.dumps({"type": "ping"}))  # an error answer, and the socket stays up
    assert ws_next(ws, "pong") == {}


def test_the_send_batch_refuses_blocked_sends_only(app, make_user):
    mina, jun, ara = make_user("mina"), make_user("jun"), make_user("ara")
    closed, open_ = start_direct(mina.id, jun.id), start_direct(mina.id, ara.id)
    group = Conversation(kind="meeting", origin="meeting")
    db.session.add(group)
    db.session.flush()
    db.session.add_all(ConversationMember(conversation_id=group.id, user_id=u.id) for u in (mina, jun, ara))
    safety.block(jun.id, mina.id)
    db.session.commit()
    sends = [chat.Send(closed.id, mina.id, "a", "x"), chat.Send(closed.id, jun.id, "b", "x"),
             chat.Send(open_.id, mina.id, "c", "x"), chat.Send(group.id, mina.id, "d", "x")]  # fmt: skip
    assert chat_blocks.sends_blocked(sends) == [True, True, False, False]  # a group refuses nothing
    safety.unblock(jun.id, mina.id)
    db.session.commit()
    assert chat_blocks.sends_blocked(sends) == [False, False, False, False]


def test_the_page_keeps_the_history_without_a_composer_and_uploads_are_refused(client, world):
    safety.block(world["mina"].id, world["jun"].id)
    db.session.commit()
    login(client, "jun")
    path = f"/conversations/{world['conversation'].id}"
    page = client.get(path).get_data(as_text=True)
    assert "sent before the block" in page and "You can no longer send messages" in page
    assert 'id="composer"' not in page and "ws-connect" not in page
    form = {"csrf_token": get_csrf(client, path), "client_id": "u-1"}
    form["file"] = (io.BytesIO(b"hello"), "note.txt")
    assert client.post(f"{path}/attachments", data=form).status_code == 403
    assert stored() == 1


def test_a_block_takes_the_blocked_persons_messages_out_of_the_counts(app, make_user):
    mina, jun, ara = make_user("mina"), make_user("jun"), make_user("ara")
    direct = start_direct(mina.id, jun.id)
    group = Conversation(kind="meeting", origin="meeting")
    db.session.add(group)
    db.session.flush()
    db.session.add_all(ConversationMember(conversation_id=group.id, user_id=u.id) for u in (mina, jun, ara))
    db.session.commit()
    for conversation in (direct, group):
        chat.post_message(conversation.id, jun.id, f"j-{conversation.id}", "from jun")
        chat.post_message(conversation.id, mina.id, f"m-{conversation.id}", "from mina")
    chat.post_message(group.id, ara.id, "a-1", "from ara")
    db.session.commit()
    assert chat_unread.unread_counts(mina.id) == {direct.id: 1, group.id: 2}
    safety.block(mina.id, jun.id)
    db.session.commit()
    assert chat_unread.unread_counts(mina.id) == {group.id: 1}  # only ara's: jun is hidden from mina everywhere
    assert chat_unread.unread_counts(jun.id) == {group.id: 2}  # in the group, the block hides nothing from him
    assert chat_unread.unread_total(jun.id) == 2  # and their direct conversation, closed, counts for neither


def test_a_refused_send_reaches_no_stream_of_the_blocker(app, live_server, world):
    minas_stream = connect_ws(live_server.url, world["cookies"]["mina"])
    minas_stream.send(json.dumps({"type": "ping"}))
    ws_next(minas_stream, "pong")  # subscribed
    safety.block(world["mina"].id, world["jun"].id)
    db.session.commit()
    with app.test_request_context():
        (answer,) = store_sends([chat.Send(world["conversation"].id, world["jun"].id, "late", "are you there?")])
    db.session.commit()
    assert isinstance(answer, chat_blocks.SendBlocked) and stored() == 1
    notifications.notify(world["mina"], "marker")
    db.session.commit()
    (event,) = ws_events(minas_stream, 1)  # no toast, no count: the marker is the next thing she hears
    assert (event["type"], event["data"]["title"]) == ("notification.new", "marker")


def test_a_block_takes_a_direct_conversation_off_the_list_and_keeps_a_group(app, make_user):
    mina, jun = make_user("mina"), make_user("jun")
    direct = start_direct(mina.id, jun.id)
    group = Conversation(kind="meeting", origin="meeting")
    db.session.add(group)
    db.session.flush()
    db.session.add_all(ConversationMember(conversation_id=group.id, user_id=u.id) for u in (mina, jun))
    db.session.commit()
    assert {row.conversation.id for row in conversations_of(mina.id)} == {direct.id, group.id}
    safety.block(mina.id, jun.id)
    db.session.commit()
    for user in (mina, jun):  # the group's only other member is jun, and it stays listed for both
        assert [row.conversation.id for row in conversations_of(user.id)] == [group.id]


@pytest.fixture
def group_world(app, make_user, live_server):
    """Mina, jun and ara in a group conversation, with what ara and jun said before any block."""
    people = {name: make_user(name, display_name=name.title()) for name in ("mina", "jun", "ara")}
    group = Conversation(kind="meeting", origin="meeting")
    db.session.add(group)
    db.session.flush()
    db.session.add_all(ConversationMember(conversation_id=group.id, user_id=u.id) for u in people.values())
    chat.post_message(group.id, people["ara"].id, "a1", "ara before")
    chat.post_message(group.id, people["jun"].id, "j1", "jun before")
    db.session.commit()
    cookies = {name: open_session(app, user, LIVE_SECRET) for name, user in people.items()}
    return {**people, "conversation": group, "cookies": cookies}


def send_frame(ws, client_id: str, content: str) -> None:
    ws.send(json.dumps({"type": "message.send", "client_id": client_id, "content": content}))


def test_in_a_group_the_blocker_stops_seeing_the_blocked_person_live(live_server, group_world):
    windows = {name: open_chat(live_server, group_world, name) for name in ("mina", "jun", "ara")}
    minas_stream = connect_ws(live_server.url, group_world["cookies"]["mina"])
    for ws in (*windows.values(), minas_stream):
        ws.send(json.dumps({"type": "ping"}))
        ws_next(ws, "pong")  # subscribed
    safety.block(group_world["mina"].id, group_world["jun"].id)
    db.session.commit()
    send_frame(windows["jun"], "j2", "jun after")  # his window stays open and his message is stored
    assert ws_next(windows["ara"], "message.new")["content"] == "jun after"
    send_frame(windows["ara"], "a2", "ara after")
    assert ws_next(windows["mina"], "message.new")["content"] == "ara after"  # jun's was passed over
    toast = ws_next(minas_stream, "conversation.updated")
    assert (toast["content"], toast["unread"]) == ("ara after", 2)  # no toast and no count for jun's
    assert [ws_next(windows["jun"], "message.new")["content"] for _ in range(2)] == ["jun after", "ara after"]


def test_in_a_group_replay_page_and_list_leave_out_the_blocked_person(client, live_server, group_world):
    safety.block(group_world["mina"].id, group_world["jun"].id)
    chat.post_message(group_world["conversation"].id, group_world["jun"].id, "j2", "jun after")
    db.session.commit()
    minas = connect_ws(
        live_server.url, group_world["cookies"]["mina"], f"/ws/conversations/{group_world['conversation'].id}?after=0"
    )
    assert ws_next(minas, "message.new")["content"] == "ara before"
    minas.send(json.dumps({"type": "ping"}))
    assert ws_events(minas, 1)[0]["type"] == "pong"  # nothing of jun's came before it
    juns = open_chat(live_server, group_world, "jun")  # the blocked person is not shut out of a group
    juns.send(json.dumps({"type": "ping"}))
    assert ws_next(juns, "pong") == {}
    login(client, "mina")
    page = client.get(f"/conversations/{group_world['conversation'].id}").get_data(as_text=True)
    assert "ara before" in page and "jun before" not in page and "jun after" not in page
    (row,) = conversations_of(group_world["mina"].id)
    assert row.last.content == "ara before" and row.unread == 1
    (row,) = conversations_of(group_world["ara"].id)
    assert row.last.content == "jun after"  # ara blocked nobody
