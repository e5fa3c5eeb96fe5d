"""Recommendation runs: starting one, its stages, its picks, and what the reader says of them.

A click queues an `AiRun` on the `ai` queue (jobs/recommendation.py). The job moves it through
its stages — candidates, asking, checking, done — committing and publishing each one as a
`recommendation.progress` event on the reader's own stream, so the page follows it live. The
model is asked only with the reader's consent and a configured key; otherwise, or when the
model fails or answers twice with nothing usable, the local scorer chooses, and the page says so.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from blueberry.extensions import db
from blueberry.jobs import enqueue_on_commit
from blueberry.models import AiRun, Recommendation, User
from blueberry.models.base import utcnow
from blueberry.realtime.events import RECOMMENDATION_PROGRESS, publish_on_commit, user_topic
from blueberry.services import ai, recommendation_prompt, recommendation_scorer, taste
from blueberry.services import meeting as meetings
from blueberry.services.recommendation_candidates import Candidate, candidates, candidates_of
from blueberry.services.recommendation_check import PICKS_MIN, Rejected, check

KIND = "recommendation"
JOB = "blueberry.jobs.recommendation.recommend"
IN_FLIGHT_S = 120  # a second click while a run is this young gets that run, not another


class Refused(Exception):
    """No run now; the message says why."""


@dataclass
class Plan:
    """What a run works from, read before the model is asked (no database while it waits)."""

    answers: dict
    candidates: list[Candidate]
    liked: list[Candidate]
    language: str
    disliked: list[Candidate]


def start(user: User, use_ai: bool) -> AiRun:
    """Queue a run for `user` (the one already queued, after a double click); Refused when the
    quiz is not done or today's runs are used up."""
    profile = taste.profile_of(user.id)
    if profile is None or profile.completed_at is None:
        raise Refused(_l("Take the quiz first: your answers are what we recommend from."))
    profile.updated_at = utcnow()  # written first: two clicks at once queue one run, one after the other
    db.session.flush()
    current = _in_flight(user.id)
    if current is not None:
        return current
    if runs_left_today(user.id) <= 0:
        raise Refused(_l("That was today's last run. Come back tomorrow for more."))
    source = "ai" if use_ai and ai.configured() and profile.ai_consent_at else "offline"
    run = AiRun(kind=KIND, user_id=user.id, source=source, prompt_version=recommendation_prompt.PROMPT_VERSION)
    run.model = ai.model_name() if source == "ai" else ""
    db.session.add(run)
    db.session.flush()
    enqueue_on_commit("ai", JOB, run.id)
    _publish(run)
    return run


def _in_flight(user_id: int) -> AiRun | None:
    recent = utcnow() - timedelta(seconds=IN_FLIGHT_S)
    query = select(AiRun).where(
        AiRun.kind == KIND, AiRun.user_id == user_id, AiRun.status.in_(("queued", "running")), AiRun.created_at > recent
    )
    return db.session.scalar(query.order_by(AiRun.id.desc()).limit(1))


def runs_left_today(user_id: int) -> int:
    since = utcnow() - timedelta(days=1)
    used = db.session.scalar(
        select(func.count())
        .select_from(AiRun)
        .where(AiRun.kind == KIND, AiRun.user_id == user_id, AiRun.created_at > since)
    )
    return max(0, current_app.config["RECOMMENDATION_RUNS_PER_DAY"] - used)


def begin(run_id: int) -> AiRun | None:
    """Take up a queued run (or one whose worker died mid-way); None when it is over already."""
    run = db.session.get(AiRun, run_id)
    if run is None or run.finished:
        return None
    run.status, run.started_at = "running", utcnow()
    advance(run, "candidates")
    return run


def advance(run: AiRun, stage: str) -> None:
    run.stage = stage
    db.session.flush()
    _publish(run)


def plan(run: AiRun) -> Plan:
    """The run's answers and candidates (Refused "exhausted" when too few books are left)."""
    user = db.session.get(User, run.user_id)
    profile = taste.profile_of(user.id)
    answers = dict(profile.answers or {}) if profile else {}
    found = candidates(user.id, answers.get("genres", []), answers.get("favourites", []))
    if len(found) < PICKS_MIN:
        raise Refused("exhausted")
    liked = taste.books_of(answers.get("favourites", [])) + _marked(user.id, "more")
    return Plan(answers, found, _unique(liked), user.language, _unique(_marked(user.id, "no")))


def _marked(user_id: int, feedback: str) -> list:
    """Books the reader marked on earlier picks ("more like this", "not for me")."""
    query = select(Recommendation).where(Recommendation.user_id == user_id, Recommendation.feedback == feedback)
    return [pick.book for pick in db.session.scalars(query.options(selectinload(Recommendation.book)))]


def _unique(books: list) -> list[Candidate]:
    return candidates_of(list({book.id: book for book in books}.values()))


def choose(run: AiRun, plan: Plan, on_stage: Callable[[str], None]) -> tuple[list, ai.Usage, str, str]:
    """The picks — (candidate, comment) pairs — with what asking cost, a notice for the reader
    and an error for operators. Called outside any transaction: it may wait on the model."""
    usage = ai.Usage()
    if run.source == "ai":
        try:
            return _ask_model(plan, on_stage, usage), usage, "", ""
        except ai.Unavailable as error:
            notice, problem = "ai_busy", str(error)
        except Rejected as error:
            notice, problem = "ai_unusable", str(error)
    else:
        notice, problem = "", ""
    on_stage("checking")
    with force_locale(plan.language):
        picks = recommendation_scorer.recommend(plan.candidates, plan.answers, plan.liked, plan.disliked)
    return picks, usage, notice, problem


def _ask_model(plan: Plan, on_stage: Callable[[str], None], usage: ai.Usage) -> list:
    """Ask, check, and on an unusable answer ask once more with what was wrong."""
    deadline = time.monotonic() + current_app.config["AI_BUDGET_S"]
    messages = recommendation_prompt.messages(plan.answers, plan.candidates, plan.liked, plan.disliked, plan.language)
    fmt = recommendation_prompt.RESPONSE_FORMAT
    on_stage("asking")
    content = ai.ask(messages, fmt, deadline, usage)
    on_stage("checking")
    try:
        picks = check(content, plan.candidates)
    except Rejected as error:
        on_stage("asking")
        content = ai.ask(recommendation_prompt.repair(messages, content or "", str(error)), fmt, deadline, usage)
        on_stage("checking")
        picks = check(content, plan.candidates)
    return [(pick.candidate, pick.comment) for pick in picks]


def finish(run: AiRun, picks: list, usage: ai.Usage, notice: str, error: str) -> None:
    """Store the picks and close the run."""
    for rank, (candidate, comment) in enumerate(picks, start=1):
        db.session.add(
            Recommendation(run_id=run.id, user_id=run.user_id, book_id=candidate.book_id, rank=rank, comment=comment)
        )
    run.attempts, run.tokens_in, run.tokens_out, run.model_ms = (
        usage.attempts,
        usage.tokens_in,
        usage.tokens_out,
        usage.model_ms,
    )
    if notice:  # the model did not choose after all
        run.source = "offline"
    run.status, run.notice, run.error, run.finished_at = "ok", notice, error[:2000], utcnow()
    advance(run, "done")


def fail(run_id: int, notice: str, error: str) -> None:
    """Close a run that ended without picks (after the caller rolled back its half-done work)."""
    run = db.session.get(AiRun, run_id)
    if run is None or run.finished:
        return
    run.status, run.notice, run.error, run.finished_at = "failed", notice, error[:2000], utcnow()
    advance(run, "done")


def _publish(run: AiRun) -> None:
    data = {"run_id": run.id, "stage": run.stage, "status": run.status, "source": run.source, "notice": run.notice}
    publish_on_commit(user_topic(run.user_id), RECOMMENDATION_PROGRESS, data)


def latest(user_id: int) -> AiRun | None:
    query = select(AiRun).where(AiRun.kind == KIND, AiRun.user_id == user_id)
    return db.session.scalar(query.order_by(AiRun.id.desc()).limit(1))


def latest_ok(user_id: int) -> AiRun | None:
    query = select(AiRun).where(AiRun.kind == KIND, AiRun.user_id == user_id, AiRun.status == "ok")
    return db.session.scalar(query.order_by(AiRun.id.desc()).limit(1))


def run_of(user_id: int, run_id: int) -> AiRun | None:
    """The reader's own run; someone else's looks like none."""
    run = db.session.get(AiRun, run_id)
    return run if run is not None and run.kind == KIND and run.user_id == user_id else None


def picks_of(run: AiRun) -> list[Recommendation]:
    query = select(Recommendation).where(Recommendation.run_id == run.id).order_by(Recommendation.rank)
    return list(db.session.scalars(query.options(selectinload(Recommendation.book))))


def meetings_about(picks: list[Recommendation], per_book: int = 2) -> dict[int, list]:
    """Upcoming meetings about each picked book, soonest first."""
    found: dict[int, list] = {}
    for meeting in meetings.upcoming(book_ids=[pick.book_id for pick in picks], limit=per_book * max(len(picks), 1)):
        if len(found.setdefault(meeting.book_id, [])) < per_book:
            found[meeting.book_id].append(meeting)
    return found


def set_feedback(user_id: int, recommendation_id: int, feedback: str) -> Recommendation | None:
    """Mark a pick (the same mark again takes it back); None for someone else's."""
    pick = db.session.get(Recommendation, recommendation_id)
    if pick is None or pick.user_id != user_id:
        return None
    pick.feedback = None if pick.feedback == feedback else feedback
    db.session.flush()
    return pick


def warm_up() -> None:
    """Compile and run the queries of a run once, reading nothing in particular, and build the
    model client (jobs/recommendation.warm_up)."""
    candidates(0, [], [])
    _marked(0, "more")
    taste.profile_of(0)
    latest(0)
    if ai.configured():
        ai.client()
