"""Template globals: CSRF token for htmx, the htmx configuration, the current language."""

import functools
import json
import re
from functools import cached_property
from urllib.parse import urlsplit

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from blueberry import oauth
from blueberry.forms import LanguageForm, ReportForm
from blueberry.realtime import userstream
from blueberry.realtime.events import Cursor
from blueberry.services import chat_system, chat_unread, notifications
from blueberry.services.profile import initials
from blueberry.timefmt import init_time_filters

# allowEval off and no inline indicator styles keep the CSP strict; 422/429 fragments swap.
# Settling leaves out `style`: copying a style attribute (a level meter's --level) onto the new
# element is an inline style the CSP refuses.
HTMX_CONFIG = {
    "includeIndicatorStyles": False,
    "attributesToSettle": ["class", "width", "height"],
    "allowEval": False,
    "allowScriptTags": False,
    "selfRequestsOnly": True,
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        # Our error responses retarget to the toast area, so they are safe to swap.
        {"code": "(400|401|403|404|405|409|413|422|429|500)", "swap": True, "error": False},
        {"code": "[45]..", "swap": False, "error": True},
    ],
}


def _globals() -> dict:
    return {
        "htmx_config": json.dumps(HTMX_CONFIG),
        "htmx_headers": lambda: json.dumps({"X-CSRFToken": generate_csrf()}),
        "current_language": lambda: str(get_locale() or "en"),
        "language_form": _language_form,
        "report_form": lambda: ReportForm(formdata=None),
        "ws_path": ws_path,
        "live_origin_elsewhere": live_origin_elsewhere,
        "user_stream_types": userstream.swap_list(),
        "oauth_providers": oauth.enabled,
        "initials": initials,
    }


def live_origin_elsewhere() -> str | None:
    """None when this page's address may open the live sockets; else where Blueberry should be
    opened instead ("" when no address is allowed: an operator must set ALLOWED_ORIGINS)."""
    allowed = current_app.config["ALLOWED_ORIGINS"]
    if request.host_url.rstrip("/") in allowed:
        return None
    return allowed[0] if allowed else ""


def ws_path(endpoint: str, **values) -> str:
    """A websocket route's path. url_for makes it absolute `ws://`, wrong behind HTTPS; the
    browser side turns the path into ws: or wss: from the page's own scheme."""
    return urlsplit(url_for(endpoint, **values)).path


def _language_form() -> LanguageForm:
    # formdata=None: the footer must render even when the request body is refused (413).
    return LanguageForm(formdata=None, language=str(get_locale() or "en"))


class _LivePage:
    """The unread badge and the live cursor of a page, queried only if the template asks.

    Context processors run for every template, event fragments included: only full pages
    (base.html) should pay for these two queries.
    """

    def __init__(self, user_id: int):
        self.user_id = user_id

    @cached_property
    def unread(self) -> int:
        return notifications.unread_count(self.user_id)

    @cached_property
    def unread_messages(self) -> int:
        return chat_unread.unread_total(self.user_id)

    @cached_property
    def cursor(self) -> str:
        return str(Cursor(notification_id=notifications.latest_id(self.user_id)))


def _live_context() -> dict:
    return {"live": _LivePage(current_user.id)} if current_user.is_authenticated else {}


def badge_count(count: int) -> str:
    """A count as badges show it: past 99 it is "99+", as messengers do."""
    return str(count) if count < 100 else "99+"


@functools.cache
def _story_link(public_url: str) -> re.Pattern:
    return re.compile(rf"(?<!\S)(?:{re.escape(public_url)})?/news/(\d{{1,10}})(?![\w/])")


def link_stories(text: str) -> Markup:
    """A message's text, escaped, with links to our own stories (shared from /news) made
    clickable; any other URL stays text. Only the story's number goes into the link."""
    escaped = str(escape(text))
    if "/news/" not in escaped:
        return Markup(escaped)
    linked = _story_link(current_app.config["PUBLIC_URL"]).sub(lambda m: f'<a href="/news/{m[1]}">{m[0]}</a>', escaped)
    return Markup(linked)


def init_templating(app: Flask) -> None:
    init_time_filters(app)
    app.jinja_env.globals.update(_globals())
    app.jinja_env.filters["badge_count"] = badge_count
    app.jinja_env.filters["system_text"] = chat_system.text
    app.jinja_env.filters["link_stories"] = link_stories
    app.context_processor(_live_context)
