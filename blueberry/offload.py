"""Run CPU-heavy calls (password hashing, image work) off the gevent event loop."""

from collections.abc import Callable
from typing import Any


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # gevent is optional outside the web server
        return False
    return monkey.is_module_patched("socket")


def offload(func: Callable[..., Any], *args: Any) -> Any:
    """Call `func(*args)` in gevent's threadpool when the loop is gevent's, else directly."""
    if not _gevent_patched():
        return func(*args)
    import gevent

    return gevent.get_hub().threadpool.apply(func, args)
