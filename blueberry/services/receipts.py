"""Delivery receipts: sent → delivered → read, per recipient and message, and who may see them.

A member who hides their read receipts shows "delivered" instead of "read", and sees no one
else's "read" either.
"""

import uuid

from sqlalchemy import bindparam, select, tuple_, update

from blueberry.extensions import db
from blueberry.models import ConversationMember, DeliveryReceipt, Message
from blueberry.models.base import utcnow
from blueberry.realtime.events import (
    CONVERSATION_READ,
    RECEIPT_UPDATED,
    conversation_topic,
    publish_on_commit,
    user_topic,
)
from blueberry.services.chat import last_seq, member, unread_total


def mark_delivered(deliveries: list[tuple[int, uuid.UUID]]) -> list[dict]:
    """(recipient, message) receipts still `sent` become `delivered`; the changes, for publishing."""
    if not deliveries:
        return []
    keys = {"pairs": [(mid, uid) for uid, mid in deliveries], "message_ids": list({mid for _, mid in deliveries})}
    changed = db.session.connection().execute(_DELIVERED, keys | {"now": utcnow()})
    return [{"message_id": str(mid), "user_id": uid, "status": "delivered"} for uid, mid in changed]


_receipt = DeliveryReceipt.__table__
_DELIVERED = (  # prebuilt: it runs for every delivered batch
    update(_receipt)
    .where(_receipt.c.status == "sent")
    .where(_receipt.c.message_id.in_(bindparam("message_ids", expanding=True)))  # the index finds these…
    .where(tuple_(_receipt.c.message_id, _receipt.c.user_id).in_(bindparam("pairs", expanding=True)))  # …exactly
    .values(status="delivered", updated_at=bindparam("now"))
    .returning(_receipt.c.user_id, _receipt.c.message_id)
)


def mark_read(conversation_id: uuid.UUID, user_id: int, up_to_seq: int) -> list[dict]:
    """The user has seen everything up to `up_to_seq` (at most the newest message: a position
    in the future would hide later messages from the unread count); the receipt changes others may see."""
    me = member(conversation_id, user_id)
    up_to_seq = min(up_to_seq, last_seq(conversation_id))
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
