"""Operations: dashboard access, /healthz, security headers, error pages, Redis outages."""

import os
import signal
import subprocess
import sys
import time

import pytest

from blueberry import create_app
from tests.conftest import _config, get_csrf, login
from tests.servers import ROOT


def test_dashboard_anonymous_goes_to_login(client):
    response = client.get("/ops/rq/")
    assert response.status_code == 302
    assert "/auth/login?next=/ops/rq/" in response.headers["Location"]


def test_dashboard_forbidden_for_non_staff(client, make_user):
    make_user("mina")
    login(client, "mina")
    assert client.get("/ops/rq/").status_code == 403
    assert client.get("/ops/rq/0/data/queues.json").status_code == 403


def test_dashboard_for_staff_with_relaxed_csp_only_there(client, make_user):
    make_user("boss", is_staff=True)
    login(client, "boss")
    page = client.get("/ops/rq/")
    assert page.status_code == 200
    assert "'unsafe-inline'" in page.headers["Content-Security-Policy"]
    assert client.get_cookie("_csrf_token", path="/ops/rq") is not None
    assert client.get("/ops/rq/0/data/queues.json").status_code == 200
    assert "'unsafe-inline'" not in client.get("/").headers["Content-Security-Policy"]


def test_dashboard_state_changes_need_post_and_csrf(client, make_user):
    make_user("boss", is_staff=True)
    login(client, "boss")
    assert client.get("/ops/rq/requeue/default").status_code == 405
    assert client.post("/ops/rq/requeue/default").status_code == 400  # no CSRF token
    client.get("/ops/rq/")
    token = client.get_cookie("_csrf_token", path="/ops/rq").value
    assert client.post("/ops/rq/requeue/default", headers={"X-CSRFToken": token}).status_code == 200


def test_security_headers_on_pages(client):
    headers = client.get("/auth/login").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "HX-Request" in headers["Vary"]


def test_unknown_route_gets_404_page_and_htmx_toast(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "That page does not exist." in page.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)
    fragment = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert fragment.status_code == 404
    assert fragment.headers["HX-Retarget"] == "#toasts"
    assert "<html" not in fragment.get_data(as_text=True)


def test_oversize_body_gets_413(client):
    response = client.post("/auth/login", data={"login": "x" * (2 * 1024 * 1024), "password": "y"})
    assert response.status_code == 413


def test_healthz_when_all_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["db"]["ok"] and body["redis"]["ok"]
    assert body["workers"]["count"] == 0 and body["scheduler"]["ok"] is False


def test_readiness_asks_for_the_parts_it_needs(client):
    assert client.get("/healthz?require=redis").status_code == 200
    assert client.get("/healthz?require=workers").status_code == 503  # no worker runs in this test
    assert client.get("/healthz?require=redis,scheduler").status_code == 503
    assert client.get("/healthz?require=gremlins").status_code == 400


@pytest.fixture
def outage_app_config(database_url, own_redis):
    return _config(database_url, own_redis.url, REDIS_BREAKER_COOLDOWN=0.2)


@pytest.fixture
def app_config(request, database_url, redis_server):
    if "own_redis" in request.fixturenames:
        return request.getfixturevalue("outage_app_config")
    return _config(database_url, redis_server.url)


def test_redis_down_pages_and_login_still_answer_quickly(client, make_user, own_redis):
    make_user("mina")
    own_redis.stop()
    started = time.monotonic()
    assert client.get("/").status_code == 200
    assert login(client, "mina").status_code == 303
    assert client.get("/settings/matching").status_code == 200
    health = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert health.status_code == 200  # alive: this process and its database work
    assert health.get_json()["redis"]["ok"] is False and health.get_json()["db"]["ok"] is True
    assert client.get("/healthz?require=redis").status_code == 503  # not ready
    assert elapsed < 2.0, f"pages waited on the dead Redis ({elapsed:.1f} s)"


def test_a_hung_redis_costs_one_timeout_then_the_breaker_answers_at_once(client, own_redis):
    own_redis.process.send_signal(signal.SIGSTOP)  # accepts connections, never answers
    try:
        started = time.monotonic()
        assert client.get("/healthz?require=redis").status_code == 503
        first = time.monotonic() - started
        started = time.monotonic()
        assert client.get("/healthz?require=redis").status_code == 503
        second = time.monotonic() - started
    finally:
        own_redis.process.send_signal(signal.SIGCONT)
    assert first >= 0.4  # the 0.5 s socket timeout, once
    assert second < 0.2, f"the breaker did not open ({second:.2f} s)"


def test_everything_comes_back_when_redis_returns(client, own_redis):
    own_redis.stop()
    assert client.get("/healthz?require=redis").status_code == 503
    own_redis.start()
    time.sleep(0.3)  # the breaker's cool-down in this test
    assert client.get("/healthz?require=redis").status_code == 200


def test_login_throttle_survives_a_redis_outage_in_memory(client, make_user, own_redis):
    make_user("mina")
    own_redis.stop()
    statuses = [login(client, "mina", "wrong-password").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429


def test_csrf_token_for_logged_out_forms(client):
    assert len(get_csrf(client, "/auth/signup")) > 20


@pytest.fixture
def app_with_bug(app):
    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/broken", "broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_server_error_page_and_htmx_toast(app_with_bug, client):
    page = client.get("/broken")
    assert page.status_code == 500
    assert "Something went wrong on our side" in page.get_data(as_text=True)
    fragment = client.get("/broken", headers={"HX-Request": "true"})
    assert fragment.status_code == 500
    assert fragment.headers["HX-Reswap"] == "beforeend"
    assert 'class="toast toast-error"' in fragment.get_data(as_text=True)


def test_healthz_503_when_the_database_is_down(tmp_path, redis_server):
    app = create_app(_config(f"sqlite:///{tmp_path}/missing-dir/x.db", redis_server.url))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["db"]["ok"] is False and body["redis"]["ok"] is True


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(BLUEBERRY_ENV="production", BLUEBERRY_INSTANCE=str(tmp_path))
    probe = "from blueberry import create_app; create_app()"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_htmx_csrf_failure_becomes_a_toast_whatever_the_element_selects(client, make_user):
    make_user("mina")
    login(client, "mina")
    response = client.post("/settings/matching?validate=1", headers={"HX-Request": "true"}, data={"age_min": "20"})
    assert response.status_code == 400
    assert response.headers["HX-Reselect"] == ".toast"
    assert "Your form expired" in response.get_data(as_text=True)
