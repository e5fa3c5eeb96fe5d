"""Privacy settings: who may send me requests, and the people I blocked, with unblock."""

from blueberry.extensions import db
from blueberry.services import message_requests, safety
from tests.conftest import get_csrf, login


def test_nobody_means_requests_never_arrive(client, make_user):
    jun, mina = make_user("jun"), make_user("mina")
    login(client, "jun")
    token = get_csrf(client, "/settings/privacy")
    response = client.post("/settings/privacy", data={"csrf_token": token, "requests_from": "nobody"})
    assert response.status_code == 303
    db.session.expire_all()
    assert jun.requests_from == "nobody"
    message_requests.send(mina, "jun", "hi", per_day=20)
    db.session.commit()
    assert message_requests.incoming(jun.id) == []
    bad = client.post("/settings/privacy", data={"csrf_token": token, "requests_from": "everyone!"})
    assert bad.status_code == 422 and jun.requests_from == "nobody"


def test_blocked_people_are_listed_and_can_be_unblocked(client, make_user):
    jun, mina = make_user("jun"), make_user("mina", display_name="<i>Mina</i>")
    safety.block(jun.id, mina.id)
    db.session.commit()
    login(client, "jun")
    page = client.get("/settings/privacy").get_data(as_text=True)
    assert "&lt;i&gt;Mina&lt;/i&gt;" in page and "@mina" in page
    token = get_csrf(client, "/settings/privacy")
    assert client.post(f"/settings/privacy/blocked/{mina.id}/unblock", data={"csrf_token": token}).status_code == 303
    assert not safety.is_blocking(jun.id, mina.id)
    assert "You have not blocked anyone." in client.get("/settings/privacy").get_data(as_text=True)
    assert client.post(f"/settings/privacy/blocked/{mina.id}/unblock").status_code == 400  # no CSRF token
