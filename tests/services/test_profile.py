"""Profile cards: bio and interest rules, the photo made square without metadata, initials, and
what a match offer carries of the card."""

from io import BytesIO

import pytest
import redis
from PIL import Image

from blueberry.services import profile
from blueberry.services.errors import FieldError
from blueberry.services.matching import Engine, Limits, Seeker


def test_interests_are_trimmed_deduplicated_and_bounded():
    raw = " Books, #jazz,books ,  hiking  trips\n등산,, "
    assert profile.check_interests(raw) == ["Books", "jazz", "hiking trips", "등산"]
    assert profile.check_interests("") == []
    with pytest.raises(FieldError) as too_many:
        profile.check_interests(",".join(f"t{n}" for n in range(11)))
    assert too_many.value.field == "interests"
    with pytest.raises(FieldError):
        profile.check_interests("x" * 21)


def test_bio_is_bounded():
    assert profile.check_bio("  hello\n") == "hello"
    assert len(profile.check_bio("가" * 300)) == 300
    with pytest.raises(FieldError) as error:
        profile.check_bio("a" * 301)
    assert error.value.field == "bio"


def jpeg_with_location(size=(800, 400)) -> bytes:
    picture = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {2: (37.0, 33.0, 0.0)}  # GPS latitude
    buffer = BytesIO()
    picture.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_a_photo_is_kept_as_two_squares_without_metadata(tmp_path):
    name = profile.store_photo(jpeg_with_location(), tmp_path)
    for file, side in ((f"{name}.webp", 400), (f"{name}.thumb.webp", 96)):
        with Image.open(tmp_path / file) as stored:
            assert stored.size == (side, side) and stored.format == "WEBP"
            assert not stored.getexif() and "exif" not in stored.info
    with pytest.raises(FieldError):
        profile.store_photo(b"<svg onload=alert(1)>", tmp_path)


def test_initials():
    assert profile.initials("Mina Kim") == "MK"
    assert profile.initials("김민아") == "김"
    assert profile.initials("  ") == "?"


def test_an_offer_carries_the_card_and_leaves_out_a_hidden_photo(redis_server):
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushdb()
    engine = Engine(client, Limits(offer_s=300, grace_s=30, presence_s=60, scan=200))
    cards = {
        1: {"username": "mina", "bio": "<b>reader</b>", "interests": ["books", "jazz"], "photo": "ab12cd34"},
        2: {"username": "jun", "bio": "", "photo": ""},
    }
    for uid, gender in ((1, "female"), (2, "male")):
        engine.connect(Seeker(uid, f"user{uid}", 30, gender, 18, 99, "any", 50, cards[uid]), f"tok{uid}", set())
    engine.join(1)
    view = engine.join(2)["view"]
    assert view["partner"] | {} == {"id": 1, "display_name": "user1", "age": 30, "gender": "female", **cards[1]}
    theirs = engine.offer_of(1)
    assert theirs["user2_profile"]["card"] == cards[2]
    engine.disconnect(1, "tok1")
    assert not client.hexists("bb:match:cards", 1)
