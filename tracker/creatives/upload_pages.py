"""The advertiser's banners: upload (type, size and dimension checks, SVG sanitised or refused), list, retire.

An upload is checked whole before anything is written (tracker.creatives.uploads); the file goes to the
instance folder's banners/ under a generated name, and its row is what GET /api/v1/banners lists.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import PurePath

from flask import Blueprint, Flask, abort, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import Length, Optional

from core.db import db
from core.people.access import require_person
from tracker.creatives.files import upload_folder
from tracker.creatives.models import Banner
from tracker.creatives.uploads import MAX_BYTES, SUFFIXES, BannerRefused, CheckedBanner, check_banner
from tracker.program.models import Offer
from tracker.program.portal import own_offer, person_actor

bp = Blueprint("banner_uploads", __name__)


class UploadForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    file = FileField(_l("Image file (PNG, JPEG, GIF or SVG)"))


def _banners(offer: Offer) -> list[Banner]:
    statement = select(Banner).where(Banner.offer_id == offer.id).order_by(Banner.active.desc(), Banner.id.desc())
    return list(db.session.scalars(statement))


def _render(offer: Offer, form: UploadForm, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "advertiser/banners.html",
        offer=offer,
        form=form,
        banners=_banners(offer),
        done=request.args.get("done"),
        max_kb=MAX_BYTES // 1024,
    )
    return page, status


@bp.get("/portal/offers/<int:offer_id>/banners")
@require_person("advertiser")
def banners(offer_id: int) -> tuple[str, int]:
    return _render(own_offer(offer_id), UploadForm(formdata=None))


def _store(offer: Offer, name: str, data: bytes, checked: CheckedBanner) -> Banner:
    # A generated name: the uploader's file name never reaches the disk nor the URL.
    file_name = f"upload-{offer.id}-{secrets.token_hex(8)}{SUFFIXES[checked.mime_type]}"
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name
    path.write_bytes(data)
    banner = Banner(
        offer_id=offer.id,
        name=name or f"{offer.name} {checked.width}x{checked.height}",
        width=checked.width,
        height=checked.height,
        mime_type=checked.mime_type,
        file_name=file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        created_by=person_actor(),
    )
    db.session.add(banner)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        path.unlink(missing_ok=True)  # no file is left without its row
        raise
    return banner


def _uploaded_name(form: UploadForm) -> str:
    upload = form.file.data
    return PurePath(getattr(upload, "filename", "") or "").name


@bp.post("/portal/offers/<int:offer_id>/banners")
@require_person("advertiser")
def upload(offer_id: int) -> Response | tuple[str, int]:
    offer = own_offer(offer_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _render(offer, form, 400)
    upload = form.file.data
    # One byte past the limit is enough to know the file is too large, without reading the rest.
    data = upload.stream.read(MAX_BYTES + 1) if upload else b""
    try:
        checked = check_banner(data, _uploaded_name(form), getattr(upload, "mimetype", None))
    except BannerRefused as refused:
        form.file.errors = [str(refused)]
        return _render(offer, form, 422)
    banner = _store(offer, (form.name.data or "").strip(), data, checked)
    return redirect(f"/portal/offers/{offer.id}/banners?done=uploaded#banner-{banner.id}")


@bp.post("/portal/offers/<int:offer_id>/banners/<int:banner_id>/retire")
@require_person("advertiser")
def retire(offer_id: int, banner_id: int) -> Response:
    offer = own_offer(offer_id)
    banner = db.session.scalar(select(Banner).where(Banner.id == banner_id, Banner.offer_id == offer.id))
    if banner is None:
        abort(404)
    # The CSRF token was checked (core.people.browser) before this ran.
    banner.active = False
    db.session.commit()
    return redirect(f"/portal/offers/{offer.id}/banners?done=retired")


def register(app: Flask) -> None:
    """The blueprint; the page is reached from the offer page, so it has no menu entry of its own."""
    app.register_blueprint(bp)
