"""Meetings: opening one (times in the leader's zone, the rules on length, capacity and place),
joining a place or the waitlist, leaving, cancelling, the limit of ten, and who may do what."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.jobs import get_queue
from blueberry.models import Conversation, Meeting, MeetingParticipant, Notification
from blueberry.models.base import utcnow
from blueberry.services import book as catalog
from blueberry.services import chat, receipts
from blueberry.services import meeting as meetings
from blueberry.services.meeting_lifecycle import moment_job_id
from tests.conftest import get_csrf, login

HTMX = {"HX-Request": "true"}


@pytest.fixture
def book(app):
    book_jobs.load_sample(if_empty=True)
    return next(b for b in catalog.bestsellers(20) if b.title == "채식주의자")


def open_meeting(leader, book, capacity=3, starts_in=timedelta(days=2), **fields) -> Meeting:
    starts = utcnow() + starts_in
    form = meetings.MeetingForm(book=book, title=fields.get("title", "채식주의자 읽기"), description="",
                                starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=capacity,
                                online=True, place="")  # fmt: skip
    meeting = meetings.create(leader, form)
    db.session.commit()
    return meeting


def form_data(token, chosen, **overrides) -> dict:
    tomorrow = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    data = {"csrf_token": token, "book": chosen.isbn13, "title": "Vegetarian night", "day": tomorrow, "start": "19:00",
            "duration": "90", "capacity": "6", "place": "Café Blue, Mapo"}  # fmt: skip
    return {**data, **overrides}


def test_opening_a_meeting_in_my_time_zone(client, make_user, book):
    make_user("mina", timezone="Asia/Seoul")
    login(client, "mina")
    token = get_csrf(client, "/meetings/new")
    response = client.post("/meetings/new", data=form_data(token, book))
    meeting = db.session.scalar(select(Meeting))
    assert response.status_code == 303 and response.location.endswith(f"/meetings/{meeting.id}")
    assert meeting.starts_at.hour == 10 and meeting.ends_at - meeting.starts_at == timedelta(minutes=90)  # 19:00 KST
    assert (meeting.going, meeting.capacity, meeting.place, meeting.online) == (1, 6, "Café Blue, Mapo", False)
    conversation = db.session.get(Conversation, meeting.conversation_id)
    assert (conversation.kind, conversation.title) == ("meeting", "Vegetarian night")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Vegetarian night" in page and "7:00\u202fPM" in page and "Cancel the meeting" in page and "👑" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"day": "2020-01-01"}, "Choose a time in the future."),
        ({"capacity": "1"}, "Number must be between 2 and 50."),
        ({"capacity": "51"}, "Number must be between 2 and 50."),
        ({"duration": "20"}, "Not a valid choice."),
        ({"place": ""}, "Say where, or make it an online meeting."),
        ({"book": "9780000000000"}, "Choose a book from the catalog."),
        ({"title": "  "}, "Give the meeting a name."),
    ],
)
def test_a_form_that_breaks_a_rule_comes_back_with_the_reason(client, make_user, book, overrides, message):
    make_user("mina")
    login(client, "mina")
    token = get_csrf(client, "/meetings/new")
    response = client.post("/meetings/new", data=form_data(token, book, **overrides))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(Meeting)) is None


def test_the_book_search_offers_choices_and_a_book_page_preselects(client, make_user, book):
    make_user("mina")
    login(client, "mina")
    options = client.get("/meetings/new/books?q=한강", headers=HTMX).get_data(as_text=True)
    assert options.count('type="radio" name="book"') == 6 and "채식주의자" in options
    page = client.get(f"/meetings/new?book={book.isbn13}").get_data(as_text=True)
    assert f'value="{book.isbn13}" checked' in page


def test_join_a_place_then_the_waitlist_and_leave(client, make_user, book):
    leader, jun, ara = make_user("mina"), make_user("jun", gender="male"), make_user("ara")
    meeting = open_meeting(leader, book, capacity=2)
    assert meetings.join(meeting, jun) == "going"
    assert meetings.join(meeting, jun) == "going"  # twice: the same place
    assert meetings.join(meeting, ara) == "waitlisted"
    db.session.commit()
    db.session.refresh(meeting)
    assert meeting.going == 2
    meetings.leave(meeting, jun)
    db.session.commit()
    db.session.refresh(meeting)
    assert meetings.participant(meeting.id, jun.id).state == "left"
    assert meeting.going == 2 and meetings.participant(meeting.id, ara.id).offer_expires_at  # held for Ara
    with pytest.raises(meetings.FieldError, match="cancel it instead"):
        meetings.leave(meeting, leader)


def test_join_and_leave_over_http(client, make_user, book):
    meeting = open_meeting(make_user("mina"), book, capacity=2)
    make_user("jun", gender="male")
    login(client, "jun")
    token = get_csrf(client, f"/meetings/{meeting.id}")
    joined = client.post(f"/meetings/{meeting.id}/join", data={"csrf_token": token}, headers=HTMX)
    assert joined.status_code == 204 and joined.headers["HX-Redirect"] == f"/meetings/{meeting.id}"
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "You are going." in page and "2 / 2" in page
    assert client.post(f"/meetings/{meeting.id}/leave", data={"csrf_token": token}).status_code == 303
    assert client.post(f"/meetings/{meeting.id}/join", data={}).status_code == 400  # no CSRF token


def test_someone_removed_cannot_come_back_and_nobody_joins_a_past_or_cancelled_meeting(app, make_user, book):
    leader, jun, ara = make_user("mina"), make_user("jun", gender="male"), make_user("ara")
    meeting = open_meeting(leader, book)
    meetings.join(meeting, jun)
    meetings.participant(meeting.id, jun.id).state = "removed"
    db.session.commit()
    with pytest.raises(meetings.FieldError, match="removed you"):
        meetings.join(meeting, jun)
    with app.test_request_context():  # the notifications link to the meeting's page
        meetings.cancel(meeting, leader)
    db.session.commit()
    with pytest.raises(meetings.FieldError, match="not taking anyone"):
        meetings.join(meeting, ara)


def test_ten_upcoming_meetings_at_most(app, make_user, book):
    leaders = [make_user(f"lead{n}") for n in range(11)]
    jun = make_user("jun", gender="male")
    opened = [open_meeting(leader, book, starts_in=timedelta(days=n + 1)) for n, leader in enumerate(leaders)]
    for meeting in opened[:10]:
        meetings.join(meeting, jun)
    db.session.commit()
    with pytest.raises(meetings.FieldError, match="10 meetings already"):
        meetings.join(opened[10], jun)
    meetings.leave(opened[0], jun)
    assert meetings.join(opened[10], jun) == "going"


def test_only_the_leader_cancels_and_everyone_is_told(client, make_user, book):
    leader, jun = make_user("mina"), make_user("jun", gender="male", language="ko")
    meeting = open_meeting(leader, book)
    meetings.join(meeting, jun)
    db.session.commit()
    login(client, "jun")
    token = get_csrf(client, f"/meetings/{meeting.id}")
    assert client.post(f"/meetings/{meeting.id}/cancel", data={"csrf_token": token}).status_code == 404
    client.post("/auth/logout", data={"csrf_token": token})
    login(client, "mina")
    token = get_csrf(client, f"/meetings/{meeting.id}")
    assert client.post(f"/meetings/{meeting.id}/cancel", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == "cancelled"
    note = db.session.scalar(select(Notification).where(Notification.user_id == jun.id))
    assert note.kind == "meeting" and "취소" in note.title and note.link == f"/meetings/{meeting.id}"


def test_lists_and_the_book_page(client, make_user, book):
    leader = make_user("mina")
    meeting = open_meeting(leader, book, title="한강 읽는 밤")
    other = next(b for b in catalog.bestsellers(200) if b.title == "1984")
    open_meeting(make_user("jun", gender="male"), other, title="Big Brother club")
    login(client, "mina")
    page = client.get("/meetings").get_data(as_text=True)
    assert page.index("My meetings") < page.index("한강 읽는 밤") and "Big Brother club" in page
    novels = client.get("/meetings?category=소설/시/희곡").get_data(as_text=True)
    assert "한강 읽는 밤" in novels and "Big Brother club" in novels
    assert "한강 읽는 밤" in client.get(f"/books/{book.isbn13}").get_data(as_text=True)
    assert "한강 읽는 밤" not in client.get(f"/books/{other.isbn13}").get_data(as_text=True)
    assert client.get(f"/meetings/{meeting.id + 100}").status_code == 404
    client.post("/auth/logout", data={"csrf_token": get_csrf(client, "/meetings")})
    assert client.get("/meetings").status_code == 302  # signed-in people only


def test_participants_listed_leader_first(make_user, book):
    leader, jun = make_user("mina"), make_user("jun", gender="male")
    meeting = open_meeting(leader, book)
    meetings.join(meeting, jun)
    db.session.commit()
    assert [p.user.username for p in meetings.participants(meeting.id)] == ["mina", "jun"]
    assert db.session.scalar(select(MeetingParticipant.role).where(MeetingParticipant.user_id == leader.id)) == "leader"


def test_offer_and_leader_powers_over_http(client, make_user, book):
    leader, jun, ara = make_user("mina"), make_user("jun", gender="male"), make_user("ara")
    meeting = open_meeting(leader, book, capacity=2)
    meetings.join(meeting, jun)
    meetings.join(meeting, ara)
    db.session.commit()
    login(client, "jun")
    token = get_csrf(client, f"/meetings/{meeting.id}")
    base = f"/meetings/{meeting.id}/participants/{ara.id}"
    assert client.post(f"{base}/remove", data={"csrf_token": token}).status_code == 404  # not his meeting to run
    client.post(f"/meetings/{meeting.id}/leave", data={"csrf_token": token})
    client.post("/auth/logout", data={"csrf_token": token})
    login(client, "ara")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "A place opened up for you." in page and "data-countdown-to" in page
    token = get_csrf(client, f"/meetings/{meeting.id}")
    assert client.post(f"/meetings/{meeting.id}/offer/maybe", data={"csrf_token": token}).status_code == 404
    taken = client.post(f"/meetings/{meeting.id}/offer/accept", data={"csrf_token": token}, headers=HTMX)
    assert taken.status_code == 204 and meetings.participant(meeting.id, ara.id).state == "going"
    client.post("/auth/logout", data={"csrf_token": token})
    login(client, "mina")
    token = get_csrf(client, f"/meetings/{meeting.id}")
    assert "Make leader" in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert client.post(f"{base}/crown", data={"csrf_token": token}).status_code == 404
    assert client.post(f"{base}/lead", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).leader_id == ara.id
    refused = client.post(f"/meetings/{meeting.id}/participants/{jun.id}/remove", data={"csrf_token": token})
    assert refused.status_code == 404  # she no longer leads


def test_the_leader_changes_the_meeting_and_everyone_is_told(app, client, make_user, book, rdb):
    leader, jun, ara = make_user("mina", timezone="Asia/Seoul"), make_user("jun", gender="male"), make_user("ara")
    meeting = open_meeting(leader, book, capacity=2)
    meetings.join(meeting, jun)
    meetings.join(meeting, ara)  # waiting
    db.session.commit()
    login(client, "jun")
    assert client.get(f"/meetings/{meeting.id}/edit").status_code == 404  # not the leader
    client.post("/auth/logout", data={"csrf_token": get_csrf(client, "/meetings")})
    login(client, "mina")
    form = client.get(f"/meetings/{meeting.id}/edit").get_data(as_text=True)
    assert 'value="채식주의자 읽기"' in form and f'value="{book.isbn13}" checked' in form
    token = get_csrf(client, f"/meetings/{meeting.id}/edit")
    day = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    data = form_data(token, book, title="Moved night", day=day, start="20:00", capacity="1")
    refused = client.post(f"/meetings/{meeting.id}/edit", data=data)
    assert refused.status_code == 422 and "Number must be between 2 and 50." in refused.get_data(as_text=True)
    data["capacity"] = "3"
    assert client.post(f"/meetings/{meeting.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    changed = db.session.get(Meeting, meeting.id)
    assert changed.title == "Moved night" and changed.starts_at.hour == 11 and changed.capacity == 3  # 20:00 KST
    assert meetings.participant(meeting.id, ara.id).offer_expires_at is not None  # the new place is offered
    told = db.session.scalars(select(Notification.user_id).where(Notification.title.contains("changed"))).all()
    assert sorted(told) == sorted([jun.id, ara.id])
    registry = get_queue("alarms").scheduled_job_registry
    assert registry.get_scheduled_time(moment_job_id(meeting.id, "start")) == changed.starts_at
    app.extensions["bb_clock"] = lambda: changed.starts_at - timedelta(minutes=5)  # the lobby is open
    try:
        late = client.post(f"/meetings/{meeting.id}/edit", data=data)
        assert late.status_code == 422 and "can no longer be changed" in late.get_data(as_text=True)
    finally:
        del app.extensions["bb_clock"]


@pytest.mark.parametrize(
    "case",
    [
        (timedelta(hours=1), "The room opens at"),
        (timedelta(minutes=5), "The room is open: people are gathering."),
        (timedelta(minutes=3), "data-countdown-to="),  # who joins now is told it starts in 3 minutes
        (timedelta(minutes=-5), "Live now."),
        (timedelta(hours=-3), "This meeting has ended."),
    ],
)
def test_the_page_says_where_the_meeting_stands(app, client, make_user, book, case):
    before_start, words = case
    meeting = open_meeting(make_user("mina"), book)
    login(client, "mina")
    app.extensions["bb_clock"] = lambda: meeting.starts_at - before_start
    try:
        assert words in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    finally:
        del app.extensions["bb_clock"]


def test_the_meeting_conversation_is_named_by_its_title(client, make_user, book):
    meeting = open_meeting(make_user("mina"), book, title="Tuesday readers")
    meetings.join(meeting, make_user("jun", gender="male"))
    db.session.commit()
    login(client, "jun")
    listed = client.get("/conversations").get_data(as_text=True)
    assert "Tuesday readers" in listed and "@mina" not in listed  # not one member picked as "the other"
    page = client.get(f"/conversations/{meeting.conversation_id}").get_data(as_text=True)
    assert ">Tuesday readers</a></h1>" in page and "Block or report" not in page
    assert "jun joined." in listed  # the newest message is a system one, in words


@pytest.mark.parametrize(
    "case",
    [
        (timedelta(hours=1), False, "The room opens 10 minutes before the start."),
        (timedelta(minutes=5), True, "The room is open: say hello."),
        (timedelta(minutes=-5), True, "Live until"),
        (timedelta(hours=-3), False, "this is its recap, to read"),
    ],
)
def test_the_room_page_follows_the_meetings_clock(app, client, make_user, book, case):
    before_start, socket, says = case
    mina, jun = make_user("mina"), make_user("jun")
    meeting = open_meeting(mina, book)
    meetings.join(meeting, jun)
    db.session.commit()
    app.extensions["bb_clock"] = lambda: meeting.starts_at - before_start
    try:
        login(client, "jun")
        page = client.get(f"/conversations/{meeting.conversation_id}").get_data(as_text=True)
        detail = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    finally:
        del app.extensions["bb_clock"]
    assert says in page and ("ws-connect" in page) is socket and ('id="composer"' in page) is socket
    assert 'class="presence"' in page and "jun joined." in page  # the people, and the history's notices
    assert ("Enter the room" in detail) is socket


def test_someone_who_left_reads_up_to_their_leaving(client, make_user, book):
    mina, jun, ara = make_user("mina"), make_user("jun"), make_user("ara")
    meeting = open_meeting(mina, book)
    for person in (jun, ara):
        meetings.join(meeting, person)
    meetings.leave(meeting, jun)
    meetings.join(meeting, make_user("bomi"))
    db.session.commit()
    login(client, "jun")
    page = client.get(f"/conversations/{meeting.conversation_id}").get_data(as_text=True)
    assert "ara joined." in page and "jun left." in page and "bomi joined." not in page
    assert "ws-connect" not in page and "You left: this is the conversation up to then." in page


def test_only_the_leader_pins_and_only_members_see_who_read(app, make_user, book):
    mina, jun = make_user("mina"), make_user("jun")
    make_user("ara")
    meeting = open_meeting(mina, book)
    meetings.join(meeting, jun)
    db.session.commit()
    chat.post_message(meeting.conversation_id, mina.id, "m1", "Start with part one")
    db.session.commit()  # seq 1: "jun joined", seq 2: her message
    receipts.mark_read(meeting.conversation_id, jun.id, 2)
    db.session.commit()
    path = f"/meetings/{meeting.id}/pin"
    clients = {name: app.test_client() for name in ("mina", "jun", "ara")}
    for name, client in clients.items():
        login(client, name)
    readers = f"/conversations/{meeting.conversation_id}/messages/2/readers"
    for who, status in (("ara", 404), ("jun", 200)):  # an outsider, a member
        client = clients[who]
        assert client.post(path, data={"csrf_token": get_csrf(client, "/meetings/new"), "seq": "2"},
                           headers=HTMX).status_code == 404  # not theirs to do  # fmt: skip
        assert client.get(readers).status_code == status
    client = clients["mina"]
    token = get_csrf(client, "/meetings/new")
    assert client.post(path, data={"csrf_token": token, "seq": "1"}, headers=HTMX).status_code == 422  # a notice
    assert client.post(path, data={"csrf_token": token, "seq": "2"}, headers=HTMX).status_code == 204
    assert db.session.get(Conversation, meeting.conversation_id).pinned_seq == 2
    page = client.get(f"/conversations/{meeting.conversation_id}").get_data(as_text=True)
    assert 'id="pinned"' in page and "Unpin" in page and "Read by 1" in page
    assert "@jun" in client.get(readers).get_data(as_text=True)
    assert client.post(path, data={"csrf_token": token}, headers=HTMX).status_code == 204  # unpinned
    db.session.expire_all()
    assert db.session.get(Conversation, meeting.conversation_id).pinned_seq is None
