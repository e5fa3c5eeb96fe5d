"""One `/ws/rooms/<id>` connection: WebRTC signaling (offer/answer/ICE) relayed between the
room's two members, presence in, the partner's events out. Media flows peer to peer; the
server never sees it. Room events go out on `bb:room:<id>`; each connection forwards its
partner's, never its own. Protocol: docs/realtime.md.
"""

import secrets

import redis
from flask import current_app

from blueberry.extensions import db, get_redis
from blueberry.models import MatchedRoom
from blueberry.realtime import errors
from blueberry.realtime.connection import Done, LiveConnection
from blueberry.realtime.events import (
    ROOM_ENDED,
    ROOM_KEEP,
    ROOM_KEPT,
    ROOM_NO_MIC,
    ROOM_PEER_JOINED,
    ROOM_PEER_LEFT,
    ROOM_SIGNAL,
    ROOM_STATE,
    make_event,
    publish_now,
    room_topic,
)
from blueberry.realtime.ws import LiveSocket
from blueberry.services import room as rooms
from blueberry.services import room_presence

MAX_SDP = 32 * 1024
MAX_CANDIDATE = 1024
CANDIDATE_FIELDS = ("candidate", "sdpMid", "sdpMLineIndex", "usernameFragment")
PARTNER_EVENTS = (ROOM_SIGNAL, ROOM_PEER_JOINED, ROOM_PEER_LEFT, ROOM_KEEP, ROOM_NO_MIC)


class RoomConnection(LiveConnection):
    """One member's signaling socket. A member whose microphone could not start connects with
    `mic=False`: not present in the call (no offer is made to them, the call does not start),
    but the partner hears `room.no_mic` now and whenever they join, instead of waiting blind."""

    paused_reason = "signaling paused; reconnect"

    def __init__(self, live: LiveSocket, session_topic: str, room: MatchedRoom, user_id: int, mic: bool = True):
        super().__init__(live, session_topic)
        self.room_id, self.user_id, self.mic = room.id, user_id, mic
        self.caller = room.user1_id == user_id
        self.redis, self.token = get_redis(), secrets.token_hex(8)
        self.heartbeat_s = current_app.config["ROOM_HEARTBEAT_S"]

    def topics(self) -> list[str]:
        return [room_topic(self.room_id)]

    def wait_s(self) -> float:
        return self.heartbeat_s

    def start(self) -> None:
        if not self.mic:
            self._start_without_mic()
            return
        present = room_presence.enter(self.redis, self.room_id, self.user_id, self.token)
        room = db.session.get(MatchedRoom, self.room_id)
        if len(present) == 2 and rooms.start_room(room):
            db.session.commit()
        started = room.started_at.timestamp() if room.started_at else None
        db.session.remove()
        state = {"role": "caller" if self.caller else "callee", "peer_present": len(present) == 2,
                 "started_at": started}  # fmt: skip
        self.live.send_event(make_event(ROOM_STATE, state))
        self._publish(ROOM_PEER_JOINED, {"started_at": started})

    def _start_without_mic(self) -> None:
        room = db.session.get(MatchedRoom, self.room_id)
        started = room.started_at.timestamp() if room.started_at else None
        db.session.remove()
        partner = room.user2_id if self.caller else room.user1_id
        state = {"role": "caller" if self.caller else "callee", "started_at": started, "mic": False,
                 "peer_present": room_presence.is_present(self.redis, self.room_id, partner)}  # fmt: skip
        self.live.send_event(make_event(ROOM_STATE, state))
        self._publish(ROOM_NO_MIC, {})

    def finish(self) -> None:
        if self.restarting or not self.mic:  # no "peer left": the partner's call goes on; the presence expires
            return
        try:
            if room_presence.leave(self.redis, self.room_id, self.user_id, self.token):
                self._publish(ROOM_PEER_LEFT, {})
        except redis.RedisError:
            return  # the presence expires by itself

    def on_quiet(self) -> None:
        if self.mic:
            room_presence.refresh(self.redis, self.room_id, self.user_id, self.token)
        if not self.live.ws.connected:
            raise Done

    def on_event(self, event: dict) -> None:
        kind, data = event["type"], event["data"]
        if kind == ROOM_ENDED:
            self.live.send_event(make_event(ROOM_ENDED, data))
            self.live.close(1000, "room ended")
            raise Done
        if kind == ROOM_KEPT or (kind in PARTNER_EVENTS and data.get("from") != self.user_id):
            self.live.send_event(make_event(kind, data))
            if kind == ROOM_PEER_JOINED and not self.mic:  # they came (back): tell them too
                self._publish(ROOM_NO_MIC, {})

    def on_signal(self, frame: dict) -> None:
        if not self.mic:
            self.live.send_error(errors.NO_MIC)
            return
        signal = clean_signal(frame)
        if signal is None:
            self.live.send_error(errors.BAD_SIGNAL)
        else:
            self._publish(ROOM_SIGNAL, signal)

    def _publish(self, type_: str, data: dict) -> None:
        publish_now(self.redis, room_topic(self.room_id), type_, {**data, "from": self.user_id})


RoomConnection.frames = {"signal": RoomConnection.on_signal}


def clean_signal(frame: dict) -> dict | None:
    """The WebRTC signal in a frame, with only the fields a browser needs; None if malformed."""
    description, candidate = frame.get("description"), frame.get("candidate", ...)
    if isinstance(description, dict):
        kind, sdp = description.get("type"), description.get("sdp")
        if kind in ("offer", "answer") and isinstance(sdp, str) and len(sdp) <= MAX_SDP:
            return {"description": {"type": kind, "sdp": sdp}} | _call_of(frame)
        return None
    if candidate is None:
        return {"candidate": None}  # end of candidates
    if isinstance(candidate, dict) and _valid_candidate(candidate):
        return {"candidate": {key: candidate.get(key) for key in CANDIDATE_FIELDS}}
    return None


def _call_of(frame: dict) -> dict:
    """Which offer a description belongs to (the caller numbers them; the answer repeats it),
    so a caller that offered twice takes only the answer to its latest offer."""
    call = frame.get("call")
    if isinstance(call, int) and not isinstance(call, bool) and 0 <= call < 2**31:
        return {"call": call}
    return {}


def _valid_candidate(candidate: dict) -> bool:
    text, mid, index = candidate.get("candidate"), candidate.get("sdpMid"), candidate.get("sdpMLineIndex")
    ufrag = candidate.get("usernameFragment")
    return (
        isinstance(text, str) and len(text) <= MAX_CANDIDATE
        and (mid is None or (isinstance(mid, str) and len(mid) <= 64))
        and (index is None or (isinstance(index, int) and not isinstance(index, bool) and 0 <= index < 64))
        and (ufrag is None or (isinstance(ufrag, str) and len(ufrag) <= 256))
    )  # fmt: skip
