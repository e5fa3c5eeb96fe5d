"""Images decoded within a memory budget, stripped of metadata, shrunk for thumbnails.

A decoded image takes about 4 bytes a pixel whatever its file size (an 8000 × 5000 PNG of
150 KB is 160 MB once decoded), so the pixel count is checked from the header before anything
is decoded, and no upload decodes more than DECODE_MAX_PIXELS (about 64 MiB). PNG, WebP and GIF
decode whole: beyond it they are refused. A JPEG decodes scaled down by 2, 4 or 8 (draft mode),
by the least that brings it within the budget, so it may be larger, up to MAX_JPEG_PIXELS. Shrinking never
copies the full image: Pillow's filtered resize of an image with alpha first makes a
premultiplied copy of all of it, so a thumbnail is first sampled down to about twice its size.
"""

import math
import warnings
from io import BytesIO
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from blueberry.services.errors import FieldError

DECODE_MAX_PIXELS = 4096 * 4096  # 16.8 megapixels
MAX_JPEG_PIXELS = 100_000_000
# Pillow refuses beyond twice its limit; between the two we refuse ourselves, without its warning.
Image.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def decode(data: bytes) -> Image.Image:
    """The decoded image; FieldError (field `file`) when too large, damaged or not an image."""
    try:
        return _open_checked(data)
    except Image.DecompressionBombError:
        raise FieldError("file", _l("That image is too large in pixels.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise FieldError("file", _l("That image is damaged or not an image.")) from None


def _open_checked(data: bytes) -> Image.Image:
    with Image.open(BytesIO(data)) as probe:
        _check_pixels(probe.size, MAX_JPEG_PIXELS if probe.format == "JPEG" else DECODE_MAX_PIXELS)
        probe.verify()
    picture = Image.open(BytesIO(data))
    if picture.format == "JPEG":
        scale = _jpeg_scale(picture.size)
        picture.draft(None, (picture.width // scale, picture.height // scale))
        _check_pixels(picture.size, DECODE_MAX_PIXELS)
    picture.load()
    return picture


def _jpeg_scale(size: tuple[int, int]) -> int:
    """The least of the scales a JPEG decoder offers that brings it within the budget (or 8)."""
    fits = (s for s in (1, 2, 4) if math.ceil(size[0] / s) * math.ceil(size[1] / s) <= DECODE_MAX_PIXELS)
    return next(fits, 8)


def _check_pixels(size: tuple[int, int], limit: int) -> None:
    if size[0] * size[1] > limit:
        raise FieldError("file", _l("That image is too large in pixels."))


def contained(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size of the same shape that fits in `box` (at least 1 × 1, never larger)."""
    scale = min(box[0] / size[0], box[1] / size[1], 1.0)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def thumbnail(picture: Image.Image, box: tuple[int, int]) -> Image.Image:
    """A small copy that fits in `box`, RGB or RGBA (sampled down first, then filtered)."""
    small = picture
    step = min(picture.width // (2 * box[0]), picture.height // (2 * box[1]))
    if step >= 2:  # nearest sampling makes no full-size copy; the filter below then smooths it
        small = picture.resize((math.ceil(picture.width / step), math.ceil(picture.height / step)), Image.NEAREST)
    small = small.convert("RGBA" if small.mode in ("RGBA", "LA", "PA", "P") else "RGB")
    return small.resize(contained(small.size, box), Image.LANCZOS)


def strip_metadata(picture: Image.Image) -> None:
    """Pixels only: no EXIF, XMP, ICC text chunks or comments (in place: no copy of the pixels)."""
    picture.info = {"transparency": picture.info["transparency"]} if "transparency" in picture.info else {}
    picture.getexif().clear()


def save(picture: Image.Image, path: Path, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "JPEG" and picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    picture.save(path, fmt)
