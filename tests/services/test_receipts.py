"""Receipts as two positions per member, against real SQL: what each status reads as, who is
told once, hidden reads, and that neither a message nor a delivery writes a row per member."""

import uuid

from blueberry.extensions import db
from blueberry.models import Conversation, ConversationMember, Message
from blueberry.services import chat, chat_unread, receipts
from tests.statements import statements_written


def _post(conversation, sender, *texts) -> list[Message]:
    sent = [chat.post_message(conversation.id, sender.id, uuid.uuid4().hex, text)[0] for text in texts]
    db.session.commit()
    return [db.session.get(Message, uuid.UUID(data["id"])) for data in sent]


def _delivery(conversation, user, messages) -> receipts.Delivery:
    me = chat.member(conversation.id, user.id)
    return receipts.Delivery(conversation.id, me.id, user.id, tuple((m.id, m.seq) for m in messages))


def _status(conversation, viewer, messages) -> list[str]:
    statuses = receipts.receipt_status(messages, chat.member(conversation.id, viewer.id))
    return [statuses[m.id] for m in messages]


def test_delivered_then_read_and_each_change_is_told_once(pair, conversation):
    mina, jun = pair
    messages = _post(conversation, mina, "one", "two", "three")
    told = receipts.mark_delivered([_delivery(conversation, jun, messages[:2])])
    db.session.commit()
    assert told == [(conversation.id, {"message_id": str(m.id), "user_id": jun.id, "status": "delivered"})
                    for m in messages[:2]]  # fmt: skip
    assert _status(conversation, mina, messages) == ["delivered", "delivered", "sent"]
    assert receipts.mark_delivered([_delivery(conversation, jun, messages[:2])]) == []  # once
    read = receipts.mark_read(conversation.id, jun.id, 2)
    assert [receipt["message_id"] for receipt in read] == [str(m.id) for m in messages[:2]]
    db.session.commit()
    assert _status(conversation, mina, messages) == ["read", "read", "sent"]
    assert receipts.mark_delivered([_delivery(conversation, jun, messages)]) == [
        (conversation.id, {"message_id": str(messages[2].id), "user_id": jun.id, "status": "delivered"})
    ]  # read ones stay read: nobody is told "delivered" for them
    db.session.commit()
    assert _status(conversation, mina, messages) == ["read", "read", "delivered"]


def test_two_windows_of_one_member_in_one_batch_tell_the_sender_once(pair, conversation):
    mina, jun = pair
    messages = _post(conversation, mina, "one", "two")
    told = receipts.mark_delivered([_delivery(conversation, jun, messages[:1]), _delivery(conversation, jun, messages)])
    db.session.commit()
    assert [receipt["message_id"] for _, receipt in told] == [str(messages[0].id), str(messages[1].id)]
    assert chat.member(conversation.id, jun.id).delivered_seq == 2


def test_the_delivered_position_never_moves_back(pair, conversation):
    mina, jun = pair
    messages = _post(conversation, mina, "one", "two", "three")
    receipts.mark_delivered([_delivery(conversation, jun, messages)])
    db.session.commit()
    assert receipts.mark_delivered([_delivery(conversation, jun, messages[:1])]) == []  # a lagging window
    db.session.commit()
    assert chat.member(conversation.id, jun.id).delivered_seq == 3


def test_a_read_position_never_moves_back(pair, conversation):
    mina, jun = pair
    _post(conversation, mina, "one", "two", "three")
    assert len(receipts.mark_read(conversation.id, jun.id, 3)) == 3
    db.session.commit()
    assert receipts.mark_read(conversation.id, jun.id, 1) == []
    db.session.commit()
    assert chat.member(conversation.id, jun.id).last_read_seq == 3


def test_hidden_reads_show_as_delivered_both_ways(pair, conversation):
    mina, jun = pair
    messages = _post(conversation, mina, "hello")
    chat.member(conversation.id, jun.id).hide_read_receipts = True
    assert receipts.mark_read(conversation.id, jun.id, 1) == []  # read, but not told
    db.session.commit()
    assert _status(conversation, mina, messages) == ["delivered"]  # read implies it reached him
    assert chat_unread.unread_counts(jun.id) == {}
    chat.member(conversation.id, jun.id).hide_read_receipts = False
    assert _status(conversation, mina, messages) == ["read"]
    chat.member(conversation.id, mina.id).hide_read_receipts = True  # hiding mine hides theirs from me
    assert _status(conversation, mina, messages) == ["delivered"]


def test_my_own_messages_are_not_unread_and_skipped_numbers_are_not_counted(pair, conversation):
    mina, jun = pair
    _post(conversation, mina, "one")
    chat.post_message(conversation.id, mina.id, "same", "two")
    chat.post_message(conversation.id, mina.id, "same", "a retry uses up a number")
    db.session.commit()
    _post(conversation, jun, "mine")
    _post(conversation, mina, "three")
    assert chat.member(conversation.id, jun.id).last_read_seq == 0
    assert chat_unread.unread_counts(jun.id) == {conversation.id: 3}  # seq 5 is "three"; 3 was the retry, 4 his own
    receipts.mark_read(conversation.id, jun.id, 2)
    db.session.commit()
    assert chat_unread.unread_counts(jun.id) == {conversation.id: 1}


def test_in_a_group_the_furthest_member_decides_and_statements_do_not_grow_with_members(make_user):
    people = [make_user(f"member{n}") for n in range(6)]
    group = Conversation(kind="meeting", origin="meeting")
    db.session.add(group)
    db.session.flush()
    db.session.add_all(ConversationMember(conversation_id=group.id, user_id=person.id) for person in people)
    db.session.commit()
    with statements_written() as writes:
        messages = _post(group, people[0], "hello all", "second")
    assert writes == ["UPDATE conversation", "INSERT INTO message"] * 2  # nothing per member
    with statements_written() as writes:
        receipts.mark_delivered([_delivery(group, person, messages) for person in people[1:4]])
        db.session.commit()
    assert writes == ["UPDATE conversation_member"] * 3  # one per member, not per message
    assert _status(group, people[0], messages) == ["delivered", "delivered"]
    receipts.mark_read(group.id, people[5].id, 1)
    db.session.commit()
    assert _status(group, people[0], messages) == ["read", "delivered"]
