"""The chat core: post (exactly once), replay, deletion, for any number of members (unread
counts: chat_unread.py; the send path's prebuilt statements: chat_statements.py).

Receipts are positions on the members (receipts.py): storing a message writes nothing per member.

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
from collections import Counter, defaultdict
from dataclasses import dataclass
from types import SimpleNamespace

import redis
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, tuple_

from blueberry.aftercommit import defer, on_commit
from blueberry.extensions import db, get_redis
from blueberry.models import Attachment, Block, Conversation, ConversationMember, Message
from blueberry.models.base import utcnow
from blueberry.realtime.events import (
    CONVERSATION_UPDATED,
    MESSAGE_DELETED,
    MESSAGE_NEW,
    conversation_topic,
    publish_on_commit,
    user_topic,
)
from blueberry.services import chat_statements as statements
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


def last_seq(conversation_id: uuid.UUID) -> int:
    """The sequence number of the conversation's newest message (0 when it has none)."""
    return db.session.scalar(select(Conversation.last_seq).where(Conversation.id == conversation_id)) or 0


def kind_of(conversation_id: uuid.UUID) -> str | None:
    return db.session.scalar(select(Conversation.kind).where(Conversation.id == conversation_id))


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


@dataclass(frozen=True)
class Send:
    """One message to store: checked text (check_content) or a stored upload's name."""

    conversation_id: uuid.UUID
    sender_id: int | None  # None for a system message (chat_system.py)
    client_id: str
    content: str
    kind: str = "text"
    upload: object = None  # services.upload.Stored, for an image or file


def post_message(conversation_id: uuid.UUID, sender_id: int, client_id, content) -> tuple[dict, bool]:
    """Store a text message once per (sender, client id); returns (message data, created)."""
    send = Send(conversation_id, sender_id, check_client_id(client_id), check_content(content))
    return post_messages([send])[0]


def post_attachment(conversation_id: uuid.UUID, sender_id: int, client_id, stored) -> tuple[dict, bool]:
    """A message carrying a stored upload (services.upload.Stored); returns (message data, created)."""
    send = Send(conversation_id, sender_id, check_client_id(client_id), stored.original_name, stored.kind, stored)
    return post_messages([send])[0]


def post_messages(sends: list[Send]) -> list[tuple[dict, bool]]:
    """Store sends, each at most once per (sender, client id); per send (message data, created).

    A whole batch takes one statement per step, so a process can group the sends of all its
    sockets into one transaction (realtime.batch). A send whose client id is already stored is
    a retry: it gets the stored message back, and leaves a gap in the sequence numbers.
    Members are read before the first write: under SQLite that write takes the lock, held
    until the commit, so the writes run back to back.
    """
    if not sends:
        return []
    connection, now = db.session.connection(), utcnow()
    members, names, groups = _members_of(connection, {send.conversation_id for send in sends})
    seqs = _reserve_seqs(connection, [send.conversation_id for send in sends], now)
    rows = [_message_row(send, seq, now) for send, seq in zip(sends, seqs, strict=True)]
    created = set(connection.execute(_insert_messages(connection), rows).scalars())
    new = [(send, row) for send, row in zip(sends, rows, strict=True) if row["id"] in created]
    attachments = _insert_attachments(connection, new)
    stored = {(row["sender_id"], row["client_id"]): _row_data(row, attachment)
              for row, attachment in _with_attachments(new, attachments)}  # fmt: skip
    if len(new) < len(rows):  # retries get the message stored before; nobody is told again
        stored = _stored_before(rows, created) | stored
    if new:
        _announce([stored[(row["sender_id"], row["client_id"])] for _, row in new], members, names, groups)
    return [(stored[(row["sender_id"], row["client_id"])], row["id"] in created) for row in rows]


def _insert_attachments(connection, new: list) -> list[dict]:
    """The uploads' rows of the new messages (returned)."""
    attachments = [_attachment_row(send, row) for send, row in new if send.upload is not None]
    if attachments:
        connection.execute(insert(Attachment.__table__), attachments)
    return attachments


def _members_of(connection, conversation_ids: set) -> tuple[dict[str, list[int]], dict[int, tuple], set[str]]:
    """(conversation id → member ids, member id → (display name, username, photo name), the ids
    of group conversations among them): senders are members too."""
    members: dict = defaultdict(list)
    names, groups = {}, set()
    for cid, kind, uid, *person in connection.execute(statements.MEMBERS, {"ids": list(conversation_ids)}):
        members[str(cid)].append(uid)
        names[uid] = tuple(person)
        if kind != "direct":
            groups.add(str(cid))
    return members, names, groups


def _reserve_seqs(connection, conversation_ids: list, now) -> list[int]:
    """The next sequence numbers, in order, for sends to these conversations (the same may repeat).

    Conversations are taken in id order: two batches lock their rows in the same order (no
    deadlock under PostgreSQL). Statements are prebuilt: a single UPDATE with a CASE would be a
    new statement to compile for every batch size."""
    wanted = Counter(conversation_ids)
    in_order = sorted(wanted, key=str)  # PostgreSQL orders UUIDs the same way
    if connection.dialect.name == "postgresql" and len(in_order) > 1:
        last = _add_seqs_together(connection, in_order, wanted, now)
    else:  # SQLite runs in this process: a statement each costs no round trip
        last = {cid: connection.execute(statements.ADD_SEQ, {"cid": cid, "n": wanted[cid], "now": now}).scalar_one()
                for cid in in_order}  # fmt: skip
    next_seq = {cid: last[cid] - n + 1 for cid, n in wanted.items()}
    seqs = []
    for cid in conversation_ids:
        seqs.append(next_seq[cid])
        next_seq[cid] += 1
    return seqs


def _add_seqs_together(connection, in_order: list, wanted: Counter, now) -> dict:
    """PostgreSQL: two round trips for all of a batch's conversations, not one each; the first
    locks the rows in id order, as the one-by-one updates would."""
    connection.execute(statements.LOCK_CONVERSATIONS, {"ids": in_order})
    counts = [wanted[cid] for cid in in_order]
    added = connection.execute(statements.ADD_SEQS, {"ids": in_order, "ns": counts, "now": now})
    return dict(added.all())


def _message_row(send: Send, seq: int, now) -> dict:
    return dict(
        id=uuid.uuid4(), conversation_id=send.conversation_id, sender_id=send.sender_id, seq=seq,
        client_id=send.client_id, content=send.content, type=send.kind, created_at=now, updated_at=now,
        is_deleted=False,
    )  # fmt: skip


def _attachment_row(send: Send, row: dict) -> dict:
    upload = send.upload
    return dict(
        id=uuid.uuid4(), message_id=row["id"], uploader_id=send.sender_id, stored_name=upload.stored_name,
        thumb_name=upload.thumb_name, original_name=upload.original_name, content_type=upload.content_type,
        size=upload.size, width=upload.width, height=upload.height, created_at=row["created_at"],
    )  # fmt: skip


def _with_attachments(new: list, attachments: list[dict]):
    by_message = {attachment["message_id"]: attachment for attachment in attachments}
    for _, row in new:
        yield row, by_message.get(row["id"])


def _row_data(row: dict, attachment: dict | None) -> dict:
    """A message just inserted, as events carry it (message_data without loading it back)."""
    data = {
        "id": str(row["id"]), "conversation_id": str(row["conversation_id"]), "seq": row["seq"],
        "sender_id": row["sender_id"], "content": row["content"], "type": row["type"],
        "created_at": row["created_at"].isoformat(), "client_id": row["client_id"], "is_deleted": False,
    }  # fmt: skip
    if attachment is not None:
        data["attachment"] = attachment_data(row["conversation_id"], SimpleNamespace(**attachment))
    return data


def _stored_before(rows: list[dict], created: set) -> dict:
    keys = [(row["sender_id"], row["client_id"]) for row in rows if row["id"] not in created]
    query = select(Message).where(tuple_(Message.sender_id, Message.client_id).in_(keys))
    return {(m.sender_id, m.client_id): message_data(m) for m in db.session.scalars(query)}


def _insert_messages(connection):
    """INSERT … ON CONFLICT (sender, client id) DO NOTHING RETURNING id, for this database."""
    return statements.INSERT_MESSAGES[connection.dialect.name]


def _announce(messages: list[dict], members: dict[str, list[int]], names: dict[int, tuple], groups: set[str]) -> None:
    """message.new on each conversation; conversation.updated, with unread counts, to the others
    (in a group, not to those who blocked the sender: the block hides the sender from them)."""
    hiding = _blocks_of_senders([m["sender_id"] for m in messages if m["conversation_id"] in groups])
    others = {
        m["id"]: [uid for uid in members[m["conversation_id"]]
                  if uid != m["sender_id"] and (uid, m["sender_id"]) not in hiding]
        if m["type"] != "system" else []  # in the window only: no toast, no count
        for m in messages
    }  # fmt: skip
    recipients = list({uid for uids in others.values() for uid in uids})
    connection = db.session.connection()
    unread: dict = defaultdict(dict)
    for uid, cid, count in connection.execute(statements.UNREAD, {"ids": recipients}) if recipients else ():
        unread[uid][str(cid)] = count
    for data in messages:
        publish_on_commit(conversation_topic(data["conversation_id"]), MESSAGE_NEW, data)
        for uid in others[data["id"]]:  # their list, badge and a toast wherever they are
            counts = unread[uid]
            name, username, photo = names.get(data["sender_id"], ("", "", ""))
            extra = {"sender_name": name, "sender_username": username, "sender_photo": photo[:8]}
            extra["unread"] = counts.get(data["conversation_id"], 0)
            extra["unread_total"] = sum(counts.values())
            publish_on_commit(user_topic(uid), CONVERSATION_UPDATED, data | extra)
        defer("chat_events", {"event_type": "message.created", "timestamp": data["created_at"], "data": data})


def _blocks_of_senders(sender_ids: list[int]) -> set[tuple[int, int]]:
    """(blocker, blocked) for every block of these senders; no query for a batch without groups."""
    if not sender_ids:
        return set()
    query = select(Block.blocker_id, Block.blocked_id).where(Block.blocked_id.in_(set(sender_ids)))
    return set(db.session.connection().execute(query).all())


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


def storage_used(user_id: int) -> int:
    """Bytes of attachments the user has uploaded (their quota counts these)."""
    return db.session.scalar(
        select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.uploader_id == user_id)
    )


def send_allowed(user_id: int, per_10s: int) -> bool:
    return sends_allowed([user_id], per_10s)[0]


def sends_allowed(user_ids: list[int], per_10s: int) -> list[bool]:
    """Per send: at most `per_10s` per user in 10 s, across sockets and uploads; one round trip
    for a whole batch (open without Redis)."""
    try:
        pipe = get_redis().pipeline()
        for user_id in user_ids:
            key = f"bb:limit:chat:{user_id}"
            pipe.set(key, 0, ex=10, nx=True)  # the window starts with the first send
            pipe.incr(key)
        counts = pipe.execute()[1::2]
    except redis.RedisError:
        return [True] * len(user_ids)
    return [count <= per_10s for count in counts]


class SendRefused(Exception):
    """A send that was not stored because its sender is sending too fast."""


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


def messages_before(
    conversation_id: uuid.UUID,
    before_seq: int | None,
    limit: int = PAGE_SIZE,
    hidden: frozenset = frozenset(),
    until_seq: int | None = None,
) -> list[Message]:
    """The `limit` messages before `before_seq` (the newest without it), oldest first, without
    those of `hidden` senders (chat_blocks.hidden_senders), none after `until_seq` (a member
    who left keeps the history up to then)."""
    query = select(Message).where(Message.conversation_id == conversation_id)
    if hidden:
        query = query.where(not_from(hidden))
    if until_seq is not None:
        query = query.where(Message.seq <= until_seq)
    if before_seq is not None:
        query = query.where(Message.seq < before_seq)
    return list(reversed(db.session.scalars(query.order_by(Message.seq.desc()).limit(limit)).all()))


def not_from(senders) -> object:
    """A filter leaving out messages of these senders (and keeping system ones, which have none:
    a bare NOT IN would drop them with the NULL)."""
    return Message.sender_id.is_(None) | Message.sender_id.not_in(senders)


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
