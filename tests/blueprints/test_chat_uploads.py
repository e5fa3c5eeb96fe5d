"""Images and files in conversations: checked by content, re-encoded without EXIF, thumbnails,
size limits and quota, odd names, and served to the two members only."""

import os
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import Attachment, Message
from blueberry.services.conversation import start_direct
from tests.conftest import get_csrf, login

HTMX = {"HX-Request": "true"}
LIMIT = 200 * 1024


@pytest.fixture
def app_config(app_config):
    return app_config | {"UPLOAD_MAX_BYTES": LIMIT, "UPLOAD_QUOTA_BYTES": 400 * 1024}


@pytest.fixture
def talk(client, make_user):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    make_user("eve")
    conversation = start_direct(mina.id, jun.id)
    db.session.commit()
    login(client, "mina")
    token = get_csrf(client, f"/conversations/{conversation.id}")
    return {"conversation": conversation, "token": token, "base": f"/conversations/{conversation.id}"}


def image_bytes(fmt="PNG", size=(64, 48), exif=None) -> bytes:
    buffer = BytesIO()
    options = {"exif": exif} if exif is not None else {}
    Image.new("RGB", size, (200, 30, 90)).save(buffer, fmt, **options)
    return buffer.getvalue()


def upload(client, talk, data: bytes, name: str, client_id="u1"):
    form = {"csrf_token": talk["token"], "client_id": client_id, "file": (BytesIO(data), name)}
    return client.post(f"{talk['base']}/attachments", data=form, headers=HTMX, content_type="multipart/form-data")


def test_an_image_becomes_a_message_with_a_thumbnail_for_members_only(client, talk):
    assert upload(client, talk, image_bytes(), "holiday.png").status_code == 204
    message = db.session.scalar(select(Message))
    attachment = db.session.scalar(select(Attachment))
    assert (message.type, message.content) == ("image", "holiday.png")
    assert (attachment.width, attachment.height, attachment.content_type) == (64, 48, "image/png")
    url = f"{talk['base']}/attachments/{attachment.id}"
    full = client.get(url)
    assert full.status_code == 200 and full.mimetype == "image/png"
    assert full.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in full.headers["Content-Security-Policy"]
    thumb = client.get(url + "?thumb=1")
    assert thumb.mimetype == "image/webp" and Image.open(BytesIO(thumb.data)).size[0] <= 320
    page = client.get(talk["base"]).get_data(as_text=True)
    assert f'src="{url}?thumb=1"' in page
    client.post("/auth/logout", data={"csrf_token": talk["token"]})
    assert client.get(url).status_code == 302  # anonymous: log in first
    login(client, "eve")
    assert client.get(url).status_code == 404
    assert client.get(url + "?thumb=1").status_code == 404


def test_exif_is_removed(client, talk):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0110] = "Model 9"
    original = image_bytes("JPEG", exif=exif.tobytes())
    assert Image.open(BytesIO(original)).getexif().get(0x010F) == "SecretCam"
    assert upload(client, talk, original, "me.jpg").status_code == 204
    attachment = db.session.scalar(select(Attachment))
    served = client.get(f"{talk['base']}/attachments/{attachment.id}").data
    assert b"SecretCam" not in served and not Image.open(BytesIO(served)).getexif()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"<!DOCTYPE html><script>alert(1)</script>", "cat.png", "Web pages and SVG"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "cat.png", "SVG"),
        (b"<svg onload=alert(1)>", "cat.jpg", "SVG"),
        (b"\xef\xbb\xbf<svg onload=alert(1)>", "bom.txt", "SVG"),
        (b"<!-- a note -->\n<svg onload=alert(1)>", "comment.txt", "SVG"),
        (b"\xef\xbb\xbf \n<!-- one --> <!-- two -->\t<HTML><body onload=alert(1)>", "both.txt", "SVG"),
        (b"<!--" + b"x" * 10_000 + b"-->" + b"<svg onload=alert(1)>", "long-comment.txt", "SVG"),
        (b"<!-- never closed <svg onload=alert(1)>", "open.txt", "SVG"),
        ("\ufeff<svg onload=alert(1)>".encode("utf-16"), "utf16.txt", "SVG"),
        (b"<a href=javascript:alert(1)>x</a>", "link.txt", "SVG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "broken.png", "damaged"),
        (b"\x7fELF\x02\x01\x01" + bytes(range(256)), "tool.txt", "Send images, PDF"),
        (b"", "empty.txt", "empty"),
    ],
)
def test_disguised_damaged_and_unwanted_content_is_refused(client, talk, data, name, message):
    response = upload(client, talk, data, name)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(Message)) is None


@pytest.mark.parametrize("text", [b"a < b and c > d", b"<3 see you", b"1 <= 2\n<- back", b"\xef\xbb\xbfplain"])
def test_text_that_only_mentions_angle_brackets_is_a_file(client, talk, text):
    assert upload(client, talk, text, "note.txt").status_code == 204
    assert db.session.scalar(select(Attachment)).content_type == "text/plain"


def test_a_decompression_bomb_is_refused(client, talk):
    buffer = BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG")  # 100 megapixels in a few kilobytes
    assert len(buffer.getvalue()) < LIMIT
    response = upload(client, talk, buffer.getvalue(), "bomb.png")
    assert response.status_code == 422 and "too large in pixels" in response.get_data(as_text=True)


def test_oversize_uploads_get_413(client, talk):
    assert upload(client, talk, b"a" * (LIMIT + 1), "big.txt").status_code == 413
    assert upload(client, talk, b"a" * (LIMIT + 100 * 1024), "bigger.txt").status_code == 413  # refused unread
    assert db.session.scalar(select(Message)) is None


def test_a_photo_over_the_app_wide_body_limit_uploads(app, client, talk):
    """CSRF protection reads the form before the view runs: the upload's limit must already hold."""
    app.config.update(UPLOAD_MAX_BYTES=10 * 1024 * 1024, UPLOAD_QUOTA_BYTES=50 * 1024 * 1024)
    noise = Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000))
    photo = BytesIO()
    noise.save(photo, "PNG", compress_level=1)
    assert len(photo.getvalue()) > 2 * app.config["MAX_CONTENT_LENGTH"]
    assert upload(client, talk, photo.getvalue(), "photo.png").status_code == 204
    assert db.session.scalar(select(Attachment)).width == 1000


def test_other_forms_keep_the_app_wide_limit(app, client, talk):
    form = {"csrf_token": talk["token"], "hide": "1", "padding": "x" * app.config["MAX_CONTENT_LENGTH"]}
    assert client.post(f"{talk['base']}/read-receipts", data=form).status_code == 413


def test_the_quota_counts_what_was_stored(client, talk):
    for n in range(2):
        assert upload(client, talk, b"x" * (150 * 1024), f"part{n}.txt", client_id=f"q{n}").status_code == 204
    response = upload(client, talk, b"x" * (150 * 1024), "part3.txt", client_id="q3")
    assert response.status_code == 413 and "storage is full" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "shown"),
    [("../../etc/passwd.txt", "passwd.txt"), ("..\\..\\boot.ini", "boot.ini"), ("a\x07b\x1fc.txt", "abc.txt"),
     ("노트 ✓.txt", "노트 ✓.txt"), ("x" * 500 + ".txt", "x" * 200), ("...", "file")],
)  # fmt: skip
def test_odd_file_names_are_kept_only_as_harmless_text(client, talk, name, shown):
    assert upload(client, talk, b"hello", name).status_code == 204
    attachment = db.session.scalar(select(Attachment))
    assert attachment.original_name == shown and "/" not in attachment.stored_name
    download = client.get(f"{talk['base']}/attachments/{attachment.id}")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.mimetype == "text/plain" and download.data == b"hello"
