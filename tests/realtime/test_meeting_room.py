"""A meeting's room over real websockets, against the app under gunicorn: three members talk
live, a room before its lobby refuses with 4425, presence counts people (not tabs), survives a
reload, announces a departure once after the grace, and clears a crashed worker's entries."""

import json
import time
from datetime import timedelta

import pytest
import redis

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.models.base import utcnow
from blueberry.realtime.events import PRESENCE_UPDATED, conversation_topic, publish_now
from blueberry.services import book as catalog
from blueberry.services import chat_system
from blueberry.services import meeting as meetings
from blueberry.services.presence import KEY
from tests.conftest import LIVE_SECRET
from tests.realtime.clients import closed_code, connect_ws, open_session, ws_next

GRACE_S = 1.0


@pytest.fixture
def live_env():
    return {"PRESENCE_GRACE_S": str(GRACE_S), "PRESENCE_BEAT_S": "0.5", "PRESENCE_TTL_S": "2"}


def open_meeting(leader, starts_in: timedelta):
    """A meeting opened a day ahead, then moved to `starts_in` from now (the form takes only
    future times; the room's rules read the columns)."""
    book_jobs.load_sample(if_empty=True)
    starts = utcnow() + timedelta(days=1)
    form = meetings.MeetingForm(book=catalog.bestsellers(1)[0], title="Night readers", description="",
                                starts_at=starts, ends_at=starts + timedelta(hours=1), capacity=5, online=True,
                                place="")  # fmt: skip
    meeting = meetings.create(leader, form)
    meeting.starts_at = utcnow() + starts_in
    meeting.ends_at = meeting.starts_at + timedelta(hours=1)
    return meeting


@pytest.fixture
def room(app, make_user, live_server):
    people = {name: make_user(name, display_name=name.title()) for name in ("mina", "jun", "ara")}
    meeting = open_meeting(people["mina"], timedelta(minutes=-1))
    for name in ("jun", "ara"):
        meetings.join(meeting, people[name])
    db.session.commit()
    cookies = {name: open_session(app, user, LIVE_SECRET) for name, user in people.items()}
    return {"meeting": meeting, "people": people, "cookies": cookies, "url": live_server.url}


def enter(room, who: str, after: int | None = None):
    last = "" if after is None else f"?after={after}"
    path = f"/ws/conversations/{room['meeting'].conversation_id}{last}"
    return connect_ws(room["url"], room["cookies"][who], path)


def settled(ws, who_online: set[int], timeout: float = 5.0) -> dict:
    """The presence.updated that shows exactly `who_online`."""
    deadline = time.monotonic() + timeout
    while True:
        data = ws_next(ws, "presence.updated", timeout=max(0.1, deadline - time.monotonic()))
        if set(data["online"]) == who_online:
            return data


def test_three_members_talk_live_in_one_room(room):
    ids = {name: user.id for name, user in room["people"].items()}
    windows = {}
    for name in ("mina", "jun", "ara"):
        windows[name] = enter(room, name, after=0)
        assert ws_next(windows[name], "meeting.state")["phase"] == "live"
    for ws in windows.values():
        settled(ws, set(ids.values()))
    for name, ws in windows.items():
        ws.send(json.dumps({"type": "message.send", "client_id": f"hello-{name}", "content": f"hello from {name}"}))
        for other, theirs in windows.items():
            received = ws_next(theirs, "message.new")
            while received["type"] == "system":
                received = ws_next(theirs, "message.new")
            assert (received["sender_id"], received["content"]) == (ids[name], f"hello from {name}"), other


def test_replay_holds_the_system_messages_in_place(room):
    ws = enter(room, "mina", after=0)
    first, second = ws_next(ws, "message.new"), ws_next(ws, "message.new")
    said = [(m["type"], m["sender_id"], chat_system.payload(m).get("event")) for m in (first, second)]
    assert said == [("system", None, "joined"), ("system", None, "joined")]
    assert [first["seq"], second["seq"]] == [1, 2]


def test_a_room_before_its_lobby_refuses_with_4425(app, make_user, live_server):
    mina = make_user("mina")
    meeting = open_meeting(mina, timedelta(hours=2))
    db.session.commit()
    cookie = open_session(app, mina, LIVE_SECRET)
    ws = connect_ws(live_server.url, cookie, f"/ws/conversations/{meeting.conversation_id}")
    assert ws_next(ws, "error")["code"] == "meeting_not_open"
    assert closed_code(ws) == 4425  # documented: do not reconnect


def test_two_tabs_count_once_and_a_reload_does_not_flicker(room):
    jun, mina = room["people"]["jun"].id, room["people"]["mina"].id
    minas = enter(room, "mina")
    first, second = enter(room, "jun"), enter(room, "jun")
    settled(minas, {mina, jun})
    first.close()  # one tab closed, the other open; then the other reloads
    second.close()
    again = enter(room, "jun")
    ws_next(again, "meeting.state")
    time.sleep(GRACE_S + 1.0)  # past the grace of both closed tabs: nothing may have been said
    minas.send(json.dumps({"type": "ping"}))
    while True:
        raw = json.loads(minas.receive(timeout=5))
        assert not (raw["type"] == "presence.updated" and raw["data"]["left"]), raw
        if raw["type"] == "pong":
            break


def test_leaving_is_announced_once_after_the_grace(room):
    jun, mina, ara = (room["people"][n].id for n in ("jun", "mina", "ara"))
    minas, aras, juns = enter(room, "mina"), enter(room, "ara"), enter(room, "jun")
    settled(minas, {mina, jun, ara})
    closed_at = time.monotonic()
    juns.close()
    data = settled(minas, {mina, ara}, timeout=GRACE_S + 5)
    assert data["left"] == [jun] and time.monotonic() - closed_at >= GRACE_S
    while not (data := ws_next(aras, "presence.updated"))["left"]:
        pass
    assert (data["online"], data["left"]) == ([mina, ara], [jun])  # one announcement, heard by everyone
    minas.send(json.dumps({"type": "ping"}))
    assert ws_next(minas, "pong") == {}  # and no second one before it


def test_an_announcement_older_than_what_a_window_was_shown_is_not_passed_on(room, live_redis):
    """Made before the window's snapshot but still on its way to it, an announcement would show
    the room as it was (someone there missing from it, with nobody said to have left)."""
    mina, ara = room["people"]["mina"].id, room["people"]["ara"].id
    minas = enter(room, "mina")
    shown = ws_next(minas, "presence.updated")
    topic = conversation_topic(room["meeting"].conversation_id)
    live = redis.Redis.from_url(live_redis.url)

    publish_now(live, topic, PRESENCE_UPDATED, {"online": [ara], "left": [mina], "at": shown["at"] - 1})
    publish_now(live, topic, PRESENCE_UPDATED, {"online": [mina, ara], "left": [], "at": shown["at"] + 1})

    assert ws_next(minas, "presence.updated")["online"] == [mina, ara]  # the stale one was passed over


def test_a_crashed_workers_entry_lapses_and_is_cleared_by_a_heartbeat(room, live_redis):
    """A worker killed mid-connection never departs: its entry stays as its last heartbeat left
    it. Another window's heartbeat removes it once it lapses, and says who left."""
    jun, mina = room["people"]["jun"].id, room["people"]["mina"].id
    key = KEY.format(room["meeting"].conversation_id)
    redis.Redis.from_url(live_redis.url).zadd(key, {f"{jun}:crashed-worker": time.time() + 1.5})
    minas = enter(room, "mina")
    assert set(ws_next(minas, "presence.updated")["online"]) == {mina, jun}  # the ghost, for now
    data = settled(minas, {mina}, timeout=6)
    assert data["left"] == [jun]


def test_someone_who_left_is_refused_by_the_socket(room, app):
    meetings.leave(room["meeting"], room["people"]["ara"])
    db.session.commit()
    with pytest.raises(Exception) as refused:
        enter(room, "ara")
    assert "404" in str(refused.value)


def test_leaving_closes_the_leavers_windows_and_renames_the_room_for_the_others(room):
    mina, ara = room["people"]["mina"].id, room["people"]["ara"].id
    minas, aras = enter(room, "mina"), enter(room, "ara")
    for ws in (minas, aras):
        ws.send(json.dumps({"type": "ping"}))
        ws_next(ws, "pong")
    meetings.leave(room["meeting"], room["people"]["ara"])
    db.session.commit()
    notice = ws_next(aras, "message.new")
    assert chat_system.payload(notice) == {"event": "left", "user_id": ara, "name": "Ara"}
    assert closed_code(aras) == 4410  # documented: do not reconnect
    assert chat_system.payload(ws_next(minas, "message.new"))["event"] == "left"
    assert mina in ws_next(minas, "presence.updated")["online"]  # the room's people, anew
