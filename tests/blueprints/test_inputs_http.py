"""Over HTTP: a NUL anywhere in a request is refused (values, field names, file names), and an
integer out of SQL's range in a path or query never reaches the database."""

from io import BytesIO

import pytest
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.models import Message, User
from blueberry.services.conversation import start_direct
from tests.conftest import get_csrf, login


@pytest.fixture
def mina_client(client, make_user):
    make_user("mina")
    login(client, "mina")
    return client


def test_a_nul_in_a_form_value_or_field_name_is_refused(mina_client):
    token = get_csrf(mina_client, "/settings/profile")
    profile = {"display_name": "Mi\x00na", "age": "30", "gender": "female", "timezone": "Asia/Seoul",
               "language": "en", "csrf_token": token}  # fmt: skip
    assert mina_client.post("/settings/profile", data=profile).status_code == 400
    named = {**profile, "display_name": "Mina", "x\x00y": "1"}
    assert mina_client.post("/settings/profile", data=named).status_code == 400
    assert db.session.scalar(select(User.display_name)) == "mina"


def test_a_nul_in_a_query_string_is_refused(mina_client):
    assert mina_client.get("/notifications?before=1%00").status_code == 400
    assert mina_client.get("/notifications?x%00=1").status_code == 400


def test_a_nul_in_an_uploaded_file_name_is_refused(mina_client, make_user):
    jun = make_user("jun")
    conversation = start_direct(db.session.scalar(select(User.id).where(User.username == "mina")), jun.id)
    db.session.commit()
    base = f"/conversations/{conversation.id}"
    form = {"csrf_token": get_csrf(mina_client, base), "client_id": "f1", "file": (BytesIO(b"hello"), "a\x00b.txt")}
    response = mina_client.post(f"{base}/attachments", data=form, content_type="multipart/form-data")
    assert response.status_code == 400
    assert db.session.scalar(select(Message)) is None


@pytest.mark.parametrize("path", ["/rooms/2147483648", "/rooms/99999999999999999999999"])
def test_a_path_id_beyond_sql_integer_matches_nothing(mina_client, path):
    assert mina_client.get(path).status_code == 404


def test_a_posted_id_beyond_sql_integer_is_404(mina_client):
    token = get_csrf(mina_client, "/notifications")
    assert mina_client.post("/notifications/99999999999999999999/read", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("before", ["2147483648", "99999999999999999999", "-5", "abc"])
def test_a_paging_cursor_out_of_range_is_400(mina_client, make_user, before):
    jun = make_user("jun")
    conversation = start_direct(db.session.scalar(select(User.id).where(User.username == "mina")), jun.id)
    db.session.commit()
    assert mina_client.get(f"/notifications?before={before}").status_code == 400
    assert mina_client.get(f"/conversations/{conversation.id}?before={before}").status_code == 400
    assert mina_client.get("/notifications?before=5").status_code == 200
