"""The partner's sell-out pages: its uploads, an upload with its preview, commit, discard and undo.

Every action goes through what the API calls (``preview_upload``, ``lock_upload``, ``commit_upload``,
``undo_upload``, ``upload_out``), so a page refuses what the API refuses, in the same words. A person sees
the uploads its company's keys would: its company's, and a distributor's also its resellers'; any other
upload is answered 404, as the API answers.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from channel.sellout import conflict_pages
from channel.sellout.access import visible_uploads
from channel.sellout.api import upload_out
from channel.sellout.booking import BookingRefused, UploadStale, commit_upload, lock_upload, undo_upload
from channel.sellout.models import SelloutUpload
from channel.sellout.page_forms import UndoForm, UploadForm
from channel.sellout.page_queries import accepted_summary, points_by_upload, uploader_names
from channel.sellout.preview import MAX_UPLOAD_BYTES, ImportFileError, UploadRefused, preview_upload
from channel.sellout.rows import template_csv
from core.api.errors import ApiError, commit_or_conflict
from core.api.limits import INT_COLUMN_MAX
from core.db import db
from core.people.access import current_person, require_person
from core.people.navigation import add_portal_page
from tracker.program.models import Partner
from tracker.program.portal import person_actor, signed_in

bp = Blueprint("sellout_pages", __name__)
PATH = "/portal/sellout"
PAGE_SIZE = 50
UPLOAD_ENDPOINT = "sellout_pages.upload_file"
# The form's token and the multipart framing need a little room besides the file the preview allows.
UPLOAD_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024
TEMPLATE_NAME = "sellout-template.csv"
STATE_NAMES = {
    "previewed": _l("preview"),
    "committed": _l("committed"),
    "undone": _l("undone"),
    "discarded": _l("discarded"),
}
DONE_NOTICES = {
    "committed": _l("The upload is committed: its lines are booked and their points accrued."),
    "undone": _l("The upload is undone: its lines no longer count and their points were taken back."),
    "discarded": _l("The preview is discarded; nothing was booked."),
}


def _partner_id() -> int:
    partner_id = signed_in().partner_id
    if partner_id is None:  # require_person("partner") lets only a partner in
        abort(403)
    return partner_id


def _own_upload(upload_id: int, lock: bool = False) -> SelloutUpload:
    """The upload if the person's company may see it (locked for a change, as the API locks it), else 404."""
    if upload_id > INT_COLUMN_MAX:
        abort(404)
    visible = db.session.scalar(visible_uploads(_partner_id()).where(SelloutUpload.id == upload_id))
    upload = lock_upload(upload_id) if visible is not None and lock else visible
    if upload is None:
        abort(404)
    return upload


def _page_number() -> int:
    # Bounded as the API bounds its offset: a page number from a hand-edited URL must not overflow the query.
    return min(max(request.args.get("page", 1, type=int) or 1, 1), INT_COLUMN_MAX // PAGE_SIZE)


def _render_list(form: UploadForm, status: int = 200) -> tuple[str, int]:
    partner_id = _partner_id()
    page = _page_number()
    statement = visible_uploads(partner_id).order_by(SelloutUpload.id.desc())
    uploads = list(db.session.scalars(statement.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)))
    body = render_template(
        "partner/sellout.html",
        uploads=uploads[:PAGE_SIZE],
        has_next=len(uploads) > PAGE_SIZE,
        page=page,
        points=points_by_upload([upload.id for upload in uploads]),
        uploaders=uploader_names(partner_id),
        state_names=STATE_NAMES,
        form=form,
    )
    return body, status


@bp.get(PATH)
@require_person("partner")
def uploads() -> tuple[str, int]:
    return _render_list(UploadForm(formdata=None))


@bp.get(f"{PATH}/{TEMPLATE_NAME}")
@require_person("partner")
def template() -> Response:
    """The file's header and an example row: what GET /api/v1/sellout/template.csv answers."""
    headers = {"Content-Disposition": f'attachment; filename="{TEMPLATE_NAME}"'}
    return Response(template_csv(), mimetype="text/csv; charset=utf-8", headers=headers)


@bp.url_value_preprocessor
def allow_file_sized_bodies(endpoint: str | None, values: dict | None) -> None:
    # Runs before the app's before_request hooks, so before the CSRF check first reads the body: only the
    # upload may be larger than the site's body limit (MAX_BODY_BYTES), and only by the file it allows.
    if endpoint == UPLOAD_ENDPOINT:
        request.max_content_length = max(current_app.config.get("MAX_CONTENT_LENGTH") or 0, UPLOAD_BODY_BYTES)


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error: RequestEntityTooLarge) -> RequestEntityTooLarge | tuple[str, int]:
    # Raised while the CSRF check reads the body, before require_person: only a partner gets the page.
    person = current_person()
    if request.endpoint != UPLOAD_ENDPOINT or person is None or person.role != "partner":
        return error
    form = UploadForm(formdata=None)
    form.file.errors = [_l("The file is larger than %(mib)s MiB; nothing was uploaded.", mib=MAX_UPLOAD_BYTES // 2**20)]
    return _render_list(form, 413)


def _previewed(form: UploadForm) -> SelloutUpload | int:
    """The staged preview, or the status of its refusal (the reason put on the file field)."""
    chosen = form.file.data
    uploader = db.session.get(Partner, _partner_id())
    try:
        upload = preview_upload(chosen.read(), chosen.filename or "upload", uploader, person_actor())
        # The unique index on a previewed or booked file's SHA-256 decides when the same file comes twice at once.
        commit_or_conflict("the same file is being uploaded by another request at this moment")
    except ImportFileError as error:
        db.session.rollback()
        form.file.errors = [_l("Nothing was uploaded: %(reason)s.", reason=str(error))]
        return 422
    except (UploadRefused, ApiError) as error:
        db.session.rollback()
        reason = error.message if isinstance(error, ApiError) else str(error)
        form.file.errors = [_l("Nothing was uploaded: %(reason)s.", reason=reason)]
        return 409
    return upload


@bp.post(f"{PATH}/upload")
@require_person("partner")
def upload_file() -> Response | tuple[str, int]:
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_list(form, 400)
    previewed = _previewed(form)
    if isinstance(previewed, int):
        return _render_list(form, previewed)
    return redirect(f"{PATH}/{previewed.id}", 303)


def _render_upload(
    upload: SelloutUpload, status: int = 200, refusal: str | None = None, undo: UndoForm | None = None
) -> tuple[str, int]:
    out = upload_out(upload)
    body = render_template(
        "partner/sellout_upload.html",
        upload=out,
        uploader=db.session.get(Partner, upload.uploader_partner_id) if upload.uploader_partner_id else None,
        invalid=[row for row in out.rejected if row.kind == "invalid"],
        duplicates=[row for row in out.rejected if row.kind == "duplicate"],
        accepted=accepted_summary(upload.id),
        state_names=STATE_NAMES,
        done=DONE_NOTICES.get(request.args.get("done", "")) if refusal is None else None,
        refusal=refusal,
        undo=undo or UndoForm(formdata=None),
    )
    return body, status


@bp.get(f"{PATH}/<int:upload_id>")
@require_person("partner")
def upload_page(upload_id: int) -> tuple[str, int]:
    return _render_upload(_own_upload(upload_id))


@bp.get(f"{PATH}/<any(upload):form>")
@bp.get(f"{PATH}/<int:upload_id>/<any(commit, undo):form>")
@require_person("partner")
def back_to_the_page(form: str, upload_id: int | None = None) -> Response:
    # A form's answer is shown at the address it was posted to; the language switch comes back there by GET.
    return redirect(PATH if upload_id is None else f"{PATH}/{upload_id}", 303)


@bp.post(f"{PATH}/<int:upload_id>/commit")
@require_person("partner")
def commit(upload_id: int) -> Response | tuple[str, int]:
    upload = _own_upload(upload_id, lock=True)
    try:
        commit_upload(upload, person_actor())
    except (BookingRefused, UploadStale) as error:
        db.session.rollback()
        return _render_upload(_own_upload(upload_id), 409, str(error))
    db.session.commit()
    return redirect(f"{PATH}/{upload_id}?done=committed", 303)


@bp.post(f"{PATH}/<int:upload_id>/undo")
@require_person("partner")
def undo(upload_id: int) -> Response | tuple[str, int]:
    upload = _own_upload(upload_id, lock=True)
    form = UndoForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _render_upload(_own_upload(upload_id), 400, undo=form)
    if upload.state == "committed" and not form.confirm.data:
        db.session.rollback()
        form.confirm.errors = [_l("Tick the box to confirm: every line's points are taken back.")]
        return _render_upload(_own_upload(upload_id), 422, undo=form)
    try:
        undo_upload(upload, person_actor())
    except BookingRefused as error:
        db.session.rollback()
        return _render_upload(_own_upload(upload_id), 409, str(error))
    db.session.commit()
    return redirect(f"{PATH}/{upload_id}?done={upload.state}", 303)


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "partner", PATH, _l("Sell-out"), order=33)
    conflict_pages.register(app)
