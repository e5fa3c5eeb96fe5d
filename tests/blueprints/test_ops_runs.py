"""/ops/runs: staff see every run of background work (counts, duration, errors), by kind."""

from datetime import timedelta

from blueberry.extensions import db
from blueberry.models import JobRun
from blueberry.models.base import utcnow
from tests.conftest import login


def add_run(kind: str, status: str, counts: dict, error: str = "", took_s: float | None = 2.5) -> JobRun:
    started = utcnow() - timedelta(minutes=5)
    finished = started + timedelta(seconds=took_s) if took_s is not None else None
    run = JobRun(kind=kind, status=status, counts=counts, error=error, started_at=started, finished_at=finished)
    db.session.add(run)
    db.session.commit()
    return run


def test_only_staff_see_runs(client, make_user):
    assert client.get("/ops/runs").status_code == 302  # to the login page
    make_user("mina")
    login(client, "mina")
    assert client.get("/ops/runs").status_code == 403


def test_runs_show_counts_duration_and_errors_escaped(client, make_user):
    make_user("boss", is_staff=True)
    ok = add_run("books.ingest", "ok", {"fetched": 200, "added": 12, "skipped": 3, "skip_reasons": {"adult": 3}})
    failed = add_run("books.ingest", "failed", {"fetched": 0}, error="Aladin answered HTTP 500 <b>for page 3</b>")
    add_run("books.sample", "running", {}, took_s=None)
    login(client, "boss")
    page = client.get("/ops/runs").get_data(as_text=True)
    assert page.index(f'id="run-{failed.id}"') < page.index(f'id="run-{ok.id}"')  # newest first
    assert "fetched 200 · added 12 · skipped 3" in page and "adult: 3" in page and "2.5 s" in page
    assert "HTTP 500 &lt;b&gt;for page 3&lt;/b&gt;" in page
    only_sample = client.get("/ops/runs?kind=books.sample").get_data(as_text=True)
    assert "books.sample" in only_sample and f'id="run-{ok.id}"' not in only_sample
    assert client.get("/ops/runs?kind=" + "x" * 500).status_code == 200  # no such kind: nothing listed
