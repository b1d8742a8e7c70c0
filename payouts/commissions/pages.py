"""The advertiser's commission plan editor for one of its offers, at /portal/offers/<id>/commission-plan.

The plan is checked by ``parse_plan``, as PUT /api/v1/offers/<id>/commission-plan checks it, so the page
refuses what the API refuses with the same message. Payouts owns plans; the offer page links here by path.
"""

from __future__ import annotations

import json

from flask import Blueprint, Flask, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms import TextAreaField

from core.db import db, utcnow
from core.people.access import require_person
from payouts.commissions.models import CommissionPlan
from payouts.commissions.rules import PlanError, parse_plan
from payouts.ledger.schemas import PlanIn
from tracker.program.models import Offer
from tracker.program.portal import all_messages, own_offer, person_actor

bp = Blueprint("commission_plan_pages", __name__)
# What an offer without a plan starts from: the shape payouts/commissions/rules.py describes.
EXAMPLE_PLAN = {"currency": "EUR", "events": {"lead": {"flat": "10.00"}, "sale": {"percent": "8"}}}


class PlanForm(FlaskForm):
    plan = TextAreaField(_l("Plan (JSON)"))


def _stored(offer: Offer) -> CommissionPlan | None:
    return db.session.scalar(select(CommissionPlan).where(CommissionPlan.offer_id == offer.id))


def _render(offer: Offer, form: PlanForm, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "advertiser/commission_plan.html",
        offer=offer,
        form=form,
        stored=_stored(offer),
        saved=request.args.get("saved") == "1",
    )
    return page, status


@bp.get("/portal/offers/<int:offer_id>/commission-plan")
@require_person("advertiser")
def plan_page(offer_id: int) -> tuple[str, int]:
    offer = own_offer(offer_id)
    row = _stored(offer)
    text = json.dumps(row.plan if row else EXAMPLE_PLAN, indent=2, ensure_ascii=False)
    return _render(offer, PlanForm(formdata=None, data={"plan": text}))


def checked_plan(text: str) -> dict:
    """The plan typed, as the API would take it; a ValueError says what is wrong, in the API's words."""
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(_("The plan is not valid JSON: %(problem)s", problem=str(error))) from None
    try:
        PlanIn.model_validate({"plan": plan})
    except ValidationError as error:
        raise ValueError(all_messages(error)) from None
    try:
        parse_plan(plan)
    except PlanError as error:
        raise ValueError(str(error)) from None
    return plan


@bp.post("/portal/offers/<int:offer_id>/commission-plan")
@require_person("advertiser")
def save_plan(offer_id: int) -> Response | tuple[str, int]:
    offer = own_offer(offer_id)
    form = PlanForm()
    if not form.validate_on_submit():
        return _render(offer, form, 400)
    try:
        plan = checked_plan(form.plan.data or "")
    except ValueError as error:
        form.plan.errors = [str(error)]
        return _render(offer, form, 422)
    row = _stored(offer)
    if row is None:
        row = CommissionPlan(offer_id=offer.id)
        db.session.add(row)
    row.plan, row.updated_at, row.updated_by = plan, utcnow(), person_actor()
    try:
        db.session.commit()
    except IntegrityError:
        # Two first saves for one offer race to insert; the unique offer_id keeps one, as for the API.
        db.session.rollback()
        form.plan.errors = [f"offer {offer.id}'s plan was set by another request at the same moment; retry"]
        return _render(offer, form, 409)
    return redirect(f"/portal/offers/{offer.id}/commission-plan?saved=1")


def register(app: Flask) -> None:
    """The blueprint; the page is reached from the offer page, so it has no menu entry of its own."""
    app.register_blueprint(bp)
