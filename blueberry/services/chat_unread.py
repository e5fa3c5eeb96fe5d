"""Unread counts: messages from others after a member's read position, per conversation."""

from blueberry.extensions import db
from blueberry.services.chat_statements import UNREAD


def unread_total(user_id: int) -> int:
    """Messages from others the user has not read, over all their conversations."""
    return sum(unread_counts(user_id).values())


def unread_counts(user_id: int) -> dict:
    """Conversation id → messages from others after what the user has read (a block hides
    the blocked person's; in a direct conversation, each one's from the other)."""
    rows = db.session.connection().execute(UNREAD, {"ids": [user_id]})
    return {conversation_id: count for _, conversation_id, count in rows}
