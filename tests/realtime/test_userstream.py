"""The user's stream is declared once: pages listen for every declared type, and each type's
fragment exists."""

import re

from blueberry.realtime import userstream
from tests.conftest import login


def test_every_page_listens_for_every_declared_type(client, make_user):
    make_user("mina")
    login(client, "mina")
    page = client.get("/").get_data(as_text=True)
    listened = re.search(r'sse-swap="([^"]+)"', page).group(1).split(",")
    assert listened == list(userstream.FRAGMENTS)
    assert {"notification.new", "conversation.updated", "session.ended"} <= set(listened)


def test_every_declared_fragment_exists(app):
    for template in set(userstream.FRAGMENTS.values()):
        assert app.jinja_env.get_template(template)
