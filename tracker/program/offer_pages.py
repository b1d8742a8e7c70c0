"""The advertiser's offers: create, pause, allowed hosts, windows, the commission plan editor and ready snippets.

Every change goes through the API's own schemas (OfferIn, OfferPatch), so the page says what the API says.
The commission plan belongs to payouts; its editor is payouts.commissions.pages, linked from here by path.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from core.db import db
from core.people.access import require_person
from core.people.navigation import add_portal_page
from tracker.program.models import Offer
from tracker.program.offer_forms import OfferCreateForm, OfferSettingsForm, StatusForm
from tracker.program.portal import field_errors, own_offer, own_offers, show_errors, signed_in
from tracker.program.schemas import OfferIn, OfferPatch
from tracker.program.snippets import offer_snippets
from tracker.services import tracker

bp = Blueprint("offer_pages", __name__)
# Fields of OfferIn the create form does not offer; the ceiling is set through the API.
NOT_ON_THE_FORM = {"advertiser_id", "review_above_amount", "review_above_currency"}


def _render_list(form: OfferCreateForm, status: int = 200, problems: list[str] | None = None) -> tuple[str, int]:
    page = render_template("advertiser/offers.html", offers=own_offers(), form=form, problems=problems or [])
    return page, status


@bp.get("/portal/offers")
@require_person("advertiser")
def offers() -> tuple[str, int]:
    return _render_list(OfferCreateForm(formdata=None))


@bp.post("/portal/offers")
@require_person("advertiser")
def create_offer() -> Response | tuple[str, int]:
    form = OfferCreateForm()
    if not form.validate_on_submit():
        return _render_list(form, 400)
    try:
        checked = OfferIn.model_validate(form.values())
    except ValidationError as error:
        return _render_list(form, 400, show_errors(form, field_errors(error)))
    offer = Offer(**checked.model_dump(exclude=NOT_ON_THE_FORM), advertiser_id=signed_in().advertiser_id)
    db.session.add(offer)
    try:
        db.session.commit()
    except IntegrityError:
        # Two creators may race for one slug; the unique constraint decides, as it does for the API.
        db.session.rollback()
        form.slug.errors = [f"an offer with slug {checked.slug!r} already exists"]
        return _render_list(form, 409)
    return redirect(f"/portal/offers/{offer.id}?done=created")


def _render_offer(offer: Offer, settings: OfferSettingsForm | None = None, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "advertiser/offer.html",
        offer=offer,
        settings=settings or OfferSettingsForm.of(offer),
        status_form=StatusForm(formdata=None),
        snippets=offer_snippets(offer),
        done=request.args.get("done"),
    )
    return page, status


@bp.get("/portal/offers/<int:offer_id>")
@require_person("advertiser")
def offer_page(offer_id: int) -> tuple[str, int]:
    return _render_offer(own_offer(offer_id))


def _apply(offer: Offer, patch: OfferPatch) -> None:
    for name, value in patch.model_dump(exclude_unset=True).items():
        setattr(offer, name, value)
    db.session.commit()
    # As the API's PATCH: other nodes see the change when their link cache entries expire.
    tracker().links.forget()


@bp.post("/portal/offers/<int:offer_id>/settings")
@require_person("advertiser")
def save_settings(offer_id: int) -> Response | tuple[str, int]:
    offer = own_offer(offer_id)
    form = OfferSettingsForm()
    if not form.validate_on_submit():
        return _render_offer(offer, form, 400)
    try:
        patch = OfferPatch.model_validate(form.values())
    except ValidationError as error:
        show_errors(form, field_errors(error))
        return _render_offer(offer, form, 400)
    _apply(offer, patch)
    return redirect(f"/portal/offers/{offer.id}?done=saved")


@bp.post("/portal/offers/<int:offer_id>/status")
@require_person("advertiser")
def change_status(offer_id: int) -> Response | tuple[str, int]:
    offer = own_offer(offer_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return _render_offer(offer, status=400)
    _apply(offer, OfferPatch.model_validate({"status": form.status.data}))
    return redirect(f"/portal/offers/{offer.id}?done={offer.status}")


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "advertiser", "/portal/offers", _l("Offers"), order=10)
