"""Uploaded images and files: what the content is (never the name), re-encoded images, storage.

Images (PNG, JPEG, WebP, GIF) are decoded within a memory budget (services/image) and encoded
again, which drops EXIF (camera, GPS) and anything riding along, and get a thumbnail. Files must
be PDF, ZIP or plain text; HTML, SVG and XML are refused whatever they are called. Everything is
stored under a random name in UPLOAD_DIR, outside `static/`, and served only to the
conversation's members.
"""

import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import ImageOps

from blueberry.services import image
from blueberry.services.errors import FieldError

THUMB_SIZE = (320, 320)

IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
MARKUP_ANYWHERE = (b"<script", b"<svg", b"<html", b"<iframe", b"<object", b"<embed")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class Stored:
    """What was kept: the names on disk and what the page needs to show it."""

    kind: str  # "image" or "file"
    stored_name: str
    thumb_name: str
    original_name: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None


def clean_name(raw: str | None) -> str:
    """A file name safe to show and to offer as a download name: no path, no control characters."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return (name or "file")[:200]


def store(data: bytes, original_name: str | None, directory: Path) -> Stored:
    """Check and keep an upload; FieldError (field `file`) when it is not something we accept."""
    if not data:
        raise FieldError("file", _l("That file is empty."))
    name = clean_name(original_name)
    if _looks_like_image(data):
        return _store_image(data, name, directory)
    return _store_file(data, name, directory)


def _looks_like_image(data: bytes) -> bool:
    head = data[:16]
    return head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    )


def _store_image(data: bytes, name: str, directory: Path) -> Stored:
    picture = image.decode(data)
    fmt = picture.format if picture.format in IMAGE_FORMATS else "PNG"
    ImageOps.exif_transpose(picture, in_place=True)  # keep the orientation the photo was taken in
    image.strip_metadata(picture)
    stem = secrets.token_hex(16)
    stored_name, thumb_name = f"{stem}.{fmt.lower()}", f"{stem}.thumb.webp"
    image.save(picture, directory / stored_name, fmt)
    image.save(image.thumbnail(picture, THUMB_SIZE), directory / thumb_name, "WEBP")
    size = (directory / stored_name).stat().st_size
    return Stored("image", stored_name, thumb_name, name, IMAGE_FORMATS[fmt], size, picture.width, picture.height)


def _store_file(data: bytes, name: str, directory: Path) -> Stored:
    content_type = _file_type(data)
    stored_name = secrets.token_hex(16) + ".bin"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / stored_name).write_bytes(data)
    return Stored("file", stored_name, "", name, content_type, len(data))


def _file_type(data: bytes) -> str:
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        return "application/zip"
    if _is_markup(data):
        raise FieldError("file", _l("Web pages and SVG files cannot be sent."))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise FieldError("file", _l("Send images, PDF, ZIP or text files.")) from None
    return "text/plain"


def _is_markup(data: bytes) -> bool:
    """HTML, SVG or XML, sniffed as a browser would: past a byte-order mark, white space and
    comments, the first thing is a tag (`<` and a letter, `!`, `?` or `/`); or a script or SVG
    element near the start."""
    text = _as_utf8(data)
    start = _skip_blanks_and_comments(text)
    if start is None:  # a comment that never ends: nothing but markup
        return True
    first = text[start : start + 2]
    if first[:1] == b"<" and (first[1:2].isalpha() or first[1:2] in (b"!", b"?", b"/")):
        return True
    return any(tag in text[:4096].lower() for tag in MARKUP_ANYWHERE)


def _as_utf8(data: bytes) -> bytes:
    """The text's bytes without a byte-order mark, UTF-16 re-encoded so a tag reads as one."""
    if data.startswith(UTF16_BOMS):
        return data[:8192].decode("utf-16", errors="ignore").encode()
    return data.removeprefix(b"\xef\xbb\xbf")


def _skip_blanks_and_comments(text: bytes) -> int | None:
    """Where the first thing that is not white space or an HTML comment starts (None: unclosed)."""
    position = 0
    while True:
        while position < len(text) and text[position : position + 1].isspace():
            position += 1
        if not text.startswith(b"<!--", position):
            return position
        end = text.find(b"-->", position + 4)
        if end < 0:
            return None
        position = end + 3
