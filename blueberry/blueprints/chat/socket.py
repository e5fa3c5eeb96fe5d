"""One `/ws/conversations/<uuid>` connection: sends in, the conversation's events out.

On connect the client says the last sequence number it has (`?after=`); it gets what it missed
from SQL, then live events, each message once (anything at or below what it already has is
dropped). Messages from others that reach this socket are marked delivered. Protocol:
docs/realtime.md.
"""

import contextlib
import logging
import uuid
from types import SimpleNamespace

import redis
from flask import current_app

from blueberry.extensions import db, get_redis
from blueberry.inputs import json_int
from blueberry.realtime import errors
from blueberry.realtime.batch import get_batcher
from blueberry.realtime.connection import Done, LiveConnection
from blueberry.realtime.events import (
    CONVERSATION_BLOCKED,
    MEETING_STATE,
    MESSAGE_DELETED,
    MESSAGE_NEW,
    MESSAGE_PINNED,
    PRESENCE_UPDATED,
    READ_POSITION,
    RECEIPT_UPDATED,
    TYPING,
    conversation_topic,
    make_event,
    publish_now,
)
from blueberry.realtime.ws import CLOSE_BLOCKED, CLOSE_LEFT, CLOSE_NOT_OPEN, LiveSocket
from blueberry.services import chat, chat_blocks, chat_system, meeting_chat, meeting_lifecycle, receipts
from blueberry.services.conversation import group_view
from blueberry.services.errors import FieldError
from blueberry.services.presence import Presence
from blueberry.services.presence import snapshot as presence_snapshot

log = logging.getLogger(__name__)
SEND_WAIT_S = 10.0
DELIVERED_GATHER_S = 0.05  # "delivered" may show 50 ms later; it then costs a fraction of the writes


def store_sends(sends: list[chat.Send]) -> list:
    """The send batch: throttled per sender (one Redis round trip), refused where a block
    closed the conversation or a meeting is not live (a query each), then stored together."""
    allowed = chat.sends_allowed([send.sender_id for send in sends], current_app.config["CHAT_SENDS_PER_10S"])
    blocked = chat_blocks.sends_blocked(sends)
    meetings = meeting_chat.refusals(sends)
    refusals = [chat.SendRefused() if not ok else chat_blocks.SendBlocked() if no
                else meeting_chat.MeetingSendRefused(why) if why else None
                for ok, no, why in zip(allowed, blocked, meetings, strict=True)]  # fmt: skip
    stored = iter(chat.post_messages([send for send, refusal in zip(sends, refusals, strict=True) if refusal is None]))
    return [next(stored) if refusal is None else refusal for refusal in refusals]


def store_deliveries(deliveries: list[receipts.Delivery]) -> list[None]:
    """The delivery batch: members' delivered positions move up, senders are told."""
    for cid, receipt in receipts.mark_delivered(deliveries):
        receipts.publish_receipts(cid, [receipt])
    return [None] * len(deliveries)


class ConversationConnection(LiveConnection):
    """One member's window of a conversation."""

    def __init__(self, live: LiveSocket, session_topic: str, conversation_id: uuid.UUID, user, after_seq: int):
        super().__init__(live, session_topic)
        self.conversation_id, self.user_id = conversation_id, user.id
        self.display_name = user.display_name
        self.last_seq = after_seq  # the newest message this client has
        self.hide_reads, self.member_id = False, 0
        self.hidden: set[int] = set()  # in a group, the people this member blocked
        self.topic = conversation_topic(conversation_id)
        self.undelivered: list[tuple[uuid.UUID, int]] = []  # (id, seq) received here, not yet marked delivered
        self.keepalive_s = current_app.config["WS_KEEPALIVE_S"]
        self.presence: Presence | None = None  # in a meeting's room: who is there
        self.presence_at = 0  # the time of the newest presence this window was shown (Redis µs)
        self.room: dict | None = None  # in a group: its people (conversation.group_view)
        self.meeting = None

    def topics(self) -> list[str]:
        return [self.topic]

    def wait_s(self) -> float:
        return min(self.keepalive_s, self.presence.beat_s) if self.presence else self.keepalive_s

    def start(self) -> None:
        me = chat.member(self.conversation_id, self.user_id)
        self.hide_reads, self.member_id = me.hide_read_receipts, me.id
        if chat_blocks.blocked_by_other(self.conversation_id, self.user_id):
            self._closed_by_block()
        meeting = meeting_chat.meeting_of(self.conversation_id)
        if meeting is not None:
            self._enter_room(meeting)
        if chat.kind_of(self.conversation_id) != "direct":
            self._load_room()
        if self.presence is not None:
            self._send_presence()  # after the room is loaded: the page's fragment names people from it
        self.hidden = set(chat_blocks.hidden_senders(self.conversation_id, self.user_id))
        # A client ahead of the conversation (its cache outlived the data) would drop new messages.
        self.last_seq = min(self.last_seq, chat.last_seq(self.conversation_id))
        self._replay()

    def _enter_room(self, meeting) -> None:
        """A meeting's room: closed (4425) before its lobby opens and once cancelled; else the
        client learns the meeting's phase, and the others that it came."""
        self.meeting = SimpleNamespace(id=meeting.id, leader_id=meeting.leader_id)  # outlives the session
        if meeting_lifecycle.phase(meeting) in ("before", "cancelled"):
            self.live.send_error(errors.MEETING_NOT_OPEN)
            self.live.close(CLOSE_NOT_OPEN, "room not open")
            raise Done
        self.live.send_event(make_event(MEETING_STATE, meeting_lifecycle.state(meeting)))
        self.presence = Presence(get_redis(), self.conversation_id, self.user_id, current_app.config)
        self.presence.arrive()

    def _send_presence(self) -> None:
        """Who is in the room now, to this window only; announcements made before it are stale."""
        self.presence_at, online = presence_snapshot(get_redis(), self.conversation_id)
        self.live.send_event(make_event(PRESENCE_UPDATED, {"online": online, "left": [], "at": self.presence_at}))

    def _on_membership(self, said: dict) -> None:
        """Someone joined, left or was removed: this window names the room's people anew, or,
        when it was this user who went, closes (4410) after showing the notice."""
        if said.get("user_id") == self.user_id and said["event"] != "joined":
            self.live.close(CLOSE_LEFT, "you left")
            raise Done
        self._load_room()
        if self.presence is not None:
            self._send_presence()

    def _load_room(self) -> None:
        try:
            self.room = group_view(self.conversation_id, self.meeting)
        finally:
            db.session.remove()

    def after_step(self) -> None:
        if not self.listener.items:  # caught up: what arrived meanwhile is delivered
            self._delivered()
        if self.presence is not None:
            self.presence.beat()

    def finish(self) -> None:
        if self.presence is not None:
            with contextlib.suppress(redis.RedisError):
                self.presence.depart()

    # -- out ---------------------------------------------------------------------------------

    def _replay(self) -> None:
        """Everything after the client's last sequence, from SQL."""
        try:
            missed = chat.messages_after(self.conversation_id, self.last_seq)
            for message in missed:
                self._send_message(chat.message_data(message))
            self.undelivered += [(m.id, m.seq) for m in missed if m.sender_id != self.user_id]
        finally:
            db.session.remove()  # a waiting socket holds no database connection
        self._delivered()

    def _send_message(self, data: dict) -> bool:
        if data["seq"] <= self.last_seq:
            return False  # already has it (a live event racing the replay)
        self.last_seq = data["seq"]
        if data["sender_id"] in self.hidden:
            return False  # passed over, so that no gap is seen where it was
        self.live.send_event(make_event(MESSAGE_NEW, data))
        return True

    def _delivered(self) -> None:
        """This client has these messages: this process's delivery batch marks them delivered.
        A group shows "read by N" instead, so its deliveries are neither written nor told."""
        if self.room is not None:
            self.undelivered = []
        elif self.undelivered:
            delivery = receipts.Delivery(self.conversation_id, self.member_id, self.user_id, tuple(self.undelivered))
            self.undelivered = []
            get_batcher("chat-delivered", store_deliveries, DELIVERED_GATHER_S).submit(delivery)

    def on_event(self, event: dict) -> None:
        kind, data = event["type"], event["data"]
        if kind == MESSAGE_NEW:
            self._on_message(data)
        elif kind == RECEIPT_UPDATED:  # for the senders: my own receipts tell me nothing
            if data.get("user_id") != self.user_id and not (self.hide_reads and data.get("status") == "read"):
                self.live.send_event(make_event(kind, data))
        elif kind == TYPING:
            if data.get("user_id") not in (self.user_id, *self.hidden):
                self.live.send_event(make_event(kind, data))
        elif kind == READ_POSITION:
            if data.get("user_id") != self.user_id and not self.hide_reads:
                self.live.send_event(make_event(kind, data))
        elif kind == PRESENCE_UPDATED:
            self._on_presence(data)
        elif kind in (MESSAGE_DELETED, MEETING_STATE, MESSAGE_PINNED):
            self.live.send_event(make_event(kind, data))
        elif kind == CONVERSATION_BLOCKED:
            self._on_block(data)

    def _on_message(self, data: dict) -> None:
        if data["seq"] > self.last_seq + 1:  # published out of order, or after a retry's gap
            self._replay()  # what lies between is committed already: SQL has it
        elif self._send_message(data) and data["sender_id"] != self.user_id:
            self.undelivered.append((uuid.UUID(data["id"]), data["seq"]))
        said = chat_system.payload(data) if data["type"] == "system" else {}
        if said.get("event") in chat_system.PERSON_EVENTS:
            self._on_membership(said)

    def _on_presence(self, data: dict) -> None:
        if data.get("at", 0) > self.presence_at:  # else older than what this window was shown
            self.presence_at = data.get("at", 0)
            self.live.send_event(make_event(PRESENCE_UPDATED, data))

    def _on_block(self, data: dict) -> None:
        """A block between two members: in a direct conversation the blocked person's window
        closes; in a group the blocker's windows stop showing the blocked person from now on."""
        if data.get("direct") and data.get("blocked_id") == self.user_id:
            self._closed_by_block()
        elif not data.get("direct") and data.get("blocker_id") == self.user_id:
            self.hidden.add(data["blocked_id"])

    def _closed_by_block(self) -> None:
        """The other person blocked this user: the window closes, and its client stays away."""
        self.live.send_error(errors.BLOCKED)
        self.live.close(CLOSE_BLOCKED, "blocked")
        raise Done

    # -- in ----------------------------------------------------------------------------------

    def on_frame(self, frame: dict) -> None:
        try:
            super().on_frame(frame)
        except FieldError as error:
            db.session.rollback()
            self.live.send_error(errors.field_error(error.field), str(error.message))
        finally:
            db.session.remove()

    def on_send(self, frame: dict) -> None:
        send = chat.Send(self.conversation_id, self.user_id, chat.check_client_id(frame.get("client_id")),
                         chat.check_content(frame.get("content")))  # fmt: skip
        try:  # stored and committed with the process's other sends; live delivery follows
            data, created = get_batcher("chat-sends", store_sends).submit(send).wait(SEND_WAIT_S)
        except chat.SendRefused:
            self.live.send_error(errors.RATE_LIMITED, "You are sending too fast; wait a moment.")
            return
        except chat_blocks.SendBlocked:
            self.live.send_error(errors.BLOCKED)
            return
        except meeting_chat.MeetingSendRefused as refused:
            self.live.send_error(refused.code)
            return
        except Exception:  # noqa: BLE001 (the client may retry with the same id: it lands once)
            log.exception("a chat send was not stored")
            self.live.send_error(errors.NOT_STORED)
            return
        if data["conversation_id"] != str(self.conversation_id):
            raise FieldError("client_id", "That id was used for a message elsewhere; make a new one.")
        if not created:  # a retry: this client gets the stored message again, nobody else does
            self.live.send_event(make_event(MESSAGE_NEW, data))

    def on_typing(self, frame: dict) -> None:
        with contextlib.suppress(redis.RedisError):  # typing is a hint: losing one is fine
            publish_now(get_redis(), self.topic, TYPING, {"user_id": self.user_id, "display_name": self.display_name})

    def on_read(self, frame: dict) -> None:
        up_to = json_int(frame.get("up_to_seq"))
        if up_to is None:
            self.live.send_error(errors.BAD_UP_TO_SEQ)
            return
        changed = receipts.mark_read(self.conversation_id, self.user_id, up_to)
        receipts.publish_receipts(self.conversation_id, changed)
        db.session.commit()

    def on_delete(self, frame: dict) -> None:
        chat.delete_message(self.conversation_id, frame.get("message_id"), self.user_id)
        db.session.commit()


ConversationConnection.frames = {
    "message.send": ConversationConnection.on_send,
    "typing": ConversationConnection.on_typing,
    "message.read": ConversationConnection.on_read,
    "message.delete": ConversationConnection.on_delete,
}
