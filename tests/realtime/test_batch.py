"""Group commit (realtime.batch) with the chat send path, against the real database and Redis."""

import sqlite3
import threading
import time
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from blueberry.extensions import db
from blueberry.models import Message
from blueberry.realtime.batch import Batcher
from blueberry.services import chat
from blueberry.services.conversation import start_direct


@pytest.fixture
def conversation(make_user):
    mina, jun = make_user("mina"), make_user("jun", gender="male")
    conversation = start_direct(mina.id, jun.id)
    db.session.commit()
    return conversation.id, mina.id


def test_items_submitted_together_are_committed_and_each_gets_its_own_answer(app, conversation):
    conversation_id, mina = conversation
    gate, batch_sizes = threading.Event(), []

    def handle(sends):
        gate.wait(5)  # hold the first batch so that the others queue up behind it
        batch_sizes.append(len(sends))
        return chat.post_messages(sends)

    batcher = Batcher(app, "test-sends", handle)
    tickets = [batcher.submit(chat.Send(conversation_id, mina, f"c{n}", f"message {n}")) for n in range(6)]
    gate.set()
    results = [ticket.wait(10) for ticket in tickets]
    assert [data["content"] for data, _ in results] == [f"message {n}" for n in range(6)]
    assert sum(batch_sizes) == 6 and len(batch_sizes) < 6  # grouped, not one transaction each
    db.session.remove()
    stored = db.session.scalars(select(Message.content).order_by(Message.seq)).all()
    assert stored == [f"message {n}" for n in range(6)]  # committed, in submission order


def test_one_bad_item_fails_only_its_own_ticket(app, conversation):
    conversation_id, mina = conversation
    gate = threading.Event()

    def handle(sends):
        gate.wait(5)
        return chat.post_messages(sends)

    batcher = Batcher(app, "test-bad", handle)
    first = batcher.submit(chat.Send(conversation_id, mina, "first", "held"))
    good = batcher.submit(chat.Send(conversation_id, mina, "good", "fine"))
    bad = batcher.submit(chat.Send(uuid.uuid4(), mina, "bad", "to a conversation that does not exist"))
    gate.set()
    assert first.wait(10)[1] and good.wait(10)[0]["content"] == "fine"
    with pytest.raises(Exception):  # noqa: B017 (whatever the database said about it)
        bad.wait(10)
    db.session.remove()
    assert set(db.session.scalars(select(Message.client_id))) == {"first", "good"}


@pytest.mark.sqlite
def test_a_batch_waits_its_turn_while_another_process_writes(app, conversation, database_url):
    """The write fails at once while another connection holds SQLite's lock, and is retried."""
    conversation_id, mina = conversation
    other = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    batcher = Batcher(app, "test-locked", chat.post_messages)
    ticket = batcher.submit(chat.Send(conversation_id, mina, "waits", "after the lock"))
    time.sleep(0.3)
    assert not ticket.done.is_set() and batcher.lock_retries > 0  # retrying, not failed, not stuck in SQLite
    other.execute("COMMIT")
    data, created = ticket.wait(5)
    assert created and data["content"] == "after the lock"
    db.session.remove()
    assert db.session.scalars(select(Message.client_id)).all() == ["waits"]
