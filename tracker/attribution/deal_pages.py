"""The partner's deal registrations: register a customer and see each registration's state.

Registering goes through ``tracker.attribution.deals`` as the API does (exactly one of domain or tax id,
first come first served for the offer's period); the offer must be active, as the API requires.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from core.db import db, utcnow
from core.people.access import current_person, require_person
from core.people.navigation import add_portal_page
from tracker.attribution.deals import DealRefused, register_deal, registration_key
from tracker.attribution.models import DealRegistration
from tracker.program.models import Offer

bp = Blueprint("deal_pages", __name__)


class DealForm(FlaskForm):
    offer_id = SelectField(_l("Offer"), coerce=int, validate_choice=True)
    company_domain = StringField(_l("Company domain"), validators=[Length(max=253)])
    tax_id = StringField(_l("Company tax id"), validators=[Length(max=64)])
    company_name = StringField(_l("Company name"), validators=[Length(max=200)])

    def fill_choices(self) -> None:
        # A partner may register deals on the active offers, the ones the API shows a partner key.
        offers = db.session.execute(select(Offer.id, Offer.name).where(Offer.status == "active").order_by(Offer.name))
        self.offer_id.choices = [SelectChoice(offer_id, name) for offer_id, name in offers]

    def blank_to_none(self, field: StringField) -> str | None:
        return (field.data or "").strip() or None


def _own_partner_id() -> int:
    person = current_person()
    if person is None or person.partner_id is None:  # require_person("partner") lets only a partner in
        abort(403)
    return person.partner_id


def _registrations(partner_id: int) -> list[tuple[DealRegistration, str]]:
    rows = db.session.execute(
        select(DealRegistration, Offer.name)
        .join(Offer, Offer.id == DealRegistration.offer_id)
        .where(DealRegistration.partner_id == partner_id)
        .order_by(DealRegistration.registered_at.desc(), DealRegistration.id.desc())
    )
    return [(registration, offer_name) for registration, offer_name in rows.tuples()]


def _render(form: DealForm, status: int = 200, **notices: object) -> tuple[str, int]:
    page = render_template(
        "partner/deals.html", form=form, rows=_registrations(_own_partner_id()), now=utcnow(), **notices
    )
    return page, status


@bp.get("/portal/deals")
@require_person("partner")
def deals() -> tuple[str, int]:
    form = DealForm(formdata=None)
    form.fill_choices()
    return _render(form, registered=request.args.get("registered", type=int))


@bp.post("/portal/deals")
@require_person("partner")
def create_registration() -> Response | tuple[str, int]:
    partner_id = _own_partner_id()
    form = DealForm()
    form.fill_choices()
    if not form.validate_on_submit():
        return _render(form, 400)
    offer = db.session.get(Offer, form.offer_id.data)
    if offer is None or offer.status != "active":  # paused between showing the form and sending it
        form.offer_id.errors = [_l("This offer is not active; deal registrations need an active offer.")]
        return _render(form, 422)
    try:
        key = registration_key(form.blank_to_none(form.company_domain), form.blank_to_none(form.tax_id))
        registration = register_deal(offer, partner_id, key, (form.company_name.data or "").strip(), utcnow())
    except DealRefused as refusal:
        # The service's own reason, as the API answers it: a conflict or a malformed company key.
        return _render(form, 409 if "registered" in str(refusal) else 422, refused=str(refusal))
    return redirect(f"/portal/deals?registered={registration.id}", 303)


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "partner", "/portal/deals", _l("Deal registrations"), order=65)
