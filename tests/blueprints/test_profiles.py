"""Profile cards and photos over HTTP: who may see a card (me, people I met; 404 for anyone
else), the photo access matrix (owner, met, stranger, anonymous, offer partner during and after
the offer, voice-room partner, a hidden photo, a block), and editing the card in settings."""

from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from blueberry.extensions import db, get_redis
from blueberry.models import MatchedRoom, Report
from blueberry.services import profile, safety
from blueberry.services.matching import Engine, Limits, Seeker
from tests.conftest import get_csrf, login

HTMX = {"HX-Request": "true"}


def png(size=(300, 200)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, (30, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def kept_match(a, b, *, open_room=False) -> MatchedRoom:
    low, high = sorted((a.id, b.id))
    room = MatchedRoom(user1_id=low, user2_id=high, user1_keeps=not open_room, user2_keeps=not open_room)
    db.session.add(room)
    db.session.commit()
    return room


@pytest.fixture
def mina(app, make_user):
    """Mina with a photo, a bio and interests."""
    user = make_user("mina", display_name="Mina Kim")
    directory = Path(app.config["UPLOAD_DIR"]) / "photos"
    directory.mkdir(parents=True, exist_ok=True)
    profile.set_photo(user, profile.store_photo(png(), directory), directory)
    profile.update_card(user, "<script>alert(1)</script> reader", "books, jazz", True)
    db.session.commit()
    return user


def as_user(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def photo_status(client, username="mina") -> int:
    return client.get(f"/u/{username}/photo?size=thumb").status_code


def test_the_card_shows_to_me_and_to_people_i_met_only(app, mina, make_user):
    jun, eve = make_user("jun", gender="male"), make_user("eve")
    kept_match(mina, jun)
    assert app.test_client().get("/u/mina").status_code == 302  # anonymous: log in first
    page = as_user(app, "jun").get("/u/MINA")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "@mina" in text and "&lt;script&gt;" in text and "<script>alert" not in text
    assert "<li>books</li>" in text and "/u/mina/photo" in text
    assert as_user(app, "mina").get("/u/mina").status_code == 200
    stranger = as_user(app, "eve")
    assert stranger.get("/u/mina").status_code == 404
    assert stranger.get("/u/nobody").status_code == 404  # the same answer as a stranger's card
    safety.block(mina.id, jun.id)
    db.session.commit()
    assert as_user(app, "jun").get("/u/mina").status_code == 404
    assert eve


def test_photo_access_matrix(app, mina, make_user):
    jun, eve, ara = make_user("jun", gender="male"), make_user("eve"), make_user("ara", gender="male")
    kept_match(mina, jun)
    assert photo_status(app.test_client()) == 302
    assert photo_status(as_user(app, "mina")) == 200
    response = as_user(app, "jun").get("/u/mina/photo")
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert "private" in response.headers["Cache-Control"] and response.headers["X-Content-Type-Options"] == "nosniff"
    assert photo_status(as_user(app, "eve")) == 404

    engine = Engine(get_redis(), Limits())
    for user, gender in ((mina, "female"), (ara, "male")):
        seeker = Seeker(user.id, user.display_name, 30, gender, 18, 99, "any", 5, profile.offer_card(user))
        engine.connect(seeker, f"tok{user.id}", set())
    engine.join(mina.id)
    match_id = engine.join(ara.id)["view"]["match_id"]
    ara_client = as_user(app, "ara")
    assert photo_status(ara_client) == 200  # the partner of her offer, while it lasts
    assert photo_status(as_user(app, "eve")) == 404
    engine.respond(mina.id, match_id, accept=False)
    assert photo_status(ara_client) == 404  # the offer is over

    room = kept_match(mina, eve, open_room=True)
    eve_client = as_user(app, "eve")
    assert photo_status(eve_client) == 200  # an open voice room
    mina.show_photo_on_offers = False
    db.session.commit()
    assert photo_status(eve_client) == 404  # she keeps it off offers and rooms
    assert photo_status(as_user(app, "jun")) == 200  # people she met still see it
    mina.show_photo_on_offers = True
    room.ended_at = room.matched_at
    db.session.commit()
    assert photo_status(eve_client) == 404  # the room ended
    safety.block(jun.id, mina.id)
    db.session.commit()
    assert photo_status(as_user(app, "jun")) == 404


def test_a_photo_is_uploaded_replaced_and_removed_in_settings(app, client, make_user):
    user = make_user("mina")
    login(client, "mina")
    token = get_csrf(client, "/settings/profile")
    directory = Path(app.config["UPLOAD_DIR"]) / "photos"
    upload = {"csrf_token": token, "photo": (BytesIO(png()), "me.png")}
    assert client.post("/settings/photo", data=upload, content_type="multipart/form-data").status_code == 303
    db.session.expire_all()
    first = user.photo_name
    assert (directory / f"{first}.webp").exists() and (directory / f"{first}.thumb.webp").exists()
    upload = {"csrf_token": token, "photo": (BytesIO(png((50, 80))), "again.png")}
    client.post("/settings/photo", data=upload, content_type="multipart/form-data")
    db.session.expire_all()
    assert user.photo_name != first and not (directory / f"{first}.webp").exists()
    bad = {"csrf_token": token, "photo": (BytesIO(b"%PDF-1.4 not an image"), "x.png")}
    response = client.post("/settings/photo", data=bad, content_type="multipart/form-data")
    assert response.status_code == 422
    second = user.photo_name
    assert client.post("/settings/photo/delete", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert user.photo_name == "" and not (directory / f"{second}.webp").exists()
    assert 'class="avatar avatar-full initials"' in client.get("/settings/profile").get_data(as_text=True)
    assert client.post("/settings/photo", data={"photo": (BytesIO(png()), "x.png")}).status_code == 400  # CSRF


def test_the_card_form_saves_and_refuses_too_many_interests(client, make_user):
    user = make_user("mina")
    login(client, "mina")
    token = get_csrf(client, "/settings/profile")
    form = {"csrf_token": token, "bio": "I read a lot", "interests": "books, jazz", "show_photo_on_offers": ""}
    assert client.post("/settings/card", data=form).status_code == 303
    db.session.expire_all()
    assert (user.bio, user.interests, user.show_photo_on_offers) == ("I read a lot", ["books", "jazz"], False)
    form["interests"] = ",".join(f"tag{n}" for n in range(11))
    response = client.post("/settings/card", data=form, headers=HTMX)
    assert response.status_code == 422 and "at most 10 interests" in response.get_data(as_text=True)
    db.session.expire_all()
    assert user.interests == ["books", "jazz"]


def test_block_and_report_from_a_card(app, mina, make_user):
    jun = make_user("jun", gender="male")
    kept_match(mina, jun)
    client = as_user(app, "jun")
    token = get_csrf(client, "/u/mina")
    report = client.post("/u/mina/report", data={"csrf_token": token, "reason": "spam"}, headers=HTMX)
    assert report.status_code == 200
    assert db.session.scalar(select(Report.context)) == "profile"
    response = client.post("/u/mina/block", data={"csrf_token": token}, headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/conversations"
    assert safety.is_blocking(jun.id, mina.id)
    assert client.post("/u/jun/block", data={"csrf_token": token}).status_code == 404  # yourself
