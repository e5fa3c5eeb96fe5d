"""The chat core against real SQL and Redis: one conversation per pair, exactly-once sends,
sequence order, unread counts, deletion, replay and the domain event stream."""

import json
import uuid

import pytest
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.models import Message
from blueberry.services import chat, chat_unread, receipts, safety
from blueberry.services.conversation import conversations_of, start_direct
from blueberry.services.errors import FieldError
from tests.statements import statements_written


def test_the_same_two_people_share_one_conversation(pair, conversation):
    mina, jun = pair
    assert start_direct(jun.id, mina.id).id == conversation.id
    assert conversation.kind == "direct" and conversation.origin == "match"
    assert sorted(chat.member_ids(conversation.id)) == sorted([mina.id, jun.id])
    with pytest.raises(FieldError):
        start_direct(mina.id, mina.id)


def test_no_conversation_with_someone_blocked_either_way(pair, make_user):
    mina, jun = pair
    safety.block(jun.id, mina.id)
    db.session.commit()
    with pytest.raises(FieldError):
        start_direct(mina.id, jun.id)


def test_messages_get_consecutive_sequence_numbers_and_start_as_sent(pair, conversation):
    mina, jun = pair
    first, created = chat.post_message(conversation.id, mina.id, "c1", "  hello  ")
    second, _ = chat.post_message(conversation.id, jun.id, "c2", "hi!")
    db.session.commit()
    assert created and (first["seq"], second["seq"]) == (1, 2) and first["content"] == "hello"
    messages = db.session.scalars(select(Message).order_by(Message.seq)).all()
    assert receipts.receipt_status(messages[:1], chat.member(conversation.id, mina.id)) == {messages[0].id: "sent"}
    assert receipts.receipt_status(messages[1:], chat.member(conversation.id, jun.id)) == {messages[1].id: "sent"}


def test_the_same_client_id_lands_once(pair, conversation):
    mina, _ = pair
    results = [chat.post_message(conversation.id, mina.id, "retry-1", "once") for _ in range(5)]
    db.session.commit()
    assert {message["id"] for message, _ in results} == {results[0][0]["id"]}
    assert [created for _, created in results] == [True, False, False, False, False]
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1


@pytest.mark.parametrize(
    ("content", "client_id"),
    [("", "a"), ("   ", "a"), ("x" * 4001, "a"), (None, "a"), (["x"], "a"), ("ok", ""), ("ok", "x" * 65), ("ok", 5)],
)
def test_bad_messages_are_refused(pair, conversation, content, client_id):
    with pytest.raises(FieldError):
        chat.post_message(conversation.id, pair[0].id, client_id, content)


def test_a_read_position_in_the_future_stops_at_the_newest_message(pair, conversation):
    mina, jun = pair
    for n in range(2):
        chat.post_message(conversation.id, mina.id, f"f{n}", "hi")
    assert len(receipts.mark_read(conversation.id, jun.id, 10**12)) == 2
    db.session.commit()
    assert chat.member(conversation.id, jun.id).last_read_seq == 2
    chat.post_message(conversation.id, mina.id, "f2", "later")  # counted unread, and readable again
    db.session.commit()
    assert chat_unread.unread_counts(jun.id) == {conversation.id: 1}
    assert len(receipts.mark_read(conversation.id, jun.id, 3)) == 1
    assert chat_unread.unread_counts(jun.id) == {}


def test_only_the_sender_deletes_and_a_tombstone_stays(pair, conversation):
    mina, jun = pair
    sent, _ = chat.post_message(conversation.id, mina.id, "c1", "oops")
    db.session.commit()
    message = db.session.get(Message, uuid.UUID(sent["id"]))
    with pytest.raises(FieldError):
        chat.delete_message(conversation.id, message.id, jun.id)
    with pytest.raises(FieldError):
        chat.delete_message(conversation.id, "not-a-uuid", mina.id)
    chat.delete_message(conversation.id, message.id, mina.id)
    db.session.commit()
    assert message.is_deleted and chat.message_data(message)["content"] == ""


def test_replay_and_paging_by_sequence(pair, conversation):
    mina, _ = pair
    for n in range(1, 8):
        chat.post_message(conversation.id, mina.id, f"c{n}", f"m{n}")
    db.session.commit()
    assert [m.seq for m in chat.messages_after(conversation.id, 4)] == [5, 6, 7]
    assert [m.seq for m in chat.messages_before(conversation.id, None, limit=3)] == [5, 6, 7]
    assert [m.seq for m in chat.messages_before(conversation.id, 5, limit=3)] == [2, 3, 4]


def test_created_messages_reach_the_domain_stream_after_commit_only(pair, conversation, rdb):
    mina, _ = pair
    chat.post_message(conversation.id, mina.id, "c1", "kept")
    db.session.commit()
    chat.post_message(conversation.id, mina.id, "c2", "rolled back")
    db.session.rollback()
    entries = rdb.xrange(chat.EVENT_STREAM)
    assert len(entries) == 1
    fields = entries[0][1]
    data = json.loads(fields["data"])
    assert fields["event_type"] == "message.created" and fields["timestamp"] == data["created_at"]
    assert (data["content"], data["sender_id"], data["conversation_id"]) == ("kept", mina.id, str(conversation.id))


def test_the_list_is_newest_first_with_unread_counts(pair, conversation, make_user):
    mina, jun = pair
    ara = make_user("ara")
    other = start_direct(mina.id, ara.id)
    db.session.commit()
    chat.post_message(conversation.id, jun.id, "j1", "one")
    chat.post_message(conversation.id, jun.id, "j2", "two")
    db.session.commit()
    chat.post_message(other.id, ara.id, "a1", "newest")
    db.session.commit()
    rows = conversations_of(mina.id)
    assert [(row.partner.username, row.unread, row.last.content) for row in rows] == [
        ("ara", 1, "newest"), ("jun", 2, "two"),
    ]  # fmt: skip
    safety.block(mina.id, ara.id)
    db.session.commit()
    assert [row.partner.username for row in conversations_of(mina.id)] == ["jun"]


def test_the_recipient_hears_of_the_message_and_of_reading_it_with_the_unread_total(pair, conversation, rdb):
    mina, jun = pair
    pubsub = rdb.pubsub()
    pubsub.subscribe(f"bb:user:{jun.id}")
    pubsub.get_message(timeout=1)
    chat.post_message(conversation.id, mina.id, "c1", "one")
    chat.post_message(conversation.id, mina.id, "c2", "two")
    db.session.commit()
    receipts.mark_read(conversation.id, jun.id, 1)
    db.session.commit()
    events = []
    while message := pubsub.get_message(timeout=0.5):
        events.append(json.loads(message["data"].partition("\n")[2]))
    assert [(e["type"], e["data"]["unread_total"]) for e in events] == [
        ("conversation.updated", 1), ("conversation.updated", 2), ("conversation.read", 1),
    ]  # fmt: skip
    assert events[0]["data"]["sender_name"] == mina.display_name
    assert [e["data"]["unread"] for e in events[:2]] == [1, 2]  # this conversation's count, for the list


def test_a_batch_of_sends_is_ordered_per_conversation_and_retries_land_once(pair, conversation, make_user, rdb):
    mina, jun = pair
    ara = make_user("ara")
    other = start_direct(ara.id, jun.id)
    db.session.commit()
    pubsub = rdb.pubsub()
    pubsub.subscribe(f"bb:user:{jun.id}")
    pubsub.get_message(timeout=1)
    chat.post_message(conversation.id, mina.id, "before", "stored earlier")
    db.session.commit()
    sends = [
        chat.Send(conversation.id, mina.id, "b1", "one"),
        chat.Send(other.id, ara.id, "b2", "elsewhere"),
        chat.Send(conversation.id, jun.id, "b3", "two"),
        chat.Send(conversation.id, mina.id, "before", "a retry"),
        chat.Send(conversation.id, mina.id, "b1", "the same send twice in one batch"),
    ]
    results = chat.post_messages(sends)
    db.session.commit()
    assert [created for _, created in results] == [True, True, True, False, False]
    assert [data["seq"] for data, _ in results[:3]] == [2, 1, 3]  # 4 and 5 went to the retries, unused
    assert results[3][0]["content"] == "stored earlier" and results[4][0]["id"] == results[0][0]["id"]
    stored = db.session.scalars(select(Message.content).order_by(Message.conversation_id, Message.seq)).all()
    assert sorted(stored) == sorted(["stored earlier", "one", "two", "elsewhere"])
    assert chat_unread.unread_counts(jun.id) == {conversation.id: 2, other.id: 1}  # his own message is not unread
    assert chat_unread.unread_counts(mina.id) == {conversation.id: 1}
    told = [json.loads(m["data"].partition("\n")[2]) for m in iter(lambda: pubsub.get_message(timeout=1), None)]
    updates = [e["data"] for e in told if e["type"] == "conversation.updated"]
    assert [u["content"] for u in updates] == ["stored earlier", "one", "elsewhere"]  # not the retries, not his own
    assert updates[-1]["unread_total"] == 3 and updates[-1]["sender_name"] == ara.display_name


def test_a_batch_over_several_conversations_reserves_numbers_in_one_update_on_postgresql(pair, make_user):
    people = [make_user(f"friend{n}") for n in range(3)]
    conversations = [start_direct(pair[0].id, person.id) for person in people]
    db.session.commit()
    sends = [chat.Send(c.id, pair[0].id, f"s{n}", "hi") for n, c in enumerate(conversations * 2)]
    with statements_written() as writes:
        results = chat.post_messages(sends)
        db.session.commit()
    assert [data["seq"] for data, _ in results] == [1, 1, 1, 2, 2, 2]
    updates = writes.count("UPDATE conversation")
    assert updates == (1 if db.engine.dialect.name == "postgresql" else 3)  # SQLite: no round trips to save
