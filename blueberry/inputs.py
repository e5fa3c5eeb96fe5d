"""Rules every input obeys, whichever way it comes in: form, query string, path, websocket frame,
file name.

- No NUL character anywhere: PostgreSQL text cannot hold one, so SQLite must not take one either.
- An integer that reaches SQL fits its column (INTEGER: 32-bit signed) and its range; a value
  out of range is refused where it enters, never left to overflow in the database.
"""

from flask import abort, request
from werkzeug.routing import IntegerConverter

SQL_INT_MAX = 2**31 - 1


def has_nul(value) -> bool:
    """True when `value` (a string, or a JSON value holding strings) contains a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def json_int(value, low: int = 0, high: int = SQL_INT_MAX) -> int | None:
    """A JSON number that is an integer within [low, high], else None (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def text_int(raw: str | None, low: int = 0, high: int = SQL_INT_MAX) -> int | None:
    """The number a string of ASCII digits spells, within [low, high], else None (no signs, no
    `²` or `٣`, which `isdigit` alone would let through to `int()`)."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    return json_int(int(text), low, high)


def int_arg(name: str, low: int = 0, high: int = SQL_INT_MAX) -> int | None:
    """An optional integer query argument: None when absent, 400 when it is not one in range."""
    if name not in request.args:
        return None
    value = text_int(request.args[name], low, high)
    if value is None:
        abort(400)
    return value


class SQLIntConverter(IntegerConverter):
    """`<int:…>` in routes: a number that does not fit an INTEGER column matches no route (404)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's own parameter name)
        kwargs.setdefault("max", SQL_INT_MAX)
        super().__init__(map, *args, **kwargs)
