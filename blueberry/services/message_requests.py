"""Message requests: how someone who has not met you writes to you.

The sender writes one message. It waits in the recipient's Requests list until they accept it
(it becomes the first message of a normal conversation), decline it, block or report the sender.
The sender's side never changes: an unknown name, a person who takes no requests, a block and a
decline all look like "Request sent", and each allows asking the same name again only after
ASK_AGAIN_AFTER. Every request, delivered or not, counts toward the sender's daily limit.
"""

from datetime import timedelta

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from blueberry.extensions import db
from blueberry.models import Conversation, MessageRequest, User
from blueberry.models.base import utcnow
from blueberry.services import chat, notifications, safety
from blueberry.services.accounts import canonical_username
from blueberry.services.conversation import start_direct
from blueberry.services.errors import FieldError

ASK_AGAIN_AFTER = timedelta(days=30)
PER_DAY_WINDOW = timedelta(days=1)
# A request's message keeps one client id: accepting it twice (two tabs) stores it once.
CLIENT_ID = "request-{id}"


class TooManyRequests(Exception):
    """The sender has used up today's requests."""


def send(sender: User, username: str, content: str, per_day: int) -> MessageRequest:
    """Keep a request from `sender` to the person named `username`, whoever that turns out to be.

    FieldError for an empty or over-long message, yourself, or a name asked within 30 days;
    TooManyRequests past `per_day` in a day."""
    name = canonical_username(username)
    if not name:
        raise FieldError("username", _l("Write a username."))
    if name == sender.username:
        raise FieldError("username", _l("That is you."))
    text = chat.check_content(content)
    _hold_sender(sender.id)
    _check_not_asked_lately(sender.id, name)
    if _sent_since(sender.id, utcnow() - PER_DAY_WINDOW) >= per_day:
        raise TooManyRequests()
    recipient = db.session.scalar(select(User).where(User.username == name))
    state = "pending" if recipient is not None and _takes_requests_from(recipient, sender.id) else "withheld"
    request = MessageRequest(
        sender_id=sender.id, recipient_name=name, recipient_id=recipient.id if recipient else None,
        content=text, state=state,
    )  # fmt: skip
    _supersede(sender.id, name)
    db.session.add(request)
    db.session.flush()
    return request


def _supersede(sender_id: int, name: str) -> None:
    """A new request replaces an unanswered older one: the recipient sees only the newest."""
    db.session.execute(
        update(MessageRequest)
        .where(MessageRequest.sender_id == sender_id, MessageRequest.recipient_name == name,
               MessageRequest.state == "pending")
        .values(state="withheld")
    )  # fmt: skip


def _hold_sender(sender_id: int) -> None:
    """Serialize one sender's requests, so the checks below and the insert are one step: the
    write takes the sender's row lock (PostgreSQL) or the database's write lock (SQLite)."""
    db.session.execute(update(User).where(User.id == sender_id).values(requests_from=User.requests_from))


def _check_not_asked_lately(sender_id: int, name: str) -> None:
    query = select(func.max(MessageRequest.created_at)).where(
        MessageRequest.sender_id == sender_id, MessageRequest.recipient_name == name
    )
    last = db.session.scalar(query)
    if last is not None and last > utcnow() - ASK_AGAIN_AFTER:
        raise FieldError("username", _l("You already wrote to @%(name)s. You can write again later.", name=name))


def _sent_since(sender_id: int, since) -> int:
    query = select(func.count()).where(MessageRequest.sender_id == sender_id, MessageRequest.created_at > since)
    return db.session.scalar(query) or 0


def _takes_requests_from(recipient: User, sender_id: int) -> bool:
    return recipient.requests_from == "anyone" and not safety.blocked_between(recipient.id, sender_id)


def incoming(user_id: int) -> list[tuple[MessageRequest, User]]:
    """Pending requests to the user, newest first, without anyone a block stands between."""
    hidden = safety.hidden_user_ids(user_id)
    query = (
        select(MessageRequest, User)
        .join(User, User.id == MessageRequest.sender_id)
        .where(MessageRequest.recipient_id == user_id, MessageRequest.state == "pending")
        .order_by(MessageRequest.id.desc())
        .limit(200)
    )
    return [(request, sender) for request, sender in db.session.execute(query).all() if sender.id not in hidden]


def incoming_count(user_id: int) -> int:
    return len(incoming(user_id))


def sent(user_id: int) -> list[MessageRequest]:
    """The user's requests of the last 30 days that did not become conversations, newest first."""
    query = (
        select(MessageRequest)
        .where(
            MessageRequest.sender_id == user_id,
            MessageRequest.state != "accepted",
            MessageRequest.created_at > utcnow() - ASK_AGAIN_AFTER,
        )
        .order_by(MessageRequest.id.desc())
    )
    return list(db.session.scalars(query))


def pending_to(user_id: int, request_id: int) -> MessageRequest | None:
    """A request waiting for this user's answer (None for anyone else's, or one already answered)."""
    request = db.session.get(MessageRequest, request_id)
    if request is None or request.recipient_id != user_id or request.state != "pending":
        return None
    if safety.blocked_between(request.sender_id, user_id):
        return None
    return request


def accept(request: MessageRequest) -> Conversation:
    """The request becomes a conversation with its message first; the sender hears of it."""
    conversation = start_direct(request.sender_id, request.recipient_id, origin="profile")
    if _decide(request, "accepted"):
        chat.post_message(conversation.id, request.sender_id, CLIENT_ID.format(id=request.id), request.content)
        _tell_sender(request, conversation)
    return conversation


def decline(request: MessageRequest) -> None:
    """Hidden from the recipient; the sender is not told and may ask again after 30 days."""
    _decide(request, "declined")


def block_sender(request: MessageRequest) -> None:
    safety.block(request.recipient_id, request.sender_id)
    _decide(request, "declined")


def report_sender(request: MessageRequest, reason: str, text: str) -> None:
    """A report that carries the request's message, so the team sees what was sent."""
    details = f"{text.strip()}\n\n---\n{request.content}" if text.strip() else request.content
    safety.report(request.recipient_id, request.sender_id, reason, text=details[: safety.MAX_REPORT_TEXT],
                  context="request")  # fmt: skip
    _decide(request, "declined")


def _decide(request: MessageRequest, state: str) -> bool:
    """Move a pending request on; False when another window already did."""
    result = db.session.execute(
        update(MessageRequest)
        .where(MessageRequest.id == request.id, MessageRequest.state == "pending")
        .values(state=state, decided_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def _tell_sender(request: MessageRequest, conversation: Conversation) -> None:
    sender, recipient = db.session.get(User, request.sender_id), db.session.get(User, request.recipient_id)
    with force_locale(sender.language):
        title = _("%(name)s (@%(username)s) accepted your message request.",
                  name=recipient.display_name, username=recipient.username)  # fmt: skip
    link = url_for("chat.conversation", conversation_id=conversation.id)
    notifications.notify(sender, title, link=link, kind="request")
