"""Direct conversations: one per pair of people, never between people who blocked each other."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blueberry.extensions import db
from blueberry.models import Conversation, ConversationMember, Message, User
from blueberry.models.chat import pair_key
from blueberry.services import safety
from blueberry.services.chat import not_from
from blueberry.services.chat_unread import unread_counts
from blueberry.services.errors import FieldError


def start_direct(a: int, b: int, origin: str = "profile") -> Conversation:
    """The conversation of these two people, created if new; FieldError for yourself or a block."""
    if a == b:
        raise FieldError("username", _l("That is you."))
    if safety.blocked_between(a, b):
        raise FieldError("username", _l("You cannot talk with this person."))
    existing = direct_between(a, b)
    if existing is not None:
        return existing
    try:
        with db.session.begin_nested():  # two people starting it at once: one row
            conversation = Conversation(kind="direct", origin=origin, pair_key=pair_key(a, b))
            db.session.add(conversation)
            db.session.flush()
            db.session.add_all(ConversationMember(conversation_id=conversation.id, user_id=uid) for uid in (a, b))
            db.session.flush()
    except IntegrityError:
        return direct_between(a, b)
    return conversation


def direct_between(a: int, b: int) -> Conversation | None:
    return db.session.scalar(select(Conversation).where(Conversation.pair_key == pair_key(a, b)))


@dataclass
class ConversationRow:
    conversation: Conversation
    partner: User | None
    last: Message | None
    unread: int


def conversations_of(user_id: int) -> list[ConversationRow]:
    """The user's conversations, newest activity first, without direct ones a block closed."""
    hidden = safety.hidden_user_ids(user_id)
    mine = select(ConversationMember.conversation_id).where(ConversationMember.user_id == user_id)
    conversations = db.session.scalars(
        select(Conversation).where(Conversation.id.in_(mine)).order_by(Conversation.updated_at.desc()).limit(200)
    ).all()
    partners = _partners(user_id, [c.id for c in conversations])
    last = _last_messages(conversations, frozenset(safety.blocked_ids(user_id)))
    unread = unread_counts(user_id)
    rows = [ConversationRow(c, partners.get(c.id), last.get(c.id), unread.get(c.id, 0)) for c in conversations]
    return [row for row in rows if not _hidden_direct(row, hidden)]


def _hidden_direct(row: ConversationRow, hidden: set[int]) -> bool:
    """A block closes a direct conversation and takes it off the list; a group stays listed
    (the blocked person's messages are what it hides there)."""
    return row.conversation.kind == "direct" and row.partner is not None and row.partner.id in hidden


def _partners(user_id: int, ids: list) -> dict:
    """The other person of each direct conversation among `ids` (a group has no one "other")."""
    query = (
        select(ConversationMember.conversation_id, User)
        .join(User, User.id == ConversationMember.user_id)
        .join(Conversation, Conversation.id == ConversationMember.conversation_id)
        .where(ConversationMember.conversation_id.in_(ids), ConversationMember.user_id != user_id)
        .where(Conversation.kind == "direct")
    )
    return dict(db.session.execute(query).all())


def _last_messages(conversations: list[Conversation], blocked: frozenset[int]) -> dict:
    """Each conversation's newest message; in a group, the newest one not from someone the
    viewer blocked (at most 200 lookups, each one indexed)."""
    found = {}
    for conversation in conversations:
        if not conversation.last_seq:
            continue
        query = select(Message).where(Message.conversation_id == conversation.id)
        if conversation.kind == "direct" or not blocked:
            query = query.where(Message.seq == conversation.last_seq)
        else:
            query = query.where(not_from(blocked)).order_by(Message.seq.desc()).limit(1)
        found[conversation.id] = db.session.scalar(query)
    return found


def partner_of(conversation_id, user_id: int) -> User | None:
    return _partners(user_id, [conversation_id]).get(conversation_id)


def group_view(conversation_id, meeting=None) -> dict:
    """A group as its bubbles, presence and participant list show it: everyone who was ever a
    member (history names them), who is a member now, and its leader (a meeting's)."""
    query = (
        select(User.id, User.display_name, User.username, User.photo_name, ConversationMember.left_at)
        .join(ConversationMember, ConversationMember.user_id == User.id)
        .where(ConversationMember.conversation_id == conversation_id)
        .order_by(ConversationMember.joined_at, User.id)
    )
    rows = db.session.execute(query).all()
    people = {uid: {"id": uid, "display_name": name, "username": username, "photo_name": photo}
              for uid, name, username, photo, _ in rows}  # fmt: skip
    members = [uid for uid, *_, left_at in rows if left_at is None]
    leader_id, meeting_id = (meeting.leader_id, meeting.id) if meeting is not None else (None, None)
    return {"leader_id": leader_id, "meeting_id": meeting_id, "people": people, "members": members}
