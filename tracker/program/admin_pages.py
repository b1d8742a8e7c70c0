"""The admins' pages for the program: partners (tier, parent, status) and offers (pause, resume)."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from core.db import db
from core.people.access import require_person
from core.people.navigation import add_portal_page
from tracker.program.labels import OFFER_STATUS_NAMES, PARTNER_KIND_NAMES, PARTNER_STATUS_NAMES, choices
from tracker.program.models import Offer, Partner
from tracker.program.partners import PartnerRefused, add_partner, change_partner, checked_values, partner_values
from tracker.program.schemas import OfferPatch
from tracker.services import tracker

bp = Blueprint("program_admin_pages", __name__)
NO_PARENT = ""


class PartnerChangeForm(FlaskForm):
    """What an admin changes on an existing partner; everything else stays as the partner gave it."""

    tier = StringField(_l("Tier"), validators=[DataRequired(), Length(max=32)])
    parent_id = SelectField(_l("Parent partner"), validate_choice=True)
    status = SelectField(_l("Status"), choices=choices(PARTNER_STATUS_NAMES))

    def fill_choices(self, editing: Partner | None = None) -> None:
        # Only partners without a parent can be one (one level of nesting), never the partner itself.
        rows = db.session.scalars(select(Partner).where(Partner.parent_id.is_(None)).order_by(Partner.name))
        self.parent_id.choices = [SelectChoice(NO_PARENT, "—")] + [
            SelectChoice(str(row.id), f"{row.name} (#{row.id})") for row in rows if row is not editing
        ]

    def changes(self) -> dict[str, object]:
        parent = self.parent_id.data
        return {"tier": self.tier.data, "parent_id": int(parent) if parent else None, "status": self.status.data}


class PartnerForm(PartnerChangeForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    contact_email = EmailField(_l("Contact email"), validators=[DataRequired(), Length(max=254)])
    kind = SelectField(_l("Kind"), choices=choices(PARTNER_KIND_NAMES))
    country = StringField(_l("Country (ISO code, e.g. DE)"), validators=[DataRequired(), Length(max=2)])

    def values(self) -> dict[str, object]:
        named = {"name": self.name.data, "contact_email": self.contact_email.data, "kind": self.kind.data}
        return named | {"country": self.country.data} | self.changes()


def show_refusal(form: FlaskForm, refusal: PartnerRefused) -> None:
    """Each reason next to its field; one that names no field of this form (the parent's rules) under the parent."""
    for name, reasons in (refusal.fields or {"parent_id": [str(refusal)]}).items():
        field = getattr(form, name, None) or form.parent_id
        field.errors = [*field.errors, *reasons]


def _partners_page(form: PartnerForm, status: int = 200, saved: Partner | None = None) -> tuple[str, int]:
    partners = db.session.scalars(select(Partner).order_by(Partner.id)).all()
    page = render_template(
        "admin/partners.html",
        form=form,
        partners=partners,
        saved=saved,
        kind_names=PARTNER_KIND_NAMES,
        status_names=PARTNER_STATUS_NAMES,
    )
    return page, status


@bp.get("/admin/partners")
@require_person("admin")
def partners() -> tuple[str, int]:
    form = PartnerForm(tier="standard", status="active")
    form.fill_choices()
    saved_id = request.args.get("saved", type=int)
    return _partners_page(form, saved=db.session.get(Partner, saved_id) if saved_id else None)


@bp.post("/admin/partners")
@require_person("admin")
def create_partner() -> Response | tuple[str, int]:
    form = PartnerForm()
    form.fill_choices()
    if not form.validate_on_submit():
        return _partners_page(form, 400)
    try:
        partner = add_partner(checked_values(form.values()))
    except PartnerRefused as refusal:
        db.session.rollback()
        show_refusal(form, refusal)
        return _partners_page(form, 400)
    db.session.commit()
    return redirect(f"/admin/partners?saved={partner.id}")


def _partner_or_404(partner_id: int) -> Partner:
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        abort(404)
    return partner


def _edit_page(partner: Partner, form: PartnerChangeForm, status: int = 200) -> tuple[str, int]:
    page = render_template("admin/partner_edit.html", partner=partner, form=form, kind_names=PARTNER_KIND_NAMES)
    return page, status


@bp.get("/admin/partners/<int:partner_id>")
@require_person("admin")
def edit_partner(partner_id: int) -> tuple[str, int]:
    partner = _partner_or_404(partner_id)
    form = PartnerChangeForm(tier=partner.tier, parent_id=str(partner.parent_id or NO_PARENT), status=partner.status)
    form.fill_choices(partner)
    return _edit_page(partner, form)


@bp.post("/admin/partners/<int:partner_id>")
@require_person("admin")
def save_partner(partner_id: int) -> Response | tuple[str, int]:
    partner = _partner_or_404(partner_id)
    form = PartnerChangeForm()
    form.fill_choices(partner)
    if not form.validate_on_submit():
        return _edit_page(partner, form, 400)
    try:
        change_partner(partner, checked_values(partner_values(partner) | form.changes()))
    except PartnerRefused as refusal:
        db.session.rollback()
        show_refusal(form, refusal)
        return _edit_page(partner, form, 400)
    db.session.commit()
    return redirect(f"/admin/partners?saved={partner.id}")


@bp.get("/admin/offers")
@require_person("admin")
def offers() -> str:
    rows = db.session.scalars(select(Offer).order_by(Offer.id)).all()
    changed_id = request.args.get("changed", type=int)
    changed = db.session.get(Offer, changed_id) if changed_id else None
    return render_template("admin/offers.html", offers=rows, changed=changed, status_names=OFFER_STATUS_NAMES)


@bp.post("/admin/offers/<int:offer_id>/status")
@require_person("admin")
def set_offer_status(offer_id: int) -> Response:
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        abort(404)
    # The API's own patch schema: the page can set only what PATCH /api/v1/offers/<id> accepts.
    try:
        patch = OfferPatch.model_validate({"status": request.form.get("status", "")})
    except ValidationError:
        abort(400)
    if patch.status is None:  # the schema lets a patch leave the status out; this form always sends one
        abort(400)
    offer.status = patch.status
    db.session.commit()
    # As the API does: this worker forgets its cached links now; others when their entries expire.
    tracker().links.forget()
    return redirect(f"/admin/offers?changed={offer.id}")


def register(app: Flask) -> None:
    """The blueprint and this module's entries in the portal menu (core.people.navigation.add_portal_page)."""
    app.register_blueprint(bp)
    add_portal_page(app, "admin", "/admin/partners", _l("Partners"), order=20)
    add_portal_page(app, "admin", "/admin/offers", _l("Offers"), order=30)
