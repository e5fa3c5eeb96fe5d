"""The match page, blocking and reporting from an offer and from a room, and room access."""

from datetime import timedelta

from sqlalchemy import select

from blueberry.extensions import db, get_redis
from blueberry.models import Block, Conversation, MatchSetting, Notification, Report
from blueberry.models.base import utcnow
from blueberry.services import room as rooms
from blueberry.services.matching import Engine, Limits, Seeker
from tests.conftest import get_csrf, login

HTMX = {"HX-Request": "true"}


def seeker_of(user) -> Seeker:
    return Seeker(user.id, user.display_name, user.age, user.gender, 18, 99, "any", 5)


def offer_between(mina, jun) -> str:
    engine = Engine(get_redis(), Limits())
    for user in (mina, jun):
        engine.connect(seeker_of(user), f"tok{user.id}", set())
    engine.join(mina.id)
    return engine.join(jun.id)["view"]["match_id"]


def test_the_match_page_needs_a_login_and_a_complete_profile(client, make_user):
    assert client.get("/match").status_code == 302
    mina = make_user("mina")
    login(client, "mina")
    page = client.get("/match").get_data(as_text=True)
    assert 'ws-connect="/ws/match"' in page and "aged 18–99 (anyone)" in page
    db.session.delete(db.session.scalar(select(MatchSetting).where(MatchSetting.user_id == mina.id)))
    db.session.commit()
    response = client.get("/match")
    assert response.status_code == 302 and response.location.endswith("/settings/profile")


def test_blocking_from_an_offer_ends_it_and_they_never_meet_again(client, make_user):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    match_id = offer_between(mina, jun)
    login(client, "mina")
    token = get_csrf(client, "/match")
    response = client.post(f"/match/offers/{match_id}/block", data={"csrf_token": token}, headers=HTMX)
    assert response.status_code == 200 and "will not see each other again" in response.get_data(as_text=True)
    assert db.session.scalar(select(Block).where(Block.blocker_id == mina.id, Block.blocked_id == jun.id))
    assert not get_redis().exists(f"bb:match:offer:{match_id}")
    assert get_redis().sismember(f"bb:match:avoid:{jun.id}", str(mina.id))
    assert rooms.avoided_ids(jun.id) == {mina.id}  # the next connection reloads it from SQL


def test_an_offer_that_is_not_yours_cannot_be_blocked_or_reported(client, make_user):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    make_user("eve")
    match_id = offer_between(mina, jun)
    login(client, "eve")
    token = get_csrf(client, "/match")
    assert client.post(f"/match/offers/{match_id}/block", data={"csrf_token": token}).status_code == 404
    report = {"csrf_token": token, "reason": "spam"}
    assert client.post(f"/match/offers/{match_id}/report", data=report).status_code == 404
    assert db.session.scalar(select(Block)) is None
    assert client.post(f"/match/offers/{match_id}/block", data={}).status_code == 400  # no CSRF token


def test_reporting_from_an_offer_checks_the_reason(client, make_user):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    match_id = offer_between(mina, jun)
    login(client, "jun")
    token = get_csrf(client, "/match")
    bad = client.post(f"/match/offers/{match_id}/report", data={"csrf_token": token, "reason": "vibes"}, headers=HTMX)
    assert bad.status_code == 422 and "Not a valid choice" in bad.get_data(as_text=True)
    form = {"csrf_token": token, "reason": "harassment", "text": "<script>x</script>"}
    assert client.post(f"/match/offers/{match_id}/report", data=form, headers=HTMX).status_code == 200
    report = db.session.scalar(select(Report))
    assert (report.reporter_id, report.reported_id, report.context) == (jun.id, mina.id, "offer")


def test_a_room_is_for_its_two_members_and_blocking_ends_it(client, make_user):
    mina, jun = make_user("mina", display_name="<i>Mina</i>"), make_user("jun", gender="male")
    make_user("eve")
    room = rooms.record_match(mina.id, jun.id)
    db.session.commit()
    login(client, "eve")
    assert client.get(f"/rooms/{room.id}").status_code == 404
    assert client.get("/rooms/9999").status_code == 404
    client.post("/auth/logout", data={"csrf_token": get_csrf(client, "/")})

    login(client, "jun")
    page = client.get(f"/rooms/{room.id}").get_data(as_text=True)
    assert "&lt;i&gt;Mina&lt;/i&gt;" in page and 'data-role="callee"' in page and 'data-ice="[]"' in page
    token = get_csrf(client, f"/rooms/{room.id}")
    form = {"csrf_token": token, "reason": "spam"}
    assert client.post(f"/rooms/{room.id}/report", data=form, headers=HTMX).status_code == 200
    assert db.session.scalar(select(Report)).room_id == room.id
    assert client.post(f"/rooms/{room.id}/block", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert room.end_reason == "blocked" and not room.is_open
    ended = client.get(f"/rooms/{room.id}").get_data(as_text=True)
    assert "The call has ended." in ended and 'id="leave"' not in ended


def mina_keeps_in_touch(client, make_user):
    """Mina and Jun were matched; Mina pressed "keep in touch" (htmx). Her page's token and answer."""
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    room = rooms.record_match(mina.id, jun.id)
    db.session.commit()
    login(client, "mina")
    token = get_csrf(client, f"/rooms/{room.id}")
    pressed = client.post(f"/rooms/{room.id}/keep-in-touch", data={"csrf_token": token}, headers=HTMX)
    return mina, jun, room, token, pressed


def as_jun(client, room, token) -> str:
    client.post("/auth/logout", data={"csrf_token": token})
    login(client, "jun")
    return get_csrf(client, f"/rooms/{room.id}")


def test_keep_in_touch_opens_a_conversation_when_both_press_it(client, make_user):
    mina, jun, room, token, first = mina_keeps_in_touch(client, make_user)
    assert "Waiting for them" in first.get_data(as_text=True)
    assert db.session.scalar(select(Conversation)) is None
    token = as_jun(client, room, token)
    second = client.post(f"/rooms/{room.id}/keep-in-touch", data={"csrf_token": token})
    conversation = db.session.scalar(select(Conversation))
    assert conversation.origin == "match" and conversation.pair_key == f"{mina.id}:{jun.id}"
    assert second.status_code == 303 and second.location.endswith(f"/conversations/{conversation.id}")
    assert f"/conversations/{conversation.id}" in client.get(f"/rooms/{room.id}").get_data(as_text=True)


def test_keep_in_touch_after_a_block_says_so_and_opens_nothing(client, make_user):
    _, _, room, token, _ = mina_keeps_in_touch(client, make_user)
    assert client.post(f"/rooms/{room.id}/block", data={"csrf_token": token}).status_code == 303
    token = as_jun(client, room, token)
    pressed = client.post(f"/rooms/{room.id}/keep-in-touch", data={"csrf_token": token}, headers=HTMX)
    assert pressed.status_code == 409
    assert "You can no longer keep in touch" in pressed.get_data(as_text=True)
    assert 'id="keep-in-touch"' in pressed.get_data(as_text=True)  # it replaces the button
    form = client.post(f"/rooms/{room.id}/keep-in-touch", data={"csrf_token": token})
    assert form.status_code == 303 and form.location.endswith(f"/rooms/{room.id}")
    page = client.get(form.location).get_data(as_text=True)
    assert page.count("You can no longer keep in touch") == 2  # the flash, and in place of the button
    assert "Keep in touch</button>" not in page
    db.session.expire_all()
    assert db.session.scalar(select(Conversation)) is None and not db.session.get(type(room), room.id).user2_keeps


def ended_room(mina, jun, talked_s: int | None, ended_ago_s: int):
    """A room of Mina and Jun that ended `ended_ago_s` ago after `talked_s` of talking."""
    room = rooms.record_match(mina.id, jun.id)
    end = utcnow() - timedelta(seconds=ended_ago_s)
    room.started_at = end - timedelta(seconds=talked_s) if talked_s is not None else None
    room.ended_at, room.end_reason = end, "left"
    db.session.commit()
    return room


def test_leaving_confirms_and_lands_on_the_end_screen_for_both(client, make_user):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    room = rooms.record_match(mina.id, jun.id)
    room.started_at = utcnow() - timedelta(seconds=125)
    db.session.commit()
    login(client, "mina")
    page = client.get(f"/rooms/{room.id}").get_data(as_text=True)
    assert 'role="timer"' in page and ">2:0" in page  # the true time so far, not 0:00, before any script
    assert 'hx-confirm="Leave the call? It ends for both of you."' in page
    token = get_csrf(client, f"/rooms/{room.id}")
    left = client.post(f"/rooms/{room.id}/leave", data={"csrf_token": token}, headers=HTMX)
    assert left.status_code == 204 and left.headers["HX-Redirect"] == f"/rooms/{room.id}"
    end = client.get(f"/rooms/{room.id}").get_data(as_text=True)
    assert 'id="call-duration">2:0' in end and "Meet someone else" in end and 'id="leave"' not in end
    assert "Keep in touch</button>" in end and "You can still do this until" in end
    assert as_jun(client, room, token)  # the partner's end screen says the same
    assert 'id="call-duration">2:0' in client.get(f"/rooms/{room.id}").get_data(as_text=True)


def test_a_call_that_never_started_says_so(client, make_user):
    room = ended_room(make_user("mina"), make_user("jun", gender="male"), talked_s=None, ended_ago_s=5)
    login(client, "mina")
    page = client.get(f"/rooms/{room.id}").get_data(as_text=True)
    assert "You did not get to talk this time." in page and "call-duration" not in page


def test_keep_in_touch_after_the_call_tells_the_first_presser(client, make_user):
    mina, jun = make_user("mina"), make_user("jun", gender="male", language="ko")
    room = ended_room(mina, jun, talked_s=300, ended_ago_s=60)
    room.user2_keeps = True  # Jun pressed it during the call
    db.session.commit()
    login(client, "mina")
    page = client.get(f"/rooms/{room.id}").get_data(as_text=True)
    assert "jun would like to keep in touch." in page
    token = get_csrf(client, f"/rooms/{room.id}")
    pressed = client.post(f"/rooms/{room.id}/keep-in-touch", data={"csrf_token": token}, headers=HTMX)
    conversation = db.session.scalar(select(Conversation))
    assert pressed.status_code == 200 and f"/conversations/{conversation.id}" in pressed.get_data(as_text=True)
    note = db.session.scalar(select(Notification).where(Notification.user_id == jun.id))
    assert note.kind == "match" and note.link == f"/conversations/{conversation.id}"
    assert "mina" in note.title and "연락" in note.title  # in his language


def test_keep_in_touch_closes_ten_minutes_after_the_call(client, make_user):
    room = ended_room(make_user("mina"), make_user("jun", gender="male"), talked_s=30, ended_ago_s=601)
    login(client, "mina")
    page = client.get(f"/rooms/{room.id}").get_data(as_text=True)
    assert "It is too late to keep in touch from this call." in page and "Keep in touch</button>" not in page
    token = get_csrf(client, f"/rooms/{room.id}")
    late = client.post(f"/rooms/{room.id}/keep-in-touch", data={"csrf_token": token}, headers=HTMX)
    assert late.status_code == 409 and "too late" in late.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(type(room), room.id).user1_keeps and db.session.scalar(select(Conversation)) is None
