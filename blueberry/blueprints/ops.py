"""Operations: /healthz for probes; for staff, the runs of background work at /ops/runs and
the RQ dashboard at /ops/rq/."""

import functools
from collections.abc import Callable

import rq_dashboard
from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from rq.exceptions import NoSuchJobError
from rq.serializers import JSONSerializer
from rq_dashboard.web import setup_rq_connection

from blueberry.extensions import get_redis, limiter, login_manager
from blueberry.services import news_cache, runs
from blueberry.services.health import PARTS, check_health

bp = Blueprint("ops", __name__)
DASHBOARD = "rq_dashboard"
# rq-dashboard changes state on these GETs; only POST may.
STATE_CHANGING_GETS = {"rq_dashboard.requeue_all"}


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Liveness (the process and its database); `?require=workers,scheduler,redis` for readiness."""
    require = {part for part in request.args.get("require", "").split(",") if part}
    if not require <= set(PARTS):
        return jsonify(error=f"require takes {', '.join(PARTS)}"), 400
    report, ok = check_health(get_redis(), get_redis(decode=False), current_app.config["WORKER_STALE_S"], require)
    return jsonify(report), 200 if ok else 503


@bp.get("/ops/runs")
@login_required
def job_runs():
    """Background runs (ingestion, reminders, AI): when, how long, their counts and errors; and
    the news cache's counters."""
    if not current_user.is_staff:
        abort(403)
    kind = request.args.get("kind", "")[:40] or None
    before = request.args.get("before", type=int)
    found = runs.recent(kind, before)
    more = found[-1].id if len(found) == runs.PAGE_SIZE else None
    ai_runs = runs.recent_ai() if kind in (None, "ai") else []
    cache = news_cache.stats() if kind is None or kind.startswith("news") else {}
    return render_template("ops/runs.html", runs=found, kinds=runs.kinds(), kind=kind, more=more, ai_runs=ai_runs,
                           news_cache=cache)  # fmt: skip


def guard_dashboard():
    """Staff only: anonymous → login, others → 403; state changes by POST only."""
    if request.blueprint != DASHBOARD:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_staff:
        abort(403)
    if request.method == "GET" and request.endpoint in STATE_CHANGING_GETS:
        abort(405)
    _check_instance()
    return None


def give_dashboard_csrf(response):
    """The dashboard's script sends the CSRF token it reads from its own cookie."""
    if request.blueprint == DASHBOARD and current_user.is_authenticated and current_user.is_staff:
        response.set_cookie("_csrf_token", generate_csrf(), path="/ops/rq", samesite="Strict", secure=request.is_secure)
    return response


def not_found_on_bad_ids(view: Callable) -> Callable:
    """rq-dashboard lets a bad instance number, job id or page raise (a 500): make it a 404."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except (LookupError, NoSuchJobError, ValueError):
            abort(404)

    return guarded


def _check_instance() -> None:
    # Its own before_request indexes the list of Redis URLs with this number before any view runs.
    number = (request.view_args or {}).get("instance_number")
    if number is not None and number >= len(current_app.config["RQ_DASHBOARD_REDIS_URL"]):
        abort(404)


def init_dashboard(app: Flask) -> None:
    rq_dashboard.web.config.serializer = JSONSerializer
    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", app.config["REDIS_URL"])
    setup_rq_connection(app)
    app.before_request(guard_dashboard)
    app.after_request(give_dashboard_csrf)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/ops/rq")
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(DASHBOARD + "."):
            app.view_functions[endpoint] = not_found_on_bad_ids(view)
    limiter.exempt(rq_dashboard.blueprint)
