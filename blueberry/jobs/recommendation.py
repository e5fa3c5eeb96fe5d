"""Recommendation runs on the `ai` queue (its own worker: a reader waiting for picks never waits
behind ingestion or reminders). Each stage is committed and published before the next begins,
and the model is asked with no transaction open."""

import logging

from blueberry.extensions import db
from blueberry.services import recommendation
from blueberry.services.recommendation import Refused

log = logging.getLogger(__name__)


def recommend(run_id: int) -> None:
    """Run recommendation `run_id` to its end: picks stored, or a failure the reader is told of.
    RQ may deliver it twice; a run that is over already is left alone."""
    run = recommendation.begin(run_id)
    db.session.commit()
    if run is None:
        return
    try:
        plan = recommendation.plan(run)
        db.session.commit()  # nothing held while the model thinks

        def on_stage(stage: str) -> None:
            recommendation.advance(run, stage)
            db.session.commit()

        picks, usage, notice, error = recommendation.choose(run, plan, on_stage)
        recommendation.finish(run, picks, usage, notice, error)
        db.session.commit()
    except Refused as refused:
        _fail(run_id, str(refused.args[0]), "too few books left to choose from")
    except Exception as error:
        log.exception("recommendation run %s failed", run_id)
        _fail(run_id, "failed", repr(error))


def _fail(run_id: int, notice: str, error: str) -> None:
    db.session.rollback()
    recommendation.fail(run_id, notice, error)
    db.session.commit()


def warm_up() -> None:
    """Run once by each `ai` worker before its first job: the first run in a fresh process would
    otherwise pay for the database connection, compiling the candidates' queries and building the
    model client (about 0.9 s measured with 16 workers starting at once, against 20 ms warm)."""
    try:
        recommendation.warm_up()
        db.session.rollback()
    finally:
        db.session.remove()
