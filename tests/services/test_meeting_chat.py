"""A meeting's conversation: its members follow the people going (join, an accepted offer,
leave, removal), and it takes messages only while the meeting is live by the clock, never
from someone who left."""

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from blueberry.blueprints.chat.socket import store_sends
from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.models import ConversationMember
from blueberry.services import book as catalog
from blueberry.services import chat, chat_system, chat_unread, meeting_lifecycle
from blueberry.services import meeting as meetings
from blueberry.services import meeting_waitlist as waitlist
from blueberry.services.meeting_chat import ENDED, LEFT, NOT_STARTED, MeetingSendRefused


@pytest.fixture
def club(app, clock, make_user, rdb):
    book_jobs.load_sample(if_empty=True)
    people = {name: make_user(name) for name in ("mina", "jun", "ara")}
    starts = clock.at + timedelta(hours=1)
    form = meetings.MeetingForm(book=catalog.bestsellers(1)[0], title="Club", description="", starts_at=starts,
                                ends_at=starts + timedelta(hours=1), capacity=2, online=True, place="")  # fmt: skip
    meeting = meetings.create(people["mina"], form)
    meetings.join(meeting, people["jun"])
    meetings.join(meeting, people["ara"])  # waiting
    db.session.commit()
    return meeting, people


def members(meeting) -> dict[str, bool]:
    """user id → still in (not left)."""
    rows = db.session.scalars(
        select(ConversationMember).where(ConversationMember.conversation_id == meeting.conversation_id)
    )
    return {row.user_id: row.left_at is None for row in rows}


def send(meeting, user, text="hello"):
    (result,) = store_sends([chat.Send(meeting.conversation_id, user.id, f"c-{text}-{user.id}", text)])
    db.session.commit()
    return result


def test_the_members_follow_the_people_going(club):
    meeting, people = club
    mina, jun, ara = people["mina"], people["jun"], people["ara"]
    assert members(meeting) == {mina.id: True, jun.id: True}  # the waitlist is not in the room
    meetings.leave(meeting, jun)
    db.session.commit()
    assert members(meeting) == {mina.id: True, jun.id: False}
    waitlist.accept(meeting, meetings.participant(meeting.id, ara.id))  # his place was offered to her
    db.session.commit()
    assert members(meeting) == {mina.id: True, jun.id: False, ara.id: True}
    meetings.remove(meeting, mina, ara.id)
    db.session.commit()
    assert members(meeting)[ara.id] is False


@pytest.mark.parametrize(
    ("from_start", "refused"),
    [
        (timedelta(minutes=-30), NOT_STARTED),
        (timedelta(minutes=-5), NOT_STARTED),  # the lobby: gathering, not talking yet
        (timedelta(seconds=1), None),
        (timedelta(minutes=59), None),
        (timedelta(hours=1), ENDED),
    ],
)
def test_the_room_takes_messages_only_while_live(club, clock, from_start, refused):
    meeting, people = club
    clock.at = meeting.starts_at + from_start
    result = send(meeting, people["jun"])
    if refused:
        assert isinstance(result, MeetingSendRefused) and result.code == refused
        assert chat.last_seq(meeting.conversation_id) == 1  # only "jun joined"
    else:
        data, created = result
        assert created and data["seq"] == 2


def test_someone_who_left_cannot_send_and_hears_nothing_new(club, clock):
    meeting, people = club
    clock.at = meeting.starts_at + timedelta(minutes=1)
    meetings.leave(meeting, people["jun"])
    db.session.commit()
    result = send(meeting, people["jun"])
    assert isinstance(result, MeetingSendRefused) and result.code == LEFT
    data, _ = send(meeting, people["mina"])
    assert data["seq"] == 3  # after "jun joined" and "jun left"
    assert chat_unread.unread_counts(people["jun"].id).get(meeting.conversation_id, 0) == 0


def history(meeting) -> list[tuple]:
    """(sender, what) for each message: the system ones by their event and person."""
    db.session.expire_all()
    out = []
    for message in chat.messages_after(meeting.conversation_id, 0):
        data = chat.message_data(message)
        said = chat_system.payload(data) if data["type"] == "system" else {}
        out.append((data["sender_id"], said.get("event", data["content"]), said.get("user_id")))
    return out


def test_membership_and_the_clock_leave_system_messages_in_the_sequence(club, clock):
    meeting, people = club
    mina, jun, ara = people["mina"], people["jun"], people["ara"]
    meetings.leave(meeting, jun)  # his place goes to ara, who takes it
    waitlist.accept(meeting, meetings.participant(meeting.id, ara.id))
    db.session.commit()
    clock.at = meeting.starts_at
    meeting_lifecycle.reach(meeting.id, "start")
    db.session.commit()
    send(meeting, ara, "hi all")
    meetings.remove(meeting, mina, ara.id)
    clock.at = meeting.ends_at
    meeting_lifecycle.reach(meeting.id, "end")
    db.session.commit()
    assert history(meeting) == [
        (None, "joined", jun.id), (None, "left", jun.id), (None, "joined", ara.id), (None, "started", None),
        (ara.id, "hi all", None), (None, "removed", ara.id), (None, "ended", None),
    ]  # fmt: skip
    assert chat_unread.unread_counts(mina.id) == {meeting.conversation_id: 1}  # ara's message, no notice
    gone = chat.member(meeting.conversation_id, ara.id)
    kept = chat.messages_before(meeting.conversation_id, None, until_seq=gone.left_seq)
    assert [m.seq for m in kept] == [1, 2, 3, 4, 5, 6]  # ara keeps it up to her own removal


def test_a_system_message_is_told_in_each_readers_language(app, club):
    meeting, people = club
    (joined,) = [chat.message_data(m) for m in chat.messages_after(meeting.conversation_id, 0)]
    with app.test_request_context(), force_locale("ko"):
        korean = chat_system.text(joined)
    with app.test_request_context(), force_locale("en"):
        english = chat_system.text(joined)
    assert (
        english == f"{people['jun'].display_name} joined."
        and korean != english
        and people["jun"].display_name in korean
    )
