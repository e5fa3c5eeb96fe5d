"""Form rendering shared by every blueprint: errors answer 422, htmx gets the fragment."""

from flask_wtf import FlaskForm

from blueberry.htmx import render_page_or_fragment
from blueberry.services.errors import FieldError


def apply_field_error(form: FlaskForm, error: FieldError) -> None:
    """Show a service's FieldError under the form field it names."""
    field = getattr(form, error.field, None)
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]


def render_form(page: str, fragment: str, form: FlaskForm, **context):
    """The page (or its form fragment for htmx), 422 when the form has errors."""
    status = 422 if form.errors else 200
    return render_page_or_fragment(page, fragment, form=form, **context), status


def hide_untouched_errors(form: FlaskForm) -> None:
    """While validating inline, say nothing yet about fields the user has left empty."""
    for field in form:
        if not any(field.raw_data or []) and field.type != "CSRFTokenField":
            field.errors = []
