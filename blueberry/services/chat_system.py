"""System messages: what happened in a group (someone joined, left or was removed; a meeting
started, is ending, ended or was cancelled), in the conversation's own sequence so that history
and replay hold them in place.

They have no sender and never count as unread. The content is JSON (`event`, and for a person
`user_id` and `name`), so that each reader gets the words in their own language.
"""

import json
import uuid

from flask_babel import gettext as _

from blueberry.services import chat

PERSON_EVENTS = ("joined", "left", "removed")
MEETING_EVENTS = ("started", "ending", "ended", "cancelled")


def post(conversation_id: uuid.UUID, event: str, user=None) -> dict:
    """Store a system message (after any other write of the transaction); its message data."""
    payload = {"event": event}
    if user is not None:
        payload |= {"user_id": user.id, "name": user.display_name}
    send = chat.Send(conversation_id, None, f"system-{uuid.uuid4().hex}", json.dumps(payload), "system")
    return chat.post_messages([send])[0][0]


def payload(message) -> dict:
    """What a system message (its data, or the row) says, as data (empty for anything unreadable)."""
    content = message.get("content") if isinstance(message, dict) else message.content
    try:
        found = json.loads(content or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def text(message) -> str:
    """A system message in the reader's language."""
    said = payload(message)
    name = said.get("name") or _("Someone")
    words = {
        "joined": lambda: _("%(name)s joined.", name=name),
        "left": lambda: _("%(name)s left.", name=name),
        "removed": lambda: _("%(name)s was removed by the leader.", name=name),
        "started": lambda: _("The meeting has started. Enjoy the conversation!"),
        "ending": lambda: _("5 minutes left in the meeting."),
        "ended": lambda: _("The meeting has ended. The conversation stays here to read."),
        "cancelled": lambda: _("The meeting was cancelled."),
    }
    return words.get(said.get("event"), lambda: "")()
