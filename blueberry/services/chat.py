"""The chat core: post (exactly once), replay, receipts, deletion, for any number of members.

Messages are stored first and published after the commit (`bb:conv:<uuid>`): a client that
missed something asks for what came after the last sequence number it has. Every created
message is also appended, after the commit, to the domain event stream.

Redis keys owned here: `bb:limit:chat:<user id>` — send counter, TTL 10 s.
`bb:events:chat` — stream of domain events (`event_type`, `timestamp`,
`data` as JSON), MAXLEN ~ 10,000, for other services to consume (docs/realtime.md).
"""

import json
import logging
import uuid

import redis
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from blueberry.aftercommit import defer, on_commit
from blueberry.extensions import db, get_redis
from blueberry.models import Attachment, Conversation, ConversationMember, DeliveryReceipt, Message, User
from blueberry.models.base import utcnow
from blueberry.realtime.events import (
    CONVERSATION_READ,
    CONVERSATION_UPDATED,
    MESSAGE_DELETED,
    MESSAGE_NEW,
    RECEIPT_UPDATED,
    conversation_topic,
    publish_on_commit,
    user_topic,
)
from blueberry.services.errors import FieldError

log = logging.getLogger(__name__)
MAX_CONTENT = 4000
MAX_CLIENT_ID = 64
PAGE_SIZE = 50
REPLAY_LIMIT = 500
EVENT_STREAM, EVENT_STREAM_MAXLEN = "bb:events:chat", 10_000


def member(conversation_id: uuid.UUID, user_id: int) -> ConversationMember | None:
    query = select(ConversationMember).where(
        ConversationMember.conversation_id == conversation_id, ConversationMember.user_id == user_id
    )
    return db.session.scalar(query)


def member_ids(conversation_id: uuid.UUID) -> list[int]:
    query = select(ConversationMember.user_id).where(ConversationMember.conversation_id == conversation_id)
    return list(db.session.scalars(query))


def check_content(content) -> str:
    """The message text, stripped; FieldError when empty or too long."""
    text = content.strip() if isinstance(content, str) else ""
    if not text:
        raise FieldError("content", _l("Write something first."))
    if len(text) > MAX_CONTENT:
        raise FieldError("content", _l("Keep it under %(n)d characters.", n=MAX_CONTENT))
    return text


def check_client_id(client_id) -> str:
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID:
        raise FieldError("client_id", _l("Each message needs its own id of up to 64 characters."))
    return client_id


def post_message(conversation_id: uuid.UUID, sender_id: int, client_id, content, kind: str = "text") -> tuple:
    """Store a message once per (sender, client id); returns (message, created)."""
    client_id, text = check_client_id(client_id), check_content(content)
    try:  # the unique (sender, client id) decides: no read before the write on the common path
        with db.session.begin_nested():
            message, recipients = _insert_message(conversation_id, sender_id, client_id, text, kind)
    except IntegrityError:  # a retry, or the same send from another socket that won the race
        existing = _sent_before(sender_id, client_id)
        if existing is None:
            raise
        return existing, False
    _announce(message, recipients)
    return message, True


def _sent_before(sender_id: int, client_id: str) -> Message | None:
    query = select(Message).where(Message.sender_id == sender_id, Message.client_id == client_id)
    return db.session.scalar(query)


def _insert_message(conversation_id, sender_id: int, client_id: str, text: str, kind: str) -> tuple:
    now = utcnow()
    seq = db.session.execute(  # the row lock orders concurrent senders (PostgreSQL; SQLite writes serially)
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq + 1, updated_at=now)
        .returning(Conversation.last_seq)
    ).scalar_one()
    message = Message(
        conversation_id=conversation_id, sender_id=sender_id, seq=seq, client_id=client_id,
        content=text, type=kind, created_at=now, updated_at=now,
    )  # fmt: skip
    db.session.add(message)
    db.session.flush()
    recipients = [uid for uid in member_ids(conversation_id) if uid != sender_id]
    db.session.add_all(DeliveryReceipt(message_id=message.id, user_id=uid, updated_at=now) for uid in recipients)
    db.session.flush()
    return message, recipients


def message_data(message: Message) -> dict:
    """A message as events and the JSON protocol carry it."""
    data = {
        "id": str(message.id),
        "conversation_id": str(message.conversation_id),
        "seq": message.seq,
        "sender_id": message.sender_id,
        "content": "" if message.is_deleted else message.content,
        "type": message.type,
        "created_at": message.created_at.isoformat(),
        "client_id": message.client_id,
        "is_deleted": message.is_deleted,
    }
    if message.attachment is not None and not message.is_deleted:
        data["attachment"] = attachment_data(message.conversation_id, message.attachment)
    return data


def attachment_data(conversation_id, attachment: Attachment) -> dict:
    url = f"/conversations/{conversation_id}/attachments/{attachment.id}"
    return {
        "id": str(attachment.id), "name": attachment.original_name, "content_type": attachment.content_type,
        "size": attachment.size, "width": attachment.width, "height": attachment.height,
        "url": url, "thumb_url": f"{url}?thumb=1" if attachment.thumb_name else None,
    }  # fmt: skip


def post_attachment(conversation_id: uuid.UUID, sender_id: int, client_id, stored) -> tuple:
    """A message carrying a stored upload (services.upload.Stored); returns (message, created)."""
    client_id = check_client_id(client_id)
    existing = _sent_before(sender_id, client_id)
    if existing is not None:
        return existing, False
    with db.session.begin_nested():
        message, recipients = _insert_message(conversation_id, sender_id, client_id, stored.original_name, stored.kind)
        db.session.add(
            Attachment(
                message_id=message.id, uploader_id=sender_id, stored_name=stored.stored_name,
                thumb_name=stored.thumb_name, original_name=stored.original_name,
                content_type=stored.content_type, size=stored.size, width=stored.width, height=stored.height,
            )
        )  # fmt: skip
        db.session.flush()
    db.session.refresh(message, ["attachment"])
    _announce(message, recipients)
    return message, True


def storage_used(user_id: int) -> int:
    """Bytes of attachments the user has uploaded (their quota counts these)."""
    return db.session.scalar(
        select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.uploader_id == user_id)
    )


def send_allowed(user_id: int, per_10s: int) -> bool:
    """At most `per_10s` sends per user in 10 s, across sockets and uploads (open without Redis)."""
    key = f"bb:limit:chat:{user_id}"
    try:
        pipe = get_redis().pipeline()
        pipe.set(key, 0, ex=10, nx=True)  # the window starts with the first send
        pipe.incr(key)
        _, count = pipe.execute()
    except redis.RedisError:
        return True
    return count <= per_10s


def _announce(message: Message, recipients: list[int]) -> None:
    data = message_data(message)
    publish_on_commit(conversation_topic(message.conversation_id), MESSAGE_NEW, data)
    sender_name = db.session.scalar(select(User.display_name).where(User.id == message.sender_id))
    for uid in recipients:  # their list, badge and a toast wherever they are
        counts = unread_counts(uid)
        extra = {"sender_name": sender_name, "unread": counts.get(message.conversation_id, 0)}
        publish_on_commit(user_topic(uid), CONVERSATION_UPDATED, data | extra | {"unread_total": sum(counts.values())})
    defer("chat_events", {"event_type": "message.created", "timestamp": data["created_at"], "data": data})


def _append_domain_events(pending: list[dict]) -> None:
    try:
        pipe = get_redis().pipeline(transaction=False)
        for event in pending:
            fields = {**event, "data": json.dumps(event["data"])}
            pipe.xadd(EVENT_STREAM, fields, maxlen=EVENT_STREAM_MAXLEN, approximate=True)
        pipe.execute()
    except redis.RedisError:
        log.warning("could not append %d chat domain events", len(pending))


on_commit("chat_events", _append_domain_events)


def messages_after(conversation_id: uuid.UUID, after_seq: int, limit: int = REPLAY_LIMIT) -> list[Message]:
    """What a client that has everything up to `after_seq` missed, oldest first."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def messages_before(conversation_id: uuid.UUID, before_seq: int | None, limit: int = PAGE_SIZE) -> list[Message]:
    """The `limit` messages before `before_seq` (the newest without it), oldest first."""
    query = select(Message).where(Message.conversation_id == conversation_id)
    if before_seq is not None:
        query = query.where(Message.seq < before_seq)
    return list(reversed(db.session.scalars(query.order_by(Message.seq.desc()).limit(limit)).all()))


def mark_delivered(user_id: int, message_ids: list) -> list[dict]:
    """Receipts of `user_id` still `sent` become `delivered`; the changes, for publishing."""
    if not message_ids:
        return []
    changed = db.session.execute(
        update(DeliveryReceipt)
        .where(DeliveryReceipt.user_id == user_id, DeliveryReceipt.status == "sent")
        .where(DeliveryReceipt.message_id.in_(message_ids))
        .values(status="delivered", updated_at=utcnow())
        .returning(DeliveryReceipt.message_id)
    ).scalars()
    return [{"message_id": str(mid), "user_id": user_id, "status": "delivered"} for mid in changed]


def mark_read(conversation_id: uuid.UUID, user_id: int, up_to_seq: int) -> list[dict]:
    """The user has seen everything up to `up_to_seq`; the receipt changes others may see."""
    me = member(conversation_id, user_id)
    if me is None or up_to_seq <= me.last_read_seq:
        return []
    me.last_read_seq = up_to_seq
    unread = select(Message.id).where(Message.conversation_id == conversation_id, Message.seq <= up_to_seq)
    changed = db.session.execute(
        update(DeliveryReceipt)
        .where(DeliveryReceipt.user_id == user_id, DeliveryReceipt.status != "read")
        .where(DeliveryReceipt.message_id.in_(unread))
        .values(status="read", updated_at=utcnow())
        .returning(DeliveryReceipt.message_id)
    ).scalars()
    receipts = [{"message_id": str(mid), "user_id": user_id, "status": "read"} for mid in changed]
    db.session.flush()  # the reader's badge, in every window, from the new read position
    publish_on_commit(user_topic(user_id), CONVERSATION_READ, {"unread_total": unread_total(user_id)})
    return [] if me.hide_read_receipts else receipts


def publish_receipts(conversation_id: uuid.UUID, receipts: list[dict]) -> None:
    for receipt in receipts:
        publish_on_commit(conversation_topic(conversation_id), RECEIPT_UPDATED, receipt)


def delete_message(conversation_id: uuid.UUID, message_id, user_id: int) -> Message:
    """Delete my message for everyone (a tombstone stays); FieldError if it is not mine."""
    message = db.session.get(Message, _uuid(message_id)) if _uuid(message_id) else None
    if message is None or message.conversation_id != conversation_id or message.sender_id != user_id:
        raise FieldError("message_id", _l("You can delete only your own messages."))
    if not message.is_deleted:
        message.is_deleted, message.content, message.updated_at = True, "", utcnow()
        deleted = {"message_id": str(message.id), "seq": message.seq}
        publish_on_commit(conversation_topic(conversation_id), MESSAGE_DELETED, deleted)
    return message


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def receipt_status(message_ids: list, viewer: ConversationMember) -> dict:
    """For a sender's messages: the furthest status any recipient reached, as the viewer may see it."""
    if not message_ids:
        return {}
    rank = {"sent": 0, "delivered": 1, "read": 2}
    rows = db.session.execute(
        select(DeliveryReceipt.message_id, DeliveryReceipt.status, ConversationMember.hide_read_receipts)
        .join(Message, Message.id == DeliveryReceipt.message_id)
        .join(
            ConversationMember,
            (ConversationMember.conversation_id == Message.conversation_id)
            & (ConversationMember.user_id == DeliveryReceipt.user_id),
        )
        .where(DeliveryReceipt.message_id.in_(message_ids))
    )
    best: dict = {}
    for message_id, status, hidden in rows:
        shown = "delivered" if status == "read" and (hidden or viewer.hide_read_receipts) else status
        if message_id not in best or rank[shown] > rank[best[message_id]]:
            best[message_id] = shown
    return best


def unread_total(user_id: int) -> int:
    """Messages from others the user has not read, over all their conversations."""
    return sum(unread_counts(user_id).values())


def unread_counts(user_id: int) -> dict:
    """Conversation id → messages from others after what the user has read."""
    query = (
        select(Message.conversation_id, func.count())
        .join(ConversationMember, ConversationMember.conversation_id == Message.conversation_id)
        .where(ConversationMember.user_id == user_id, Message.sender_id != user_id)
        .where(Message.seq > ConversationMember.last_read_seq, Message.is_deleted.is_(False))
        .group_by(Message.conversation_id)
    )
    return dict(db.session.execute(query).all())
