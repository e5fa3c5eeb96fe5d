"""The profile card in settings: bio, interests, whether offers show my photo; the photo itself."""

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueberry.blueprints.profiles import photo_dir
from blueberry.blueprints.settings import bp, saved
from blueberry.blueprints.settings.forms import CardForm, ProfileForm
from blueberry.bodylimit import body_limit
from blueberry.errors import render_error
from blueberry.extensions import db
from blueberry.forms import apply_field_error
from blueberry.htmx import render_page_or_fragment
from blueberry.offload import offload
from blueberry.services import profile
from blueberry.services.errors import FieldError

# Room in a photo upload's body for its multipart headers and the CSRF token.
PHOTO_ENVELOPE = 8 * 1024


def _render(form: CardForm, status: int):
    """The card form with its errors (the whole profile page for a plain form post)."""
    page = render_page_or_fragment(
        "settings/profile.html", "settings/_card_form.html", form=ProfileForm(obj=current_user), card_form=form
    )
    return page, status


@bp.post("/card")
@login_required
def card():
    form = CardForm()
    if not form.validate_on_submit():
        return _render(form, 422)
    try:
        profile.update_card(current_user, form.bio.data, form.interests.data, form.show_photo_on_offers.data)
    except FieldError as error:
        db.session.rollback()
        apply_field_error(form, error)
        return _render(form, 422)
    db.session.commit()
    return saved(_("Profile saved."), "settings.profile")


@bp.post("/photo")
@body_limit("UPLOAD_MAX_BYTES", PHOTO_ENVELOPE)
@login_required
def photo():
    """A new photo: checked and re-encoded off the request's greenlet, then the card uses it."""
    received = request.files.get("photo")
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    data = received.read(limit + 1) if received else b""
    if not data:
        return render_error(400, _("Choose a photo to upload."))
    if len(data) > limit:
        return render_error(413)
    directory = photo_dir()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        name = offload(profile.store_photo, data, directory)
    except FieldError as error:
        return render_error(422, str(error.message))
    profile.set_photo(current_user, name, directory)
    db.session.commit()
    return saved(_("Photo saved."), "settings.profile")


@bp.post("/photo/delete")
@login_required
def delete_photo():
    profile.remove_photo(current_user, photo_dir())
    db.session.commit()
    return saved(_("Photo removed."), "settings.profile")
