"""Book recommendations: the reading quiz (`/recommendations/quiz`, one question at a time),
runs that follow their progress live (`/recommendations`), and feedback on the picks.

A run's fragment is its own URL (`/recommendations/runs/<id>`): the page includes it, the SSE
progress event swaps it, and it asks for itself again when the stream (re)opens or every few
seconds while it is still going, so a progress event missed before the stream opened never
leaves the page waiting.
"""

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueberry.extensions import db
from blueberry.htmx import add_vary_hx_request, go, is_htmx
from blueberry.inputs import int_arg, text_int
from blueberry.models.recommendation import FEEDBACK
from blueberry.services import ai, recommendation, taste
from blueberry.services.book_search import MAX_QUERY, search
from blueberry.services.errors import FieldError

bp = Blueprint("recommendation", __name__, url_prefix="/recommendations")
bp.after_request(add_vary_hx_request)
SEARCH_RESULTS = 8


@bp.get("")
@login_required
def index():
    profile = taste.profile_of(current_user.id)
    run = recommendation.latest(current_user.id)
    return render_template(
        "recommendation/index.html", profile=profile, run=run, **_run_context(run), **_start_context(profile)
    )


def _start_context(profile) -> dict:
    return {
        "ai_configured": ai.configured(),
        "consented": bool(profile and profile.ai_consent_at),
        "runs_left": recommendation.runs_left_today(current_user.id),
    }


def _run_context(run) -> dict:
    picks = recommendation.picks_of(run) if run is not None and run.status == "ok" else []
    return {"picks": picks, "meetings": recommendation.meetings_about(picks) if picks else {}}


@bp.post("/runs")
@login_required
def start():
    """Get recommendations: with the model when the reader agrees (this button is the agreement),
    or from the local scorer."""
    use_ai = request.form.get("use_ai") == "1"
    if use_ai and ai.configured():
        taste.agree_to_ai(current_user.id)
    try:
        run = recommendation.start(current_user, use_ai)
    except recommendation.Refused as refused:
        db.session.rollback()
        retarget = {"HX-Retarget": "#start-error", "HX-Reswap": "innerHTML"}
        return render_template("recommendation/_refused.html", message=str(refused)), 422, retarget
    db.session.commit()
    if not is_htmx():
        return redirect(url_for("recommendation.index"), 303)
    return render_template("recommendation/_run.html", run=run, **_run_context(run))


@bp.get("/runs/<int:run_id>")
@login_required
def run(run_id: int):
    found = recommendation.run_of(current_user.id, run_id)
    if found is None:
        abort(404)
    if not is_htmx():
        return redirect(url_for("recommendation.index"))
    return render_template("recommendation/_run.html", run=found, **_run_context(found))


@bp.post("/<int:recommendation_id>/feedback")
@login_required
def feedback(recommendation_id: int):
    value = request.form.get("feedback", "")
    if value not in FEEDBACK:
        abort(400)
    pick = recommendation.set_feedback(current_user.id, recommendation_id, value)
    if pick is None:
        abort(404)
    db.session.commit()
    if not is_htmx():
        return redirect(url_for("recommendation.index"), 303)
    return render_template("recommendation/_feedback.html", pick=pick)


@bp.get("/quiz")
@login_required
def quiz():
    profile = taste.profile_of(current_user.id)
    step = int_arg("step") or (profile.step if profile else 1)
    return _render_step(profile, step)


@bp.post("/quiz")
@login_required
def answer():
    step = text_int(request.form.get("step", ""), 1, taste.STEPS) or 1
    try:
        profile = taste.save_answer(current_user.id, step, request.form)
    except FieldError as error:
        db.session.rollback()
        return _render_step(taste.profile_of(current_user.id), step, error=error.message, form=request.form), 422
    db.session.commit()
    if step == taste.STEPS:
        return go(url_for("recommendation.index"))
    following = url_for("recommendation.quiz", step=step + 1)
    if not is_htmx():
        return redirect(following, 303)
    return _render_step(profile, step + 1), {"HX-Push-Url": following}


def _render_step(profile, step: int, error: str = "", form=None):
    step = min(max(step, 1), taste.STEPS)
    question = taste.question_at(step)
    answers = (profile.answers or {}) if profile else {}
    chosen = form.getlist(question.key) if form is not None else answers.get(question.key, [])
    context = {
        "step": step, "steps": taste.STEPS, "question": question, "options": taste.options_of(question),
        "chosen": chosen if isinstance(chosen, list) else [chosen], "text": answers.get(question.key, ""),
        "favourites": taste.favourites(profile), "error": error, "notes_max": taste.NOTES_MAX,
    }  # fmt: skip
    template = "recommendation/_quiz_step.html" if is_htmx() else "recommendation/quiz.html"
    return render_template(template, **context)


@bp.get("/quiz/books")
@login_required
def quiz_books():
    """Catalog search for the favourite-books question (only the results)."""
    query = request.args.get("q", "")[: MAX_QUERY * 2]
    profile = taste.profile_of(current_user.id)
    mine = {book.isbn13 for book in taste.favourites(profile)}
    books = [book for book in search(query, limit=SEARCH_RESULTS) if book.isbn13 not in mine] if query.strip() else []
    return render_template("recommendation/_book_results.html", books=books[:SEARCH_RESULTS], query=query.strip())


@bp.post("/quiz/favourites")
@login_required
def favourites():
    isbn13 = request.form.get("isbn13", "")[:13]
    error = ""
    try:
        if request.form.get("action") == "remove":
            profile = taste.remove_favourite(current_user.id, isbn13)
        else:
            profile = taste.add_favourite(current_user.id, isbn13)
        db.session.commit()
    except FieldError as refused:
        db.session.rollback()
        profile, error = taste.profile_of(current_user.id), refused.message
    if not is_htmx():
        return redirect(url_for("recommendation.quiz", step=taste.STEPS - 1), 303)
    return render_template("recommendation/_favourites.html", favourites=taste.favourites(profile), error=error)
