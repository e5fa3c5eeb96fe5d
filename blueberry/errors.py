"""Error responses: a full page, or for htmx a toast swapped into the page's toast area."""

from flask import Flask, abort, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from blueberry.extensions import db
from blueberry.htmx import is_htmx
from blueberry.inputs import has_nul


def _messages() -> dict[int, str]:
    return {
        400: _("That request could not be understood."),
        403: _("You do not have access to that."),
        404: _("That page does not exist."),
        405: _("That action is not allowed here."),
        413: _("That upload is too large."),
        429: _("Too many attempts. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Please try again."),
    }


def render_error(code: int, message: str | None = None):
    """The error page, or for htmx a toast (retargeted, whatever the element asked to swap)."""
    message = message or _messages().get(code, _messages()[500])
    if is_htmx():
        headers = {"HX-Retarget": "#toasts", "HX-Reswap": "beforeend", "HX-Reselect": ".toast"}
        return render_template("errors/_toast.html", message=message, code=code), code, headers
    return render_template("errors/error.html", message=message, code=code), code


def retry_after_header(error: HTTPException) -> dict:
    """The Retry-After of a 429 raised with one (werkzeug's TooManyRequests)."""
    seconds = getattr(error, "retry_after", None)
    return {"Retry-After": str(seconds)} if seconds else {}


def handle_http_error(error: HTTPException):
    body, code, *headers = render_error(error.code or 500)
    return body, code, {**(headers[0] if headers else {}), **retry_after_header(error)}


def handle_csrf_error(error: CSRFError):
    return render_error(400, _("Your form expired or came from another site. Reload the page and try again."))


def handle_server_error(error: Exception):
    db.session.rollback()
    return render_error(500)


def refuse_nul_bytes():
    """No query or form value, field name or file name may hold a NUL (the rule of `inputs`)."""
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    file_names = [upload.filename or "" for _, upload in request.files.items(multi=True)]
    if has_nul([text for field in fields for text in field]) or has_nul(file_names):
        abort(400)


def register_error_handlers(app: Flask) -> None:
    app.before_request(refuse_nul_bytes)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(500, handle_server_error)
