"""Profile cards (`/u/<username>`) and their photos, behind an authorization check each time.

Anyone who may not see a card gets 404, the same answer as a name nobody has."""

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from blueberry.extensions import db
from blueberry.forms import ReportForm
from blueberry.htmx import go
from blueberry.models import User
from blueberry.services import profile, safety
from blueberry.services.accounts import canonical_username
from blueberry.services.conversation import direct_between
from blueberry.services.matching import get_engine

bp = Blueprint("profiles", __name__, url_prefix="/u")


def photo_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "photos"


def _user_named(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == canonical_username(username)))


def _card_or_404(username: str) -> User:
    owner = _user_named(username)
    if owner is None or not owner.is_active or not profile.may_see_card(current_user.id, owner):
        abort(404)
    return owner


@bp.get("/<username>")
@login_required
def card(username: str):
    owner = _card_or_404(username)
    mine = owner.id == current_user.id
    conversation = None if mine else direct_between(current_user.id, owner.id)
    return render_template("profiles/card.html", owner=owner, mine=mine, conversation=conversation)


@bp.get("/<username>/photo")
@login_required
def photo(username: str):
    """The photo (`?size=thumb` for the small square), to whoever may see it right now."""
    owner = _user_named(username)
    if owner is None or not profile.may_see_photo(current_user.id, owner, _offer_partner_of(owner.id)):
        abort(404)
    name = profile.photo_file(owner, thumb=request.args.get("size") == "thumb")
    response = send_from_directory(photo_dir(), name, mimetype="image/webp", max_age=300)
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _offer_partner_of(user_id: int) -> int | None:
    offer = get_engine().offer_of(user_id)
    if not offer:
        return None
    return int(offer["user2"] if int(offer["user1"]) == user_id else offer["user1"])


@bp.post("/<username>/block")
@login_required
def block(username: str):
    owner = _card_or_404(username)
    if owner.id == current_user.id:
        abort(404)
    safety.block(current_user.id, owner.id)
    db.session.commit()
    flash(_("Blocked. You will not see each other again."), "success")
    return go(url_for("chat.index"))


@bp.post("/<username>/report")
@login_required
def report(username: str):
    owner = _card_or_404(username)
    form = ReportForm()
    if owner.id == current_user.id:
        abort(404)
    if not form.validate_on_submit():
        return render_template("safety/_report_form.html", form=form, action=request.path), 422
    safety.report(current_user.id, owner.id, form.reason.data, text=form.text.data or "", context="profile")
    db.session.commit()
    return render_template("safety/_done.html", message=_("Thank you. Our team will look at your report."))
