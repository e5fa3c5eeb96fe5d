"""Voice rooms: `/rooms/<id>` for its two members, leaving, keeping in touch, blocking and
reporting; `/ws/rooms/<id>` relays their WebRTC signaling (socket.py). Protocol: docs/realtime.md.
"""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueberry.blueprints.rooms.socket import RoomConnection
from blueberry.extensions import db, sock
from blueberry.forms import ReportForm
from blueberry.htmx import go, is_htmx, notice
from blueberry.login import SESSION_TOKEN
from blueberry.models import MatchedRoom, User
from blueberry.realtime.events import ROOM_ENDED, make_event, session_topic
from blueberry.realtime.ws import LiveSocket, Throttle, check_handshake, guarded
from blueberry.services import room as rooms
from blueberry.services import safety
from blueberry.services.errors import FieldError
from blueberry.services.sessions import token_hash

bp = Blueprint("rooms", __name__)


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
    """The call while it is open; once it ended, its end screen (duration, keep in touch, block
    or report, meet someone else)."""
    room = _room_or_404(room_id)
    return render_template(
        "rooms/room.html", room=room, ice_servers=current_app.config["ICE_SERVERS"],
        role="caller" if current_user.id == room.user1_id else "callee",
        seconds=rooms.call_seconds(room), **_keep_context(room),
    )  # fmt: skip


def _keep_context(room: MatchedRoom) -> dict:
    """What the keep-in-touch box shows to the signed-in member."""
    mine, theirs = (room.user1_keeps, room.user2_keeps)[:: 1 if current_user.id == room.user1_id else -1]
    kept = rooms.kept_conversation(room)
    return {
        "partner": db.session.get(User, _partner_id(room)),
        "pressed": mine,
        "partner_keeps": theirs,
        "conversation_url": url_for("chat.conversation", conversation_id=kept.id) if kept else None,
        "keep_refused": rooms.keep_refusal(room),
        "keep_until": rooms.keep_deadline(room),
    }


@bp.post("/rooms/<int:room_id>/leave")
@login_required
def leave(room_id: int):
    """Hang up: the room ends for both (it stays in the history) and shows its end screen."""
    room = _room_or_404(room_id)
    rooms.leave_room(room, current_user.id)
    db.session.commit()
    return go(url_for("rooms.room", room_id=room.id))


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
    if is_htmx():
        return render_template("rooms/_keep.html", room=room, **_keep_context(room))
    url = url_for("chat.conversation", conversation_id=conversation.id) if conversation else None
    return redirect(url or url_for("rooms.room", room_id=room.id), 303)


def _keep_refused_answer(room: MatchedRoom, message: str):
    """The button gives way to the reason (htmx), or the room page says it (a plain form)."""
    if is_htmx():
        return render_template("rooms/_keep.html", room=room, **{**_keep_context(room), "keep_refused": message}), 409
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
    ending = session_topic(token_hash(session.get(SESSION_TOKEN, "")))
    mic = request.args.get("mic") != "off"  # the page's script says when the microphone failed
    RoomConnection(live, ending, room, current_user.id, mic=mic).serve()
