"""Random matching: the `/match` page, its websocket, and block/report from an offer."""

import secrets

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueberry.blueprints.match.socket import MatchConnection
from blueberry.errors import render_error
from blueberry.extensions import db, sock
from blueberry.forms import ReportForm
from blueberry.htmx import notice
from blueberry.login import SESSION_TOKEN
from blueberry.realtime.events import (
    ERROR,
    MATCH_CONNECTED,
    MATCH_ENDED,
    MATCH_IDLE,
    MATCH_OFFER,
    MATCH_PARTNER_ACCEPTED,
    MATCH_REPLACED,
    MATCH_SEARCHING,
    session_topic,
)
from blueberry.realtime.ws import LiveSocket, check_handshake, guarded
from blueberry.services import profile, safety
from blueberry.services.matching import Seeker, get_engine
from blueberry.services.sessions import token_hash

bp = Blueprint("match", __name__)
bp.before_request(check_handshake)

FRAGMENTS = {
    MATCH_IDLE: "match/_idle.html",
    MATCH_SEARCHING: "match/_searching.html",
    MATCH_OFFER: "match/_offer.html",
    MATCH_PARTNER_ACCEPTED: "match/_partner_accepted.html",
    MATCH_CONNECTED: "match/_connected.html",
    MATCH_ENDED: "match/_ended.html",
    MATCH_REPLACED: "match/_replaced.html",
    ERROR: "match/_error.html",
}


def render_html(event: dict) -> str | None:
    template = FRAGMENTS.get(event["type"])
    return render_template(template, event=event, data=event["data"], oob=True) if template else None


def seeker_for(user) -> Seeker | None:
    """The user as pairing sees them; None until their profile has what matching needs."""
    setting = user.match_setting
    if not (user.age and user.gender and setting):
        return None
    return Seeker(
        user.id, user.display_name, user.age, user.gender,
        setting.age_min, setting.age_max, setting.preferred_gender, setting.radius_km, profile.offer_card(user),
    )  # fmt: skip


@bp.get("/match")
@login_required
def index():
    if seeker_for(current_user) is None:
        flash(_("Add your age and gender first: matching needs them."), "warning")
        return redirect(url_for("settings.profile"))
    setting = current_user.match_setting
    wish = {"male": _("men"), "female": _("women")}.get(setting.preferred_gender, _("anyone"))
    return render_template("match/index.html", setting=setting, gender_wish=wish)


@sock.route("/ws/match", bp=bp)
@guarded
def match_socket(ws):
    """The match flow for one window; a newer window of the same user replaces it."""
    live, user_id = LiveSocket(ws, render_html), current_user.id
    ending = session_topic(token_hash(session.get(SESSION_TOKEN, "")))
    connection = MatchConnection(
        live, ending, engine=get_engine(), seeker=seeker_for(current_user), user_id=user_id, token=secrets.token_hex(8)
    )
    connection.serve()


def _offer_partner(match_id: str) -> int | None:
    """The other person of the signed-in user's current offer `match_id`, if it is theirs."""
    offer = get_engine().offer_of(current_user.id)
    if not offer or offer["match_id"] != match_id:
        return None
    return int(offer["user2"] if int(offer["user1"]) == current_user.id else offer["user1"])


@bp.post("/match/offers/<match_id>/block")
@login_required
def block_from_offer(match_id: str):
    """Block the person offered: the offer ends for both and they never meet again."""
    partner = _offer_partner(match_id)
    if partner is None:
        return render_error(404, _("That offer has ended."))
    safety.block(current_user.id, partner)
    db.session.commit()
    engine = get_engine()
    engine.avoid(current_user.id, partner)
    engine.leave(current_user.id)
    return notice(_("Blocked. You will not see each other again."), "match.index")


@bp.post("/match/offers/<match_id>/report")
@login_required
def report_from_offer(match_id: str):
    partner = _offer_partner(match_id)
    if partner is None:
        return render_error(404, _("That offer has ended."))
    form = ReportForm()
    if not form.validate_on_submit():
        return render_template("safety/_report_form.html", form=form, action=request.path), 422
    safety.report(current_user.id, partner, form.reason.data, text=form.text.data, context="offer")
    db.session.commit()
    return notice(_("Thank you. Our team will look at your report."), "match.index")
