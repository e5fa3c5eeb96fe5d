"""Which page addresses may open the live sockets: in development the bound address (as
127.0.0.1 and as localhost), elsewhere only the explicit list; a page at another address says so
instead of "Connecting…" forever; `make run` says where Blueberry is ready."""

import runpy

import pytest

from blueberry.config import allowed_origins, bound_origins
from tests.conftest import csrf_from, login

HTMX = {"HX-Request": "true"}


def test_development_follows_the_bound_address(monkeypatch):
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    monkeypatch.setenv("BIND", "127.0.0.1:8000")
    assert allowed_origins("development") == ["http://127.0.0.1:8000", "http://localhost:8000"]
    monkeypatch.setenv("BIND", "0.0.0.0:5001")
    assert allowed_origins("development") == ["http://127.0.0.1:5001", "http://localhost:5001"]
    assert bound_origins("192.168.0.7:5000")[-1] == "http://192.168.0.7:5000"
    monkeypatch.delenv("BIND")
    assert allowed_origins("development") == ["http://127.0.0.1:5000", "http://localhost:5000"]


def test_production_keeps_the_explicit_list(monkeypatch):
    monkeypatch.setenv("BIND", "127.0.0.1:8000")
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    assert allowed_origins("production") == []
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://blueberry.example, https://www.blueberry.example")
    assert allowed_origins("production") == ["https://blueberry.example", "https://www.blueberry.example"]
    assert allowed_origins("development") == ["https://blueberry.example", "https://www.blueberry.example"]


@pytest.mark.parametrize(
    ("address", "notice"),
    [("http://127.0.0.1:5000", False), ("http://localhost:5000", False), ("http://localhost:8000", True)],
)
def test_a_page_at_an_address_that_sockets_refuse_says_so(app, client, make_user, address, notice):
    app.config["ALLOWED_ORIGINS"] = ["http://127.0.0.1:5000", "http://localhost:5000"]
    make_user("mina")
    token = csrf_from(client.get("/auth/login", base_url=address).get_data(as_text=True))
    form = {"login": "mina", "password": "correct-horse", "csrf_token": token}
    assert client.post("/auth/login", data=form, base_url=address).status_code == 303
    page = client.get("/match?x=1", base_url=address).get_data(as_text=True)
    assert ('id="origin-notice"' in page) is notice
    if notice:
        assert 'href="http://127.0.0.1:5000/match?x=1"' in page


def test_no_allowed_address_at_all_says_it_is_unavailable(app, client, make_user):
    app.config["ALLOWED_ORIGINS"] = []
    make_user("mina")
    login(client, "mina")
    assert "are not available at this address" in client.get("/").get_data(as_text=True)


def test_make_run_says_where_blueberry_is_ready():
    conf = runpy.run_path("gunicorn.conf.py")
    assert conf["ready_line"]("127.0.0.1:8000") == "Blueberry is ready at http://127.0.0.1:8000"
    assert conf["ready_line"]("0.0.0.0:5000") == "Blueberry is ready at http://127.0.0.1:5000"
