"""Profiles: a short bio, interest tags and a photo; who may see a person's card and photo.

A photo goes through the image pipeline (decoded within the memory budget, EXIF stripped,
re-encoded) and is kept as two squares, `<name>.webp` and `<name>.thumb.webp`, under PHOTO_DIR.
It is never a public file: the card and its photo are served only after `may_see_card` or
`may_see_photo`. A replaced photo's files are removed once the change is committed.
"""

import secrets
import unicodedata
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import ImageOps
from sqlalchemy import select

from blueberry.aftercommit import defer, on_commit
from blueberry.extensions import db
from blueberry.models import MatchedRoom, User
from blueberry.models.user import MAX_BIO, MAX_INTEREST_LENGTH, MAX_INTERESTS
from blueberry.services import acquaintance, image, safety
from blueberry.services.errors import FieldError

PHOTO_SIZE, THUMB_SIZE = 512, 96
SEPARATORS = ",#\n"


def check_bio(raw) -> str:
    text = unicodedata.normalize("NFC", raw or "").strip()
    if len(text) > MAX_BIO:
        raise FieldError("bio", _l("Keep it under %(n)d characters.", n=MAX_BIO))
    return text


def check_interests(raw) -> list[str]:
    """Tags from text separated by commas or `#`: trimmed, each once (ignoring case), in order."""
    text = unicodedata.normalize("NFC", raw or "")
    for separator in SEPARATORS[1:]:
        text = text.replace(separator, SEPARATORS[0])
    tags, seen = [], set()
    for tag in (" ".join(part.split()) for part in text.split(SEPARATORS[0])):
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    if any(len(tag) > MAX_INTEREST_LENGTH for tag in tags):
        raise FieldError("interests", _l("Keep each interest under %(n)d characters.", n=MAX_INTEREST_LENGTH))
    if len(tags) > MAX_INTERESTS:
        raise FieldError("interests", _l("Choose at most %(n)d interests.", n=MAX_INTERESTS))
    return tags


def update_card(user: User, bio: str, interests: str, show_photo_on_offers: bool) -> None:
    user.bio = check_bio(bio)
    user.interests = check_interests(interests)
    user.show_photo_on_offers = bool(show_photo_on_offers)


def store_photo(data: bytes, directory: Path) -> str:
    """Check and keep an uploaded photo as two squares; the name they share. FieldError
    (field `file`) when it is not an image we can read. Runs outside the request's greenlet."""
    picture = image.decode(data)
    ImageOps.exif_transpose(picture, in_place=True)
    image.strip_metadata(picture)
    side = min(picture.size)
    box = ((picture.width - side) // 2, (picture.height - side) // 2)
    square = picture.crop((*box, box[0] + side, box[1] + side))
    name = secrets.token_hex(16)
    image.save(image.thumbnail(square, (PHOTO_SIZE, PHOTO_SIZE)), directory / f"{name}.webp", "WEBP")
    image.save(image.thumbnail(square, (THUMB_SIZE, THUMB_SIZE)), directory / f"{name}.thumb.webp", "WEBP")
    return name


def set_photo(user: User, name: str, directory: Path) -> None:
    """The user's photo is now `name` (from store_photo); the old one goes after the commit."""
    if user.photo_name:
        defer("photo_removed", (directory, user.photo_name))
    user.photo_name = name


def remove_photo(user: User, directory: Path) -> None:
    set_photo(user, "", directory)


def photo_file(user: User, thumb: bool) -> str:
    return f"{user.photo_name}.thumb.webp" if thumb else f"{user.photo_name}.webp"


def _remove_files(items: list) -> None:
    for directory, name in items:
        for suffix in (".webp", ".thumb.webp"):
            (directory / f"{name}{suffix}").unlink(missing_ok=True)


on_commit("photo_removed", _remove_files)


def offer_card(user: User) -> dict:
    """What a match offer shows of the user besides name, age and gender (services.matching.Seeker)."""
    card = {"username": user.username, "bio": user.bio, "photo": ""}
    if user.interests:
        card["interests"] = list(user.interests)
    if user.photo_name and user.show_photo_on_offers:
        card["photo"] = user.photo_name[:8]
    return card


def may_see_card(viewer_id: int, owner: User) -> bool:
    """Me, or someone I have met (and neither blocked the other)."""
    if viewer_id == owner.id:
        return True
    return acquaintance.have_met(viewer_id, owner.id) and not safety.blocked_between(viewer_id, owner.id)


def may_see_photo(viewer_id: int, owner: User, offer_partner_id: int | None) -> bool:
    """Whoever may see the card; and, if the owner shows it on offers, the partner of their
    current offer (`offer_partner_id`, read from the matching engine) or of an open voice room."""
    if not owner.photo_name:
        return False
    if may_see_card(viewer_id, owner):
        return True
    if not owner.show_photo_on_offers or safety.blocked_between(viewer_id, owner.id):
        return False
    return offer_partner_id == viewer_id or _in_open_room(viewer_id, owner.id)


def _in_open_room(a: int, b: int) -> bool:
    low, high = sorted((a, b))
    query = select(MatchedRoom.id).where(
        MatchedRoom.user1_id == low, MatchedRoom.user2_id == high, MatchedRoom.ended_at.is_(None)
    )
    return db.session.scalar(query.limit(1)) is not None


def initials(name: str) -> str:
    """One or two letters of a name for the avatar of someone without a photo."""
    words = (name or "").split()
    if not words:
        return "?"
    return "".join(word[0] for word in words[:2]).upper()
