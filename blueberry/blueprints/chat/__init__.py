"""1:1 conversations: the list, a conversation's page and its websocket, starting one.

Non-members get 404 everywhere (the same answer as a conversation that does not exist).
"""

import uuid
from pathlib import Path

import redis
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from blueberry.blueprints.chat.forms import WriteForm
from blueberry.blueprints.chat.socket import ConversationConnection
from blueberry.bodylimit import body_limit
from blueberry.errors import render_error
from blueberry.extensions import db, get_redis, sock
from blueberry.forms import ReportForm, apply_field_error
from blueberry.htmx import go, is_htmx
from blueberry.inputs import int_arg, text_int
from blueberry.login import SESSION_TOKEN
from blueberry.models import Attachment, Conversation, ConversationMember, Message, User
from blueberry.offload import offload
from blueberry.realtime.events import (
    ERROR,
    MEETING_STATE,
    MESSAGE_DELETED,
    MESSAGE_NEW,
    MESSAGE_PINNED,
    PRESENCE_UPDATED,
    READ_POSITION,
    RECEIPT_UPDATED,
    TYPING,
    session_topic,
)
from blueberry.realtime.ws import LiveSocket, check_handshake, guarded
from blueberry.services import (
    acquaintance,
    chat,
    chat_blocks,
    meeting_chat,
    meeting_lifecycle,
    message_requests,
    receipts,
    safety,
)
from blueberry.services import upload as upload_service
from blueberry.services.accounts import canonical_username
from blueberry.services.conversation import conversations_of, group_view, partner_of, start_direct
from blueberry.services.errors import FieldError
from blueberry.services.presence import online_in
from blueberry.services.sessions import token_hash

bp = Blueprint("chat", __name__)
# Room in an upload's body for its multipart headers, the CSRF token and the client id.
UPLOAD_ENVELOPE = 8 * 1024

FRAGMENTS = {
    MESSAGE_NEW: "chat/_event_message.html",
    MESSAGE_DELETED: "chat/_event_deleted.html",
    RECEIPT_UPDATED: "chat/_event_receipt.html",
    TYPING: "chat/_event_typing.html",
    ERROR: "chat/_event_error.html",
    MEETING_STATE: "chat/_event_meeting_state.html",
    PRESENCE_UPDATED: "chat/_event_presence.html",
    READ_POSITION: "chat/_event_read_position.html",
    MESSAGE_PINNED: "chat/_event_pinned.html",
}


def _conversation_id(raw) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


def _is_member(conversation_id) -> bool:
    """For the socket: a member who has not left (one who left reads the page's history only)."""
    cid = _conversation_id(conversation_id)
    me = chat.member(cid, current_user.id) if cid is not None else None
    return me is not None and me.left_at is None


bp.before_request(lambda: check_handshake(_is_member, int_args=("after",)))


def _member_or_404(raw) -> ConversationMember:
    cid = _conversation_id(raw)
    me = chat.member(cid, current_user.id) if cid else None
    if me is None:
        abort(404)
    return me


@bp.get("/conversations")
@login_required
def index():
    return _index_page(WriteForm())


def _index_page(form: WriteForm, status: int = 200):
    return render_template(
        "chat/index.html",
        rows=conversations_of(current_user.id),
        form=form,
        sent=message_requests.sent(current_user.id),
        requests_waiting=message_requests.incoming_count(current_user.id),
    ), status


@bp.post("/conversations")
@login_required
def start():
    """Write to the person named `username`: into our conversation when we have met, else a
    request (whose answer is the same whoever the name belongs to, if anyone)."""
    form = WriteForm()
    if not form.validate_on_submit():
        return _index_page(form, 422)
    other = db.session.scalar(select(User).where(User.username == canonical_username(form.username.data)))
    if other is not None and other.id != current_user.id and _may_write(other.id):
        return _write_in_conversation(other, form.content.data)
    try:
        message_requests.send(current_user, form.username.data, form.content.data,
                              current_app.config["MESSAGE_REQUESTS_PER_DAY"])  # fmt: skip
    except FieldError as error:
        db.session.rollback()
        apply_field_error(form, error)
        return _index_page(form, 422)
    except message_requests.TooManyRequests:
        db.session.rollback()
        return render_error(429, _("You have sent as many requests as a day allows. Try again tomorrow."))
    db.session.commit()
    flash(_("Request sent. They will see your message if they accept it."), "success")
    return go(url_for("chat.index"))


def _may_write(other_id: int) -> bool:
    return acquaintance.have_met(current_user.id, other_id) and not safety.blocked_between(current_user.id, other_id)


def _write_in_conversation(other: User, content: str):
    """Post into our conversation (created if new), within the same send limit as the socket's."""
    if not chat.send_allowed(current_user.id, current_app.config["CHAT_SENDS_PER_10S"]):
        return render_error(429)
    conversation = start_direct(current_user.id, other.id, origin="profile")
    chat.post_message(conversation.id, current_user.id, uuid.uuid4().hex, content)
    db.session.commit()
    return go(url_for("chat.conversation", conversation_id=conversation.id))


@bp.get("/conversations/<conversation_id>")
@login_required
def conversation(conversation_id):
    """The latest messages and the composer; `?before=<seq>` pages older ones (a fragment for htmx)."""
    me = _member_or_404(conversation_id)
    before = int_arg("before")
    hidden = chat_blocks.hidden_senders(me.conversation_id, me.user_id)
    messages = chat.messages_before(me.conversation_id, before, hidden=hidden, until_seq=me.left_seq)
    context = _page_context(me, messages)
    if before is not None and is_htmx():
        return render_template("chat/_older.html", **context)
    return render_template("chat/conversation.html", **context)


def _page_context(me: ConversationMember, messages: list) -> dict:
    statuses = receipts.receipt_status([m for m in messages if m.sender_id == me.user_id], me)
    conversation = db.session.get(Conversation, me.conversation_id)
    meeting = meeting_chat.meeting_of(conversation.id) if conversation.kind == "meeting" else None
    return {
        "me": me,
        "partner": partner_of(me.conversation_id, me.user_id),
        "messages": [chat.message_data(m) for m in messages],
        "statuses": {str(mid): status for mid, status in statuses.items()},
        "max_content": chat.MAX_CONTENT,
        "closed": me.left_at is not None or chat_blocks.send_blocked(me.conversation_id, me.user_id),
        "conversation": conversation,
        "origin": conversation.origin,
        "before": int_arg("before"),
        "room": group_view(conversation.id, meeting) if conversation.kind != "direct" else None,
        "read_positions": receipts.read_positions(conversation.id, me) if conversation.kind != "direct" else {},
        "online": _online(conversation.id) if meeting else set(),
        "viewer_id": me.user_id,
        "meeting": meeting,
        "meeting_state": meeting_lifecycle.state(meeting) if meeting else None,
        "pinned": meeting_chat.pinned_message(conversation),
    }  # fmt: skip


def _online(conversation_id) -> set[int]:
    """Who is in the room now, so the page shows it before its socket says so (none without Redis)."""
    try:
        return online_in(get_redis(), conversation_id)
    except redis.RedisError:
        return set()


@bp.get("/conversations/<conversation_id>/messages/<int:seq>/readers")
@login_required
def readers(conversation_id, seq: int):
    """Who has read my message `seq` in a group (the list behind "read by N")."""
    me = _member_or_404(conversation_id)
    return render_template("chat/_readers.html", readers=receipts.readers(me.conversation_id, seq, me))


@bp.post("/conversations/<conversation_id>/attachments")
@body_limit("UPLOAD_MAX_BYTES", UPLOAD_ENVELOPE)
@login_required
def upload(conversation_id):
    """Send an image or a file: checked by content, re-encoded if an image, then a message."""
    me = _member_or_404(conversation_id)
    config = current_app.config
    received = request.files.get("file")
    data = received.read(config["UPLOAD_MAX_BYTES"] + 1) if received else b""
    refusal = _refuse_upload(me, received, data)
    if refusal is not None:
        return refusal
    try:
        stored = offload(upload_service.store, data, received.filename, Path(config["UPLOAD_DIR"]))
        chat.post_attachment(me.conversation_id, me.user_id, request.form.get("client_id"), stored)
    except FieldError as error:
        db.session.rollback()
        return render_error(422, str(error.message))
    db.session.commit()
    if is_htmx():
        return "", 204  # the message arrives over the conversation's socket, like any other
    return redirect(url_for("chat.conversation", conversation_id=me.conversation_id), 303)


def _refuse_upload(me: ConversationMember, received, data: bytes):
    """The error answer for an upload we will not take, or None."""
    config = current_app.config
    if received is None:
        return render_error(400, _("Choose a file to send."))
    if len(data) > config["UPLOAD_MAX_BYTES"]:
        return render_error(413)
    if chat.storage_used(me.user_id) + len(data) > config["UPLOAD_QUOTA_BYTES"]:
        return render_error(413, _("Your storage is full. Delete older files to send new ones."))
    if not chat.send_allowed(me.user_id, config["CHAT_SENDS_PER_10S"]):
        return render_error(429)
    closed = meeting_chat.refusals([chat.Send(me.conversation_id, me.user_id, "", "")])[0]  # a meeting not on now
    if closed or chat_blocks.send_blocked(me.conversation_id, me.user_id):
        return render_error(403, _("You cannot send messages in this conversation."))
    return None


@bp.get("/conversations/<conversation_id>/attachments/<attachment_id>")
@login_required
def attachment(conversation_id, attachment_id):
    """An attachment, to members only: images inline, files as downloads, never sniffed."""
    me = _member_or_404(conversation_id)
    found = db.session.get(Attachment, _conversation_id(attachment_id)) if _conversation_id(attachment_id) else None
    message = db.session.get(Message, found.message_id) if found else None
    if message is None or message.conversation_id != me.conversation_id or message.is_deleted:
        abort(404)
    thumb = request.args.get("thumb") == "1" and found.thumb_name
    name = found.thumb_name if thumb else found.stored_name
    response = send_from_directory(
        Path(current_app.config["UPLOAD_DIR"]), name,
        mimetype="image/webp" if thumb else found.content_type,
        as_attachment=message.type == "file", download_name=found.original_name, max_age=3600,
    )  # fmt: skip
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.post("/conversations/<conversation_id>/block")
@login_required
def block(conversation_id):
    """Block the other person of a direct conversation; it closes to both and leaves my list."""
    me = _member_or_404(conversation_id)
    safety.block(current_user.id, _partner_or_404(me).id)
    db.session.commit()
    flash(_("Blocked. You will not see each other again."), "success")
    return go(url_for("chat.index"))


@bp.post("/conversations/<conversation_id>/report")
@login_required
def report(conversation_id):
    me = _member_or_404(conversation_id)
    partner = _partner_or_404(me)
    form = ReportForm()
    if not form.validate_on_submit():
        return render_template("safety/_report_form.html", form=form, action=request.path), 422
    safety.report(current_user.id, partner.id, form.reason.data, text=form.text.data or "", context="chat")
    db.session.commit()
    return render_template("safety/_done.html", message=_("Thank you. Our team will look at your report."))


def _partner_or_404(me: ConversationMember) -> User:
    """The other person of a direct conversation (a group has no one "other": 404)."""
    direct = db.session.get(Conversation, me.conversation_id).kind == "direct"
    partner = partner_of(me.conversation_id, me.user_id) if direct else None
    if partner is None:
        abort(404)
    return partner


@bp.post("/conversations/<conversation_id>/read-receipts")
@login_required
def read_receipts(conversation_id):
    """Hide or show read receipts in this conversation (mine to them, theirs to me)."""
    me = _member_or_404(conversation_id)
    me.hide_read_receipts = request.form.get("hide") == "1"
    db.session.commit()
    return redirect(url_for("chat.conversation", conversation_id=me.conversation_id), 303)


def render_html(event: dict, user_id: int, room: dict | None) -> str | None:
    """The fragment for one event, as this member sees it (my bubbles, their receipts; in a
    group, who said it)."""
    template = FRAGMENTS.get(event["type"])
    data = event["data"]
    if template is None or (event["type"] == RECEIPT_UPDATED and data.get("user_id") == user_id):
        return None  # no fragment, or my own receipt of their message: nothing to show
    mine = data.get("sender_id") == user_id
    return render_template(template, data=data, msg=data, mine=mine, room=room, viewer_id=user_id)


@sock.route("/ws/conversations/<conversation_id>", bp=bp)
@guarded
def conversation_socket(ws, conversation_id):
    """Live messages, receipts and typing for one member's window."""
    user_id, cid = current_user.id, _conversation_id(conversation_id)
    live = LiveSocket(ws, lambda event: render_html(event, user_id, connection.room))
    after = text_int(request.args.get("after")) or 0  # the handshake refused a malformed one
    ending = session_topic(token_hash(session.get(SESSION_TOKEN, "")))
    connection = ConversationConnection(live, ending, cid, current_user, after)
    connection.serve()
