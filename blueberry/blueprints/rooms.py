"""Voice rooms: `/rooms/<id>` for its two members, and `/ws/rooms/<id>`, which relays WebRTC
signaling (offer/answer/ICE) between them. Media flows peer to peer; the server never sees it.

Room events go out on `bb:room:<id>`; each connection forwards its partner's, never its own.
Protocol: docs/realtime.md.
"""

import secrets

import redis
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from simple_websocket import ConnectionClosed

from blueberry.extensions import db, get_redis, sock
from blueberry.forms import ReportForm
from blueberry.htmx import is_htmx, notice
from blueberry.login import SESSION_TOKEN
from blueberry.models import MatchedRoom, User
from blueberry.realtime.events import (
    LIVE_DOWN,
    PONG,
    ROOM_ENDED,
    ROOM_KEEP,
    ROOM_KEPT,
    ROOM_PEER_JOINED,
    ROOM_PEER_LEFT,
    ROOM_SIGNAL,
    ROOM_STATE,
    SERVER_RESTARTING,
    SESSION_ENDED,
    make_event,
    publish_now,
    room_topic,
    session_topic,
)
from blueberry.realtime.ws import (
    CLOSE_SESSION_ENDED,
    CLOSE_TRY_AGAIN,
    FRAMES_WAITING,
    LiveSocket,
    Throttle,
    answering,
    check_handshake,
    guarded,
    listening,
)
from blueberry.services import room as rooms
from blueberry.services import room_presence, safety
from blueberry.services.errors import FieldError
from blueberry.services.sessions import token_hash

bp = Blueprint("rooms", __name__)
MAX_SDP = 32 * 1024
MAX_CANDIDATE = 1024
CANDIDATE_FIELDS = ("candidate", "sdpMid", "sdpMLineIndex", "usernameFragment")


def _member_room(room_id: int) -> MatchedRoom | None:
    room = db.session.get(MatchedRoom, room_id)
    return room if room and room.has_member(current_user.id) else None


def _is_member(room_id: int) -> bool:
    return _member_room(room_id) is not None


bp.before_request(lambda: check_handshake(_is_member))


def _room_or_404(room_id: int) -> MatchedRoom:
    room = _member_room(room_id)
    if room is None:
        abort(404)  # the same answer as a room that does not exist
    return room


def _partner_id(room: MatchedRoom) -> int:
    return room.user2_id if room.user1_id == current_user.id else room.user1_id


@bp.get("/rooms/<int:room_id>")
@login_required
def room(room_id: int):
    room = _room_or_404(room_id)
    partner = db.session.get(User, _partner_id(room))
    kept = rooms.kept_conversation(room)
    return render_template(
        "rooms/room.html", room=room, partner=partner, ice_servers=current_app.config["ICE_SERVERS"],
        role="caller" if current_user.id == room.user1_id else "callee",
        pressed=room.user1_keeps if current_user.id == room.user1_id else room.user2_keeps,
        conversation_url=url_for("chat.conversation", conversation_id=kept.id) if kept else None,
        keep_refused=_keep_refused(room),
    )  # fmt: skip


def _keep_refused(room: MatchedRoom) -> str | None:
    """Why keeping in touch is no longer possible (a block either way), or None."""
    if safety.blocked_between(room.user1_id, room.user2_id):
        return _("You can no longer keep in touch with this person.")
    return None


@bp.post("/rooms/<int:room_id>/leave")
@login_required
def leave(room_id: int):
    """Hang up: the room ends for both (it stays in the history)."""
    room = _room_or_404(room_id)
    rooms.leave_room(room, current_user.id)
    db.session.commit()
    return redirect(url_for("match.index"), 303)


@bp.post("/rooms/<int:room_id>/keep-in-touch")
@login_required
def keep_in_touch(room_id: int):
    """I would like to keep in touch; when the other person does too, we get a conversation."""
    room = _room_or_404(room_id)
    try:
        conversation = rooms.keep_in_touch(room, current_user.id)
    except FieldError as error:
        db.session.rollback()
        return _keep_refused_answer(room, str(error.message))
    db.session.commit()
    url = url_for("chat.conversation", conversation_id=conversation.id) if conversation else None
    if is_htmx():
        return render_template("rooms/_keep.html", room=room, conversation_url=url, pressed=True)
    return redirect(url or url_for("rooms.room", room_id=room.id), 303)


def _keep_refused_answer(room: MatchedRoom, message: str):
    """The button gives way to the reason (htmx), or the room page says it (a plain form)."""
    if is_htmx():
        return render_template("rooms/_keep.html", room=room, keep_refused=message), 409
    flash(message, "error")
    return redirect(url_for("rooms.room", room_id=room.id), 303)


@bp.post("/rooms/<int:room_id>/block")
@login_required
def block(room_id: int):
    room = _room_or_404(room_id)
    partner = _partner_id(room)
    safety.block(current_user.id, partner)
    rooms.leave_room(room, current_user.id, reason="blocked")
    db.session.commit()
    flash(_("Blocked. You will not see each other again."), "success")
    return redirect(url_for("match.index"), 303)


@bp.post("/rooms/<int:room_id>/report")
@login_required
def report(room_id: int):
    room = _room_or_404(room_id)
    form = ReportForm()
    if not form.validate_on_submit():
        return render_template("safety/_report_form.html", form=form, action=request.path), 422
    safety.report(current_user.id, _partner_id(room), form.reason.data, text=form.text.data,
                  context="room", room_id=room.id)  # fmt: skip
    db.session.commit()
    return notice(_("Thank you. Our team will look at your report."), "match.index")


@sock.route("/ws/rooms/<int:room_id>", bp=bp)
@guarded
def room_socket(ws, room_id: int):
    """Signaling for one member's window (JSON frames; the page's script speaks it)."""
    live = LiveSocket(ws, lambda event: None)
    live.json = True  # only the room's script connects here: always JSON
    live.throttle = Throttle(rate=30, burst=80)  # ICE candidates come in bursts
    room = _room_or_404(room_id)
    if not room.is_open:
        live.send_event(make_event(ROOM_ENDED, {"reason": room.end_reason or "ended"}))
        live.close(1000, "room ended")
        return
    RoomConnection(live, room, current_user.id).serve()


class RoomConnection:
    """One member's signaling socket: presence in, partner's events out."""

    def __init__(self, live: LiveSocket, room: MatchedRoom, user_id: int):
        self.live, self.room_id, self.user_id = live, room.id, user_id
        self.caller = room.user1_id == user_id
        self.redis, self.token = get_redis(), secrets.token_hex(8)
        self.restarting = False
        self.heartbeat_s = current_app.config["ROOM_HEARTBEAT_S"]
        self.topics = [room_topic(room.id), session_topic(token_hash(session.get(SESSION_TOKEN, "")))]

    def serve(self) -> None:
        try:
            with listening(self.live, self.topics) as self.listener:
                self._enter()
                while self._step():
                    pass
        except redis.RedisError:
            self.live.close(CLOSE_TRY_AGAIN, "signaling paused; reconnect")
        finally:
            self._exit()

    def _enter(self) -> None:
        present = room_presence.enter(self.redis, self.room_id, self.user_id, self.token)
        room = db.session.get(MatchedRoom, self.room_id)
        if len(present) == 2 and rooms.start_room(room):
            db.session.commit()
        started = room.started_at.timestamp() if room.started_at else None
        db.session.remove()
        peer_present = len(present) == 2
        state = {"role": "caller" if self.caller else "callee", "peer_present": peer_present, "started_at": started}
        self.live.send_event(make_event(ROOM_STATE, state))
        self._publish(ROOM_PEER_JOINED, {"started_at": started})

    def _exit(self) -> None:
        if self.restarting:  # no "peer left": the partner's call goes on; the presence expires
            return
        try:
            if room_presence.leave(self.redis, self.room_id, self.user_id, self.token):
                self._publish(ROOM_PEER_LEFT, {})
        except redis.RedisError:
            return  # the presence expires by itself

    def _publish(self, type_: str, data: dict) -> None:
        publish_now(self.redis, room_topic(self.room_id), type_, {**data, "from": self.user_id})

    def _step(self) -> bool:
        """Handle one event (or a quiet heartbeat); False when the connection is over."""
        if self.listener.overflowed:
            raise redis.ConnectionError("listener overflowed")
        event = self.listener.get(self.heartbeat_s)
        if event is None:
            room_presence.refresh(self.redis, self.room_id, self.user_id, self.token)
            return self.live.ws.connected
        kind, data = event["type"], event["data"]
        if kind == FRAMES_WAITING:
            return self._answer_frames()
        if kind == SESSION_ENDED:
            self.live.close(CLOSE_SESSION_ENDED, "session ended")
            return False
        if kind == SERVER_RESTARTING:
            self._answer_frames()
            self.restarting = True  # the call goes on peer to peer; signaling reconnects
            self.live.close_for_restart()
            return False
        if kind == LIVE_DOWN:
            raise redis.ConnectionError("live delivery lost Redis")
        if kind == ROOM_ENDED:
            self.live.send_event(make_event(ROOM_ENDED, data))
            self.live.close(1000, "room ended")
            return False
        if kind == ROOM_KEPT:
            self.live.send_event(make_event(kind, data))
        if kind in (ROOM_SIGNAL, ROOM_PEER_JOINED, ROOM_PEER_LEFT, ROOM_KEEP) and data.get("from") != self.user_id:
            self.live.send_event(make_event(kind, data))
        return True

    def _answer_frames(self) -> bool:
        try:
            for frame in self.live.pending_frames():
                with answering(self.live):
                    self._on_frame(frame)
        except ConnectionClosed:
            return False
        return True

    def _on_frame(self, frame: dict) -> None:
        kind = frame["type"]
        if kind == "ping":
            self.live.send_event(make_event(PONG, {}))
        elif kind == "signal":
            signal = clean_signal(frame)
            if signal is None:
                self.live.send_error("bad_signal", "A signal carries an SDP `description` or an ICE `candidate`.")
            else:
                self._publish(ROOM_SIGNAL, signal)
        else:
            self.live.send_error("unknown_type", f"Unknown frame type {kind[:40]!r}.")


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
