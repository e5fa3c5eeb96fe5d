"""Meeting reminders and changes by email, through a real worker and a local SMTP server: only
for people who chose email, have a verified address and are connected nowhere; each mail has a
one-click unsubscribe link that works without a login; the choice is made in settings."""

import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import redis
from sqlalchemy import update

from blueberry.extensions import db
from blueberry.jobs import book as book_jobs
from blueberry.jobs.reminders import send_meeting_reminders
from blueberry.models import MeetingParticipant, Notification, User
from blueberry.models.base import utcnow
from blueberry.services import book as catalog
from blueberry.services import meeting as meetings
from blueberry.services.online import KEY
from tests.conftest import get_csrf, login
from tests.fakes import smtp

smtp_server, mail_outbox = smtp.smtp_server, smtp.mail_outbox


@pytest.fixture
def club(app, make_user, rdb):
    """Mina leads, jun and ara go; both chose email and confirmed their addresses."""
    book_jobs.load_sample(if_empty=True)
    people = {name: make_user(name, display_name=name.title()) for name in ("mina", "jun", "ara")}
    for name in ("jun", "ara"):
        person = people[name]
        person.email, person.email_verified_at = f"{name}@example.com", utcnow()
        person.meeting_reminders = person.meeting_changes = "email"
    starts = utcnow() + timedelta(minutes=9, seconds=30)  # its reminder time has come
    form = meetings.MeetingForm(book=catalog.bestsellers(1)[0], title="Night readers", description="",
                                starts_at=starts, ends_at=starts + timedelta(hours=1), capacity=5, online=True,
                                place="")  # fmt: skip
    meeting = meetings.create(people["mina"], form)
    for name in ("jun", "ara"):
        meetings.join(meeting, people[name])
    db.session.execute(update(MeetingParticipant).values(state_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    return meeting, people


def test_the_reminder_is_mailed_only_to_who_is_away(app, club, mail_outbox, redis_server):
    meeting, people = club
    redis.Redis.from_url(redis_server.url).zadd(KEY.format(people["ara"].id), {"her-phone": time.time() + 60})
    assert send_meeting_reminders()["sent"] == 3
    mails = mail_outbox.deliver()
    assert [m.rcpt_tos for m in mails] == [["jun@example.com"]]  # ara is on the site: the toast is enough
    (mail,) = mails
    assert mail.message["Subject"].startswith("“Night readers” starts at")
    room, unsubscribe = mail.links
    assert urlparse(room).path == f"/conversations/{meeting.conversation_id}"
    assert mail.message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_one_click_unsubscribes_without_a_login(app, club, mail_outbox):
    send_meeting_reminders()
    unsubscribe = mail_outbox.last_to("jun@example.com").links[-1]
    path = urlparse(unsubscribe).path
    anonymous = app.test_client()
    page = anonymous.get(path)
    assert page.status_code == 200 and "Stop these emails" in page.get_data(as_text=True)
    assert db.session.get(User, club[1]["jun"].id).meeting_reminders == "email"  # opening it changes nothing
    done = anonymous.post(path)  # as a mail program does (no CSRF token: the signature is the key)
    assert done.status_code == 200 and "no more emails about meeting reminders" in done.get_data(as_text=True)
    db.session.expire_all()
    jun = db.session.get(User, club[1]["jun"].id)
    assert (jun.meeting_reminders, jun.meeting_changes) == ("app", "email")  # that kind only
    assert anonymous.post(path[:-3] + "xyz").status_code == 404  # a forged token


def test_changes_follow_the_choice(app, club, mail_outbox):
    meeting, people = club
    people["ara"].meeting_changes = "off"
    db.session.commit()
    with app.test_request_context():
        meetings.cancel(meeting, people["mina"])
    db.session.commit()
    assert [m.rcpt_tos for m in mail_outbox.deliver()] == [["jun@example.com"]]
    assert "was cancelled" in mail_outbox.last_to("jun@example.com").message["Subject"]
    told = {n.user_id for n in db.session.query(Notification).filter(Notification.kind == "meeting")}
    assert told == {people["jun"].id}  # ara turned changes off


def test_the_choice_is_made_in_settings(client, make_user):
    make_user("mina")
    login(client, "mina")
    token = get_csrf(client, "/settings/notices")
    assert client.post("/settings/notices", data={"csrf_token": token, "meeting_reminders": "loud",
                                                  "meeting_changes": "app"}).status_code == 422  # fmt: skip
    saved = client.post("/settings/notices", data={"csrf_token": token, "meeting_reminders": "off",
                                                   "meeting_changes": "email"})  # fmt: skip
    assert saved.status_code == 303
    mina = db.session.scalar(db.select(User).where(User.username == "mina"))
    db.session.refresh(mina)
    assert (mina.meeting_reminders, mina.meeting_changes) == ("off", "email")
    assert "Email needs a verified address" in client.get("/settings/notices").get_data(as_text=True)
