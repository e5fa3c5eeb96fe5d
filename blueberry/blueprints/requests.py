"""Message requests waiting for me: read them, then accept, decline, block or report the sender.

Someone else's request, or one already answered, answers 404 like one that does not exist."""

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueberry.extensions import db
from blueberry.forms import ReportForm
from blueberry.htmx import go, notice
from blueberry.models import MessageRequest
from blueberry.services import message_requests

bp = Blueprint("requests", __name__, url_prefix="/conversations/requests")


def _pending_or_404(request_id: int) -> MessageRequest:
    found = message_requests.pending_to(current_user.id, request_id)
    if found is None:
        abort(404)
    return found


@bp.get("")
@login_required
def index():
    return render_template("requests/index.html", requests=message_requests.incoming(current_user.id))


@bp.post("/<int:request_id>/accept")
@login_required
def accept(request_id: int):
    conversation = message_requests.accept(_pending_or_404(request_id))
    db.session.commit()
    return go(url_for("chat.conversation", conversation_id=conversation.id))


@bp.post("/<int:request_id>/decline")
@login_required
def decline(request_id: int):
    message_requests.decline(_pending_or_404(request_id))
    db.session.commit()
    return notice(_("Declined. They will not be told."), "requests.index")


@bp.post("/<int:request_id>/block")
@login_required
def block(request_id: int):
    message_requests.block_sender(_pending_or_404(request_id))
    db.session.commit()
    return notice(_("Blocked. You will not see each other again."), "requests.index")


@bp.post("/<int:request_id>/report")
@login_required
def report(request_id: int):
    found = _pending_or_404(request_id)
    form = ReportForm()
    if not form.validate_on_submit():
        return render_template("safety/_report_form.html", form=form, action=request.path), 422
    message_requests.report_sender(found, form.reason.data, form.text.data or "")
    db.session.commit()
    return notice(_("Thank you. Our team will look at your report."), "requests.index")
