"""The home page: for a signed-in reader, also their latest book recommendations and the
meetings about those books."""

from flask import Blueprint, render_template
from flask_login import current_user

from blueberry.services import recommendation

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    run = recommendation.latest_ok(current_user.id) if current_user.is_authenticated else None
    picks = recommendation.picks_of(run) if run is not None else []
    return render_template(
        "main/home.html", picks=picks, meetings=recommendation.meetings_about(picks) if picks else {}
    )
