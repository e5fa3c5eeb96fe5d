"""Reading taste: the quiz answers recommendations come from, each one editable in the quiz;
the agreement to send them to the AI service, which can be taken back; clearing them; and
whether news cards show AI summaries."""

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueberry.blueprints.settings import bp, saved
from blueberry.extensions import db
from blueberry.services import ai, taste


@bp.get("/taste")
@login_required
def taste_profile():
    profile = taste.profile_of(current_user.id)
    return render_template(
        "settings/taste.html", profile=profile, answers=taste.describe(profile), ai_configured=ai.configured()
    )


@bp.post("/taste/consent/withdraw")
@login_required
def withdraw_consent():
    taste.withdraw_ai_consent(current_user.id)
    db.session.commit()
    return saved(_("Your answers will no longer be sent to the AI service."), "settings.taste_profile")


@bp.post("/taste/news")
@login_required
def news_summaries():
    """News cards show the model's summaries, or each story's own first lines."""
    current_user.news_ai_summaries = request.form.get("ai_summaries") == "1"
    db.session.commit()
    return saved(_("Saved."), "settings.taste_profile")


@bp.post("/taste/clear")
@login_required
def clear_taste():
    taste.clear(current_user.id)
    db.session.commit()
    return saved(_("Your quiz answers were cleared."), "settings.taste_profile")
