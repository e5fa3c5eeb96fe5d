"""Book-club meetings: `/meetings` (upcoming, by category, mine), opening one, a meeting's page,
and joining, leaving and cancelling. Outsiders see a meeting's page (it is how people find and
join one); what happens inside is for its participants."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueberry.blueprints.meeting.forms import MeetingForm
from blueberry.errors import render_error
from blueberry.extensions import db
from blueberry.forms import apply_field_error
from blueberry.htmx import add_vary_hx_request, go, is_htmx
from blueberry.inputs import text_int
from blueberry.models import Meeting
from blueberry.services import book as catalog
from blueberry.services import calendar, meeting_chat, meeting_lifecycle, meeting_waitlist
from blueberry.services import meeting as meetings
from blueberry.services.book_search import search
from blueberry.services.errors import FieldError

bp = Blueprint("meeting", __name__)
bp.after_request(add_vary_hx_request)


def _meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    return meeting


@bp.get("/meetings")
@login_required
def index():
    category = request.args.get("category", "")[:100] or None
    return render_template(
        "meeting/index.html", upcoming=meetings.upcoming(category=category), mine=meetings.mine(current_user.id),
        categories=meetings.categories(), category=category,
    )  # fmt: skip


@bp.route("/meetings/new", methods=["GET", "POST"])
@login_required
def new():
    form = MeetingForm(data={"book": request.args.get("book", "")} if request.method == "GET" else None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            meeting = meetings.create(current_user, _meeting_data(form, _chosen_book(form)))
        except FieldError as error:
            db.session.rollback()
            apply_field_error(form, error)
        else:
            db.session.commit()
            return go(url_for("meeting.detail", meeting_id=meeting.id))
    status = 422 if form.errors else 200
    return render_template("meeting/new.html", form=form, **_book_choice(form)), status


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    if meeting.leader_id != current_user.id:
        abort(404)
    form = MeetingForm(data=_form_values(meeting) if request.method == "GET" else None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            meetings.update(meeting, current_user, _meeting_data(form, _chosen_book(form)))
        except FieldError as error:
            db.session.rollback()
            apply_field_error(form, error)
        else:
            db.session.commit()
            return _back(meeting, _("Saved. Everyone in the meeting was told."))
    status = 422 if form.errors else 200
    return render_template("meeting/new.html", form=form, meeting=meeting, **_book_choice(form)), status


def _form_values(meeting: Meeting) -> dict:
    """The meeting as its form shows it: the day and time in the leader's zone."""
    starts = meeting.starts_at.astimezone(ZoneInfo(current_user.timezone))
    return {
        "book": meeting.book.isbn13, "title": meeting.title, "description": meeting.description,
        "day": starts.date(), "start": starts.time(), "capacity": meeting.capacity, "online": meeting.online,
        "place": meeting.place, "duration": int((meeting.ends_at - meeting.starts_at).total_seconds() // 60),
    }  # fmt: skip


@bp.get("/meetings/new/books")
@login_required
def book_options():
    """The books matching what the leader typed, as choices for the form (htmx)."""
    return render_template("meeting/_book_options.html", **_book_choice(MeetingForm(formdata=None)))


def _book_choice(form: MeetingForm) -> dict:
    query = request.args.get("q", "")[:100]
    chosen = catalog.get(form.book.data or "") if form.book.data else None
    options = search(query, limit=8)[:8] if query.strip() else []
    return {"chosen": chosen, "options": options, "query": query}


def _chosen_book(form: MeetingForm):
    book = catalog.get(form.book.data or "")
    if book is None:
        raise FieldError("book", _("Choose a book from the catalog."))
    return book


def _meeting_data(form: MeetingForm, book) -> meetings.MeetingForm:
    """The form in UTC: the day and time are the leader's own zone's."""
    zone = ZoneInfo(current_user.timezone)
    starts_at = datetime.combine(form.day.data, form.start.data, tzinfo=zone)
    return meetings.MeetingForm(
        book=book, title=form.title.data, description=form.description.data or "", starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=form.duration.data), capacity=form.capacity.data,
        online=form.online.data, place=form.place.data or "",
    )  # fmt: skip


@bp.get("/meetings/<int:meeting_id>")
@login_required
def detail(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    mine = meetings.participant(meeting.id, current_user.id)
    return render_template(
        "meeting/detail.html", meeting=meeting, mine=mine, offer=meeting_waitlist.holds_offer(mine),
        phase=meeting_lifecycle.phase(meeting), lobby_at=meeting.starts_at - meeting_lifecycle.LOBBY_OPENS,
        going=meetings.participants(meeting.id, "going"), waiting=meetings.participants(meeting.id, "waitlisted"),
    )  # fmt: skip


@bp.get("/meetings/<int:meeting_id>.ics")
@login_required
def ics(meeting_id: int):
    """The meeting for a calendar app (with its own alarm 10 minutes ahead)."""
    meeting = _meeting_or_404(meeting_id)
    page = url_for("meeting.detail", meeting_id=meeting.id, _external=True)
    body = calendar.document([calendar.event_lines(meeting, page)], meeting.title)
    return _calendar_response(body, f"meeting-{meeting.id}.ics")


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    """Someone's meetings, for a calendar app to subscribe to: the secret link is the key (no
    login: calendar apps have none). A revoked or unknown link is 404."""
    owner = calendar.owner_of(token)
    if owner is None:
        abort(404)
    events = [calendar.event_lines(m, url_for("meeting.detail", meeting_id=m.id, _external=True))
              for m in calendar.feed_meetings(owner.id)]  # fmt: skip
    response = _calendar_response(calendar.document(events, _("Blueberry book clubs")), "blueberry.ics")
    response.headers["Cache-Control"] = "private, max-age=900"
    return response


def _calendar_response(body: str, filename: str):
    response = current_app.response_class(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/meetings/<int:meeting_id>/join")
@login_required
def join(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    try:
        state = meetings.join(meeting, current_user)
    except FieldError as error:
        db.session.rollback()
        return _refused(meeting, str(error.message))
    db.session.commit()
    done = _("You are going.") if state == "going" else _("It is full: you are on the waitlist.")
    return _back(meeting, done)


@bp.post("/meetings/<int:meeting_id>/leave")
@login_required
def leave(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    try:
        meetings.leave(meeting, current_user)
    except FieldError as error:
        db.session.rollback()
        return _refused(meeting, str(error.message))
    db.session.commit()
    return _back(meeting, _("You left the meeting."))


@bp.post("/meetings/<int:meeting_id>/offer/<answer>")
@login_required
def answer_offer(meeting_id: int, answer: str):
    """Take, or let go, a place offered from the waitlist."""
    meeting = _meeting_or_404(meeting_id)
    mine = meetings.participant(meeting.id, current_user.id)
    if answer not in ("accept", "decline") or mine is None:
        abort(404)
    try:
        if answer == "accept":
            meeting_waitlist.accept(meeting, mine)
        else:
            meeting_waitlist.decline(meeting, mine)
    except FieldError as error:
        db.session.rollback()
        return _refused(meeting, str(error.message))
    db.session.commit()
    return _back(meeting, _("You are going.") if answer == "accept" else _("The place goes to the next person."))


@bp.post("/meetings/<int:meeting_id>/participants/<int:user_id>/<action>")
@login_required
def manage(meeting_id: int, user_id: int, action: str):
    """The leader's powers over a participant: remove them, or hand them the lead."""
    meeting = _meeting_or_404(meeting_id)
    if meeting.leader_id != current_user.id or action not in ("remove", "lead"):
        abort(404)
    try:
        if action == "remove":
            meetings.remove(meeting, current_user, user_id)
        else:
            meetings.hand_over(meeting, current_user, user_id)
    except FieldError as error:
        db.session.rollback()
        return _refused(meeting, str(error.message))
    db.session.commit()
    return _back(meeting, _("Removed.") if action == "remove" else _("They lead the meeting now."))


@bp.post("/meetings/<int:meeting_id>/pin")
@login_required
def pin(meeting_id: int):
    """The leader pins a message of the room (`seq`), or unpins (no `seq`)."""
    meeting = _meeting_or_404(meeting_id)
    if meeting.leader_id != current_user.id:
        abort(404)
    try:
        meeting_chat.pin(meeting, current_user, text_int(request.form.get("seq", "")))
    except FieldError as error:
        db.session.rollback()
        return render_error(422, str(error.message))
    db.session.commit()
    if is_htmx():
        return "", 204  # the room hears it over its socket
    return redirect(url_for("chat.conversation", conversation_id=meeting.conversation_id), 303)


@bp.post("/meetings/<int:meeting_id>/cancel")
@login_required
def cancel(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    if meeting.leader_id != current_user.id:
        abort(404)  # not theirs to cancel: no different from a meeting that is not there
    meetings.cancel(meeting, current_user)
    db.session.commit()
    return _back(meeting, _("The meeting is cancelled. Everyone was told."))


def _back(meeting: Meeting, message: str):
    """Back to the meeting's page, which shows the new state, with a word on what happened."""
    flash(message, "success")
    return go(url_for("meeting.detail", meeting_id=meeting.id))


def _refused(meeting: Meeting, message: str):
    """Why not: a toast for htmx, else the meeting's page with the reason."""
    if is_htmx():
        return render_error(409, message)
    flash(message, "error")
    return redirect(url_for("meeting.detail", meeting_id=meeting.id), 303)
