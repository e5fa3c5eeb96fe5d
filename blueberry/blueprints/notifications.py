"""The notification inbox: list, mark one read, mark all read."""

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from blueberry.extensions import db
from blueberry.htmx import go, is_htmx, render_page_or_fragment
from blueberry.inputs import int_arg
from blueberry.services import notifications

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("")
@login_required
def inbox():
    before = int_arg("before")
    items = notifications.list_notifications(current_user.id, before)
    more = len(items) == notifications.PAGE_SIZE
    return render_page_or_fragment(
        "notifications/inbox.html", "notifications/_items.html", items=items, more=more, paged=bool(before)
    )


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    note = notifications.mark_read(current_user.id, notification_id)
    if note is None:
        abort(404)  # someone else's notification looks like no notification
    db.session.commit()
    if is_htmx():
        return render_template("notifications/_item.html", item=note)
    return redirect(url_for("notifications.inbox"), 303)


@bp.post("/read-all")
@login_required
def read_all():
    notifications.mark_all_read(current_user.id)
    db.session.commit()
    return go(url_for("notifications.inbox"))
