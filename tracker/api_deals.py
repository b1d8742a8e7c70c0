"""Deal registrations and coupons: the carriers a partner holds before any click or lead exists."""
from __future__ import annotations

from flask import Blueprint
from spectree import Response
from sqlalchemy import select

from core.auth import Principal, principal, require_roles
from core.db import db, utcnow
from core.errors import ApiError, commit_or_conflict
from core.openapi import api_spec
from tracker.api_conversions import actor_name
from tracker.conversion_models import Coupon, DealRegistration
from tracker.conversion_schemas import (
    CouponIn,
    CouponList,
    CouponOut,
    DealRegistrationIn,
    DealRegistrationList,
    DealRegistrationOut,
    ReassignIn,
)
from tracker.deals import DealRefused, reassign_deal, register_deal, registration_key
from tracker.models import Offer, Partner
from tracker.schemas import ListQuery
from tracker.scopes import owned_partner_id

bp = Blueprint("deals_api", __name__, url_prefix="/api/v1")
ERRORS = {"HTTP_401": None, "HTTP_403": None, "HTTP_404": None, "HTTP_409": None, "HTTP_422": None}


def _scoped(model, who: Principal):
    query = select(model)
    if who.role == "partner":
        query = query.where(model.partner_id == who.partner_id)
    elif who.role == "advertiser":
        query = query.join(Offer, model.offer_id == Offer.id).where(Offer.advertiser_id == who.advertiser_id)
    return query


def _active_offer(offer_id: int) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        raise ApiError(422, f"offer {offer_id} does not exist")
    return offer


def _existing_partner(partner_id: int) -> Partner:
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise ApiError(422, f"partner {partner_id} does not exist")
    return partner


@bp.post("/deal-registrations")
@require_roles("admin", "partner")
@api_spec.validate(json=DealRegistrationIn, resp=Response(HTTP_201=DealRegistrationOut, **ERRORS), tags=["deals"])
def create_deal_registration(json: DealRegistrationIn):
    """Register a prospect company; the first valid registration holds it for the offer's period."""
    partner_id = owned_partner_id(principal(), json.partner_id)
    _existing_partner(partner_id)
    offer = _active_offer(json.offer_id)
    try:
        key = registration_key(json.company_domain, json.tax_id)
        registration = register_deal(offer, partner_id, key, json.company_name, utcnow())
    except DealRefused as exc:
        status = 409 if "registered" in str(exc) else 422
        raise ApiError(status, str(exc)) from None
    return DealRegistrationOut.model_validate(registration), 201


@bp.get("/deal-registrations")
@require_roles("admin", "finance", "advertiser", "partner")
@api_spec.validate(query=ListQuery, resp=Response(HTTP_200=DealRegistrationList, **ERRORS), tags=["deals"])
def list_deal_registrations(query: ListQuery):
    statement = _scoped(DealRegistration, principal()).order_by(DealRegistration.id.desc())
    rows = db.session.scalars(statement.limit(query.limit).offset(query.offset))
    return DealRegistrationList(items=[DealRegistrationOut.model_validate(r) for r in rows])


@bp.post("/deal-registrations/<int:registration_id>/reassign")
@require_roles("admin")
@api_spec.validate(json=ReassignIn, resp=Response(HTTP_200=DealRegistrationOut, **ERRORS), tags=["deals"])
def reassign_deal_registration(registration_id: int, json: ReassignIn):
    registration = db.session.get(DealRegistration, registration_id)
    if registration is None:
        raise ApiError(404, f"deal registration {registration_id} not found")
    _existing_partner(json.partner_id)
    return DealRegistrationOut.model_validate(
        reassign_deal(registration, json.partner_id, actor_name(principal()), json.reason))


@bp.post("/coupons")
@require_roles("admin", "advertiser")
@api_spec.validate(json=CouponIn, resp=Response(HTTP_201=CouponOut, **ERRORS), tags=["deals"])
def create_coupon(json: CouponIn):
    who = principal()
    offer = _active_offer(json.offer_id)
    if who.role == "advertiser" and offer.advertiser_id != who.advertiser_id:
        raise ApiError(403, "an advertiser key creates coupons only for its own offers")
    _existing_partner(json.partner_id)
    coupon = Coupon(code=json.code.upper(), partner_id=json.partner_id, offer_id=offer.id)
    db.session.add(coupon)
    # Codes are unique whatever their case; the constraint settles two creators racing for one.
    commit_or_conflict(f"coupon code {json.code.upper()!r} is taken")
    return CouponOut.model_validate(coupon), 201


@bp.get("/coupons")
@require_roles("admin", "finance", "advertiser", "partner")
@api_spec.validate(query=ListQuery, resp=Response(HTTP_200=CouponList, **ERRORS), tags=["deals"])
def list_coupons(query: ListQuery):
    rows = db.session.scalars(_scoped(Coupon, principal()).order_by(Coupon.id).limit(query.limit).offset(query.offset))
    return CouponList(items=[CouponOut.model_validate(c) for c in rows])
