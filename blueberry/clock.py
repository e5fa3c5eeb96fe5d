"""The time the app goes by, so tests can move it: `app.extensions["bb_clock"]` may hold a
function returning an aware UTC datetime; otherwise it is the real time."""

from datetime import datetime

from flask import current_app, has_app_context

from blueberry.models.base import utcnow


def now() -> datetime:
    clock = current_app.extensions.get("bb_clock") if has_app_context() else None
    return clock() if clock else utcnow()
