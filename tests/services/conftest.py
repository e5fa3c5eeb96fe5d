"""Fixtures of the chat services' tests: two people and their conversation."""

import pytest

from blueberry.extensions import db
from blueberry.services.conversation import start_direct


@pytest.fixture
def pair(make_user):
    return make_user("mina"), make_user("jun", gender="male")


@pytest.fixture
def conversation(pair):
    conversation = start_direct(pair[0].id, pair[1].id, origin="match")
    db.session.commit()
    return conversation
