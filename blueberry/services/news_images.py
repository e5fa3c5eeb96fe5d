"""Story pictures through our own proxy: readers' browsers never ask a publisher for anything
(their addresses would reach it). The first request for a story's picture fetches it (checked
like a feed: public addresses only, a byte cap, a deadline), decodes it within the memory budget
of services/image.py, and keeps a metadata-free WebP of at most IMAGE_BOX in Redis; a picture
that cannot be had is remembered as missing for a while, so a broken one costs one fetch.

Redis keys owned here: `bb:news:img:<article id>` — bytes: the WebP, or empty for "none";
TTL IMAGE_TTL_S (MISSING_TTL_S when empty). `bb:news:img:<article id>:making` — the lock of the
request making it, for NEWS_IMAGE_TIMEOUT_S + 2 s.
"""

import contextlib
import io
import logging

import redis
from flask import current_app

from blueberry import singleflight
from blueberry.extensions import db, get_redis
from blueberry.models import Article
from blueberry.offload import offload
from blueberry.outbound import Refused, fetch
from blueberry.services import image
from blueberry.services.errors import FieldError

log = logging.getLogger(__name__)
IMAGE_BOX = (800, 800)
IMAGE_TTL_S = 24 * 3600
MISSING_TTL_S = 3600
ACCEPT = "image/webp, image/png, image/jpeg, image/gif;q=0.8"


def picture(article_id: int) -> bytes | None:
    """The story's picture as WebP bytes, or None (no picture, or it could not be had). Readers
    asking for it at once while it is made wait for the one request that makes it."""
    key, client = f"bb:news:img:{article_id}", get_redis(decode=False)
    making_s = current_app.config["NEWS_IMAGE_TIMEOUT_S"] + 2  # the fetch's deadline, and the shrinking
    with contextlib.suppress(redis.RedisError):
        cached = client.get(key)
        if cached is None:
            if singleflight.take(client, f"{key}:making", int(making_s * 1000)):
                cached = client.get(key)  # made and stored just before the lock was taken?
            else:
                cached = singleflight.wait_for(client, key, making_s)
        if cached is not None:
            return cached or None
    url = db.session.scalar(db.select(Article.image_url).where(Article.id == article_id))
    db.session.remove()  # no database connection is held while the publisher answers
    made = _fetch_and_shrink(url) if url else None
    with contextlib.suppress(redis.RedisError):  # uncached: the next request fetches again
        pipe = client.pipeline(transaction=False)
        pipe.set(key, made or b"", ex=IMAGE_TTL_S if made else MISSING_TTL_S)
        pipe.delete(f"{key}:making")
        pipe.execute()
    return made


def _fetch_and_shrink(url: str) -> bytes | None:
    config = current_app.config
    try:
        reply = fetch(url, max_bytes=config["NEWS_IMAGE_MAX_BYTES"], timeout_s=config["NEWS_IMAGE_TIMEOUT_S"],
                      headers={"Accept": ACCEPT}, allow_private=config["NEWS_ALLOW_PRIVATE_ADDRESSES"])  # fmt: skip
    except Refused as error:
        log.info("news picture %s not fetched: %s", url[:200], error)
        return None
    if reply.status != 200 or not reply.headers.get("content-type", "").startswith("image/"):
        return None
    return offload(_shrink, reply.body)  # a few tens of ms of CPU: off the event loop


def _shrink(body: bytes) -> bytes | None:
    try:
        decoded = image.decode(body)
    except FieldError:
        return None
    small = image.thumbnail(decoded, IMAGE_BOX)
    image.strip_metadata(small)
    out = io.BytesIO()
    small.save(out, "WEBP", quality=80)
    return out.getvalue()
