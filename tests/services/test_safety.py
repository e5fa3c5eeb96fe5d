"""Blocks hide two people from each other both ways; reports are validated."""

import pytest
from sqlalchemy import func, select

from blueberry.extensions import db
from blueberry.models import Block
from blueberry.services import safety
from blueberry.services.errors import FieldError


def test_a_block_hides_both_ways_and_is_idempotent(app, make_user):
    mina, jun, hana = make_user("mina"), make_user("jun"), make_user("hana")
    safety.block(mina.id, jun.id)
    safety.block(mina.id, jun.id)
    safety.block(hana.id, mina.id)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Block)) == 2
    assert safety.blocked_between(jun.id, mina.id) and safety.blocked_between(mina.id, jun.id)
    assert safety.hidden_user_ids(mina.id) == {jun.id, hana.id}
    assert safety.hidden_user_ids(jun.id) == {mina.id}
    assert not safety.blocked_between(jun.id, hana.id)


def test_unblock_and_no_self_block(app, make_user):
    mina, jun = make_user("mina"), make_user("jun")
    safety.block(mina.id, jun.id)
    safety.unblock(mina.id, jun.id)
    db.session.commit()
    assert not safety.blocked_between(mina.id, jun.id)
    with pytest.raises(FieldError):
        safety.block(mina.id, mina.id)


def test_reports_are_validated(app, make_user):
    mina, jun = make_user("mina"), make_user("jun")
    entry = safety.report(mina.id, jun.id, "harassment", text="  rude  ", context="room")
    db.session.commit()
    assert (entry.reason, entry.text, entry.context) == ("harassment", "rude", "room")
    with pytest.raises(FieldError):
        safety.report(mina.id, jun.id, "because")
    with pytest.raises(FieldError):
        safety.report(mina.id, mina.id, "spam")
    with pytest.raises(FieldError):
        safety.report(mina.id, jun.id, "spam", text="x" * (safety.MAX_REPORT_TEXT + 1))
