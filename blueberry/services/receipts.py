"""Receipts: sent → delivered → read, read off two positions per member, and who may see them.

A member's `delivered_seq` and `last_read_seq` (models.chat.ConversationMember) stand for every
message from others up to them: one update per member, whatever the number of messages or
members. A member who hides their read receipts shows "delivered" instead of "read", and sees
no one else's "read" either.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update

from blueberry.extensions import db
from blueberry.models import ConversationMember, Message, User
from blueberry.realtime.events import (
    CONVERSATION_READ,
    READ_POSITION,
    RECEIPT_UPDATED,
    conversation_topic,
    publish_on_commit,
    user_topic,
)
from blueberry.services.chat import kind_of, last_seq
from blueberry.services.chat_unread import unread_total

RANK = {"sent": 0, "delivered": 1, "read": 2}


@dataclass(frozen=True)
class Delivery:
    """Messages from others that reached one member's window: (message id, seq) in seq order."""

    conversation_id: uuid.UUID
    member_id: int
    user_id: int
    messages: tuple[tuple[uuid.UUID, int], ...]


def mark_delivered(deliveries: list[Delivery]) -> list[tuple[uuid.UUID, dict]]:
    """Move each member's delivered position up to what reached them: one update per member;
    (conversation, receipt) for each message that was `sent` until now, for publishing.

    The positions are read with a row lock (PostgreSQL; SQLite writes serially), so two windows
    of one member delivering the same message tell its sender once."""
    arrived: dict[int, list[Delivery]] = {}
    for delivery in deliveries:
        arrived.setdefault(delivery.member_id, []).append(delivery)
    connection = db.session.connection()
    moves, receipts = [], []
    for member_id, delivered, read in connection.execute(_POSITIONS, {"ids": sorted(arrived)}):
        reached = max(delivered, read)  # reading a message delivers it too
        for delivery in arrived[member_id]:
            fresh = [(mid, seq) for mid, seq in delivery.messages if seq > reached]
            receipts += [(delivery.conversation_id, _receipt(mid, delivery.user_id, "delivered")) for mid, _ in fresh]
            reached = max([reached, *(seq for _, seq in fresh)])  # another window's copy is not news
        if reached > max(delivered, read):
            moves.append({"member_id": member_id, "seq": reached})
    if moves:
        connection.execute(_DELIVERED, moves)
    return receipts


_member = ConversationMember.__table__
_POSITIONS = (  # prebuilt, like the send path: they run for every delivered batch
    select(_member.c.id, _member.c.delivered_seq, _member.c.last_read_seq)
    .where(_member.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_member.c.id)  # two batches lock rows in the same order: no deadlock
    .with_for_update()
)
_DELIVERED = (
    update(_member)
    .where(_member.c.id == bindparam("member_id"), _member.c.delivered_seq < bindparam("seq"))
    .values(delivered_seq=bindparam("seq"))
)


def _receipt(message_id: uuid.UUID, user_id: int, status: str) -> dict:
    return {"message_id": str(message_id), "user_id": user_id, "status": status}


def mark_read(conversation_id: uuid.UUID, user_id: int, up_to_seq: int) -> list[dict]:
    """The user has seen everything up to `up_to_seq` (at most the newest message: a position
    in the future would hide later messages from the unread count); the receipt changes others may see."""
    me = db.session.scalar(
        select(ConversationMember)
        .where(ConversationMember.conversation_id == conversation_id, ConversationMember.user_id == user_id)
        .with_for_update()  # a read in another window waits: the position only moves forward
        .execution_options(populate_existing=True)
    )
    up_to_seq = min(up_to_seq, last_seq(conversation_id))
    if me is None or up_to_seq <= me.last_read_seq:
        return []
    if kind_of(conversation_id) != "direct":  # a group hears the new position, not a receipt per message
        me.last_read_seq = up_to_seq
        db.session.flush()
        publish_on_commit(user_topic(user_id), CONVERSATION_READ, {"unread_total": unread_total(user_id)})
        if not me.hide_read_receipts:
            publish_on_commit(
                conversation_topic(conversation_id), READ_POSITION, {"user_id": user_id, "seq": up_to_seq}
            )
        return []
    seen = select(Message.id).where(Message.conversation_id == conversation_id, Message.sender_id != user_id)
    seen = seen.where(Message.seq > me.last_read_seq, Message.seq <= up_to_seq).order_by(Message.seq)
    receipts = [_receipt(mid, user_id, "read") for mid in db.session.scalars(seen)]
    me.last_read_seq = up_to_seq
    db.session.flush()  # the reader's badge, in every window, from the new read position
    publish_on_commit(user_topic(user_id), CONVERSATION_READ, {"unread_total": unread_total(user_id)})
    return [] if me.hide_read_receipts else receipts


def publish_receipts(conversation_id: uuid.UUID, receipts: list[dict]) -> None:
    for receipt in receipts:
        publish_on_commit(conversation_topic(conversation_id), RECEIPT_UPDATED, receipt)


def receipt_status(messages: list[Message], viewer: ConversationMember) -> dict:
    """For the viewer's own messages: the furthest status any other member reached, as the
    viewer may see it (message id → status; nothing when nobody else is in the conversation)."""
    member = ConversationMember
    others = db.session.execute(
        select(member.delivered_seq, member.last_read_seq, member.hide_read_receipts).where(
            member.conversation_id == viewer.conversation_id, member.user_id != viewer.user_id
        )
    ).all()
    if not others or not messages:
        return {}
    statuses = {}
    for message in messages:
        shown = [_status(message.seq, delivered, read, hidden or viewer.hide_read_receipts)
                 for delivered, read, hidden in others]  # fmt: skip
        statuses[message.id] = max(shown, key=RANK.__getitem__)
    return statuses


def _status(seq: int, delivered_seq: int, last_read_seq: int, reads_hidden: bool) -> str:
    if seq <= last_read_seq:
        return "delivered" if reads_hidden else "read"
    return "delivered" if seq <= delivered_seq else "sent"


def read_positions(conversation_id: uuid.UUID, viewer: ConversationMember) -> dict[int, int]:
    """In a group: how far each other member (who shows reads) has read, for "read by N" under
    the viewer's messages; nothing for a viewer who hides read receipts."""
    if viewer.hide_read_receipts:
        return {}
    member = ConversationMember
    query = select(member.user_id, member.last_read_seq).where(
        member.conversation_id == conversation_id, member.user_id != viewer.user_id,
        member.left_at.is_(None), member.hide_read_receipts.is_(False),
    )  # fmt: skip
    return dict(db.session.execute(query).all())


def readers(conversation_id: uuid.UUID, seq: int, viewer: ConversationMember) -> list:
    """The people (users) who have read message `seq`, as the viewer may see them."""
    positions = read_positions(conversation_id, viewer)
    ids = [uid for uid, read in positions.items() if read >= seq]
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.display_name))) if ids else []
