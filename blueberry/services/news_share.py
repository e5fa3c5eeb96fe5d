"""Sharing a story into a conversation: a message with its title and our link to it (chat
messages turn links to our own stories into links, see templating.link_stories)."""

import uuid

from blueberry.links import public_url_for
from blueberry.models import Article
from blueberry.services import chat
from blueberry.services.conversation import ConversationRow, conversations_of

NOTE_MAX = 500


def targets(user_id: int) -> list[ConversationRow]:
    """Where the user may share: their direct conversations that a block has not closed (a
    meeting's group chat is open only while the meeting runs)."""
    return [row for row in conversations_of(user_id) if row.conversation.kind == "direct"]


def share(story: Article, conversation_id: uuid.UUID, user_id: int, note: str) -> dict:
    """Post the story into the conversation (the caller checked it is one of `targets`)."""
    lines = [story.title, public_url_for("news.article", article_id=story.id), note.strip()[:NOTE_MAX]]
    message, _ = chat.post_message(
        conversation_id, user_id, uuid.uuid4().hex, "\n".join(line for line in lines if line)
    )
    return message
